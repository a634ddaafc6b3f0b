import {
  Badge,
  Box,
  Button,
  Code,
  Group,
  NativeSelect,
  Paper,
  Switch,
  Text,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LogLevel } from '../../domain/run-log-lines';
import { basePath } from '../api/base';
import { api, qs } from '../api/client';

/** `GET /api/operations/:id/logs` (src/http/routes/logs.ts). */
interface LogLine {
  seq: number;
  attempt: number;
  at: string;
  level: LogLevel;
  message: string;
  fields: Record<string, unknown> | null;
}
interface LogPage {
  items: LogLine[];
  nextAfter: number;
  truncated: boolean;
}

const LEVELS: Array<{ value: LogLevel; label: string }> = [
  { value: 'debug', label: 'Debug and above' },
  { value: 'info', label: 'Info and above' },
  { value: 'warn', label: 'Warnings and errors' },
  { value: 'error', label: 'Errors only' },
];
const TONE: Record<LogLevel, string> = {
  debug: 'gray',
  info: 'blue',
  warn: 'yellow',
  error: 'red',
};
const PAGE = 1000;

/**
 * The handler's log on its run's page (DESIGN §18): the lines at the chosen level and above, read
 * on with `after`. Following, a stream about this run (`/api/stream?run=`) says when lines were
 * written, so the panel reads on at once instead of polling; it follows while the run is active.
 */
export function RunLogPanel({ run }: { run: { id: string; truth: { bucket: string } } }) {
  const active = run.truth.bucket === 'active' || run.truth.bucket === 'active_stale';
  const [level, setLevel] = useState<LogLevel>('debug');
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [truncated, setTruncated] = useState(false);
  const [failed, setFailed] = useState<string | undefined>();
  const after = useRef(0);
  const reading = useRef<Promise<void> | undefined>(undefined);
  const again = useRef(false);
  const generation = useRef(0);
  const box = useRef<HTMLDivElement>(null);

  /** Reads every line after the last one read; a call while one runs reads once more after it. */
  const readOn = useCallback(() => {
    if (reading.current) {
      again.current = true;
      return;
    }
    const mine = generation.current;
    let read: Promise<void> | undefined;
    read = (async () => {
      try {
        for (;;) {
          const page = await api<LogPage>(
            `/api/operations/${run.id}/logs${qs({ after: after.current, level, limit: PAGE })}`,
          );
          if (mine !== generation.current) return;
          after.current = page.nextAfter;
          setTruncated(page.truncated);
          if (page.items.length) setLines((shown) => appended(shown, page.items));
          setFailed(undefined);
          if (page.items.length < PAGE && !again.current) return;
          again.current = false;
        }
      } catch (error) {
        if (mine === generation.current) setFailed((error as Error).message);
      } finally {
        if (reading.current === read) reading.current = undefined;
      }
    })();
    reading.current = read;
  }, [run.id, level]);

  // A new level reads the log again from its start.
  useEffect(() => {
    generation.current++;
    after.current = 0;
    again.current = false;
    reading.current = undefined;
    setLines([]);
    readOn();
  }, [readOn]);

  // The run ended: its last lines were written before its end, so one more read has them all.
  useEffect(() => {
    if (!active) readOn();
  }, [active, readOn]);

  useEffect(() => {
    if (!follow || !active) return;
    const source = new EventSource(`${basePath}/api/stream?run=${encodeURIComponent(run.id)}`);
    source.addEventListener('log', () => readOn());
    // (Re)connected: whatever was written meanwhile is read now.
    source.addEventListener('ready', () => readOn());
    source.addEventListener('resync', () => readOn());
    return () => source.close();
  }, [follow, active, run.id, readOn]);

  useEffect(() => {
    const el = box.current;
    if (follow && el && lines.length) el.scrollTop = el.scrollHeight;
  }, [follow, lines]);

  const download = () => {
    const text = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
    const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `run-${run.id}.ndjson`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <Paper withBorder p="md" data-testid="run-log">
      <Group justify="space-between" mb="xs" wrap="wrap" gap="xs">
        <Title order={2} size="h5">
          Log
        </Title>
        <Group gap="sm" wrap="wrap">
          <NativeSelect
            aria-label="Lowest level shown"
            size="xs"
            data={LEVELS}
            value={level}
            onChange={(event) => setLevel(event.currentTarget.value as LogLevel)}
          />
          <Switch
            label="Follow"
            size="sm"
            checked={follow && active}
            disabled={!active}
            onChange={(event) => setFollow(event.currentTarget.checked)}
          />
          <Button size="xs" variant="default" disabled={!lines.length} onClick={download}>
            Download NDJSON
          </Button>
        </Group>
      </Group>
      {truncated && (
        <Text size="sm" c="dimmed" mb="xs">
          This run logged more than it may keep; later lines were dropped and counted.
        </Text>
      )}
      {failed && (
        <Text size="sm" c="red" mb="xs" role="alert">
          Could not read the log: {failed}
        </Text>
      )}
      <Box
        ref={box}
        role="log"
        aria-label="Run log lines"
        tabIndex={0}
        mah={420}
        style={{ overflow: 'auto' }}
        ff="monospace"
        fz="xs"
      >
        {lines.length === 0 ? (
          <Text size="sm" c="dimmed">
            {active ? 'No lines yet.' : 'This run logged nothing.'}
          </Text>
        ) : (
          lines.map((line) => <Line key={line.seq} line={line} />)
        )}
      </Box>
    </Paper>
  );
}

function Line({ line }: { line: LogLine }) {
  return (
    <Group
      gap={6}
      wrap="nowrap"
      align="baseline"
      py={2}
      data-level={line.level}
      data-seq={line.seq}
    >
      <Text span fz="xs" c="dimmed" title={line.at} style={{ whiteSpace: 'nowrap' }}>
        {new Date(line.at).toLocaleTimeString(undefined, { hour12: false })}
      </Text>
      <Text span fz="xs" c="dimmed" title={`attempt ${line.attempt}`}>
        #{line.attempt}
      </Text>
      <Badge size="xs" variant="light" color={TONE[line.level]} style={{ flexShrink: 0 }}>
        {line.level}
      </Badge>
      <Text span fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {line.message}
        {line.fields && (
          <Code ml={6} fz="xs">
            {JSON.stringify(line.fields)}
          </Code>
        )}
      </Text>
    </Group>
  );
}

/** New lines after the shown ones; the one "N lines dropped" line moves to the end, so the old one goes. */
function appended(shown: LogLine[], items: LogLine[]): LogLine[] {
  const last = shown.at(-1)?.seq ?? 0;
  const fresh = items.filter((line) => line.seq > last);
  const dropped = fresh.some(isDroppedLine);
  return [...(dropped ? shown.filter((line) => !isDroppedLine(line)) : shown), ...fresh];
}

function isDroppedLine(line: LogLine): boolean {
  return (
    line.level === 'warn' &&
    typeof line.fields?.dropped === 'number' &&
    /^\d+ lines? dropped/.test(line.message)
  );
}

import { Alert, Anchor, Badge, Button, Code, Loader, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { WorkerView } from '../../../http/schemas';
import { ApiError, api } from '../../api/client';
import { useShell } from '../../app/workspace';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';
import { DataList } from '../settings/DataList';

/** Running runs shown before "Show all". */
const FIRST_RUNS = 5;

const STATE = {
  alive: { label: 'Alive', color: 'green' },
  silent: { label: 'Silent', color: 'orange' },
  stopped: { label: 'Stopped', color: 'gray' },
} as const;

/** Every worker with its state; re-read every few seconds while open. */
function useWorkers() {
  return useQuery({
    queryKey: ['system', 'workers'],
    queryFn: () => api<{ items: WorkerView[] }>('/api/system/workers'),
    refetchInterval: 5_000,
    // Denied answers (403/404) are final: no retry before the page says "not found".
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  });
}

/**
 * `/system/workers`: the worker processes for platform staff (system.ops.view, DESIGN §18): host,
 * pid, release, types, job slots, running runs, started and last seen, and the state the server
 * judged (alive / silent / stopped). A silent worker's runs lead to their triage view.
 */
export function WorkersPage() {
  const { me } = useShell();
  const workers = useWorkers();
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  const items = workers.data?.items ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Workers
      </Title>
      <Text size="sm" c="dimmed">
        The worker processes, newest first. A worker is silent once 3 of its heartbeats are missing,
        and stopped when it stops or the reconciler declares it dead; stopped workers are listed for
        a day.
      </Text>
      {workers.isPending ? (
        <Loader aria-label="Loading" />
      ) : workers.isError ? (
        <Alert color="red" role="alert">
          {workers.error.message}
        </Alert>
      ) : items.length === 0 ? (
        <Text size="sm">No worker has run in the last day.</Text>
      ) : (
        <DataList
          testId="workers"
          minWidth={960}
          rows={items}
          rowKey={(w) => w.id}
          attrs={(w) => ({ 'data-worker': w.id, 'data-state': w.state })}
          columns={[
            { label: 'Worker', cell: (w) => <WorkerName worker={w} /> },
            { label: 'State', cell: (w) => <WorkerState worker={w} /> },
            {
              label: 'Types',
              cell: (w) => (
                <Text size="xs" data-testid="worker-types" style={{ overflowWrap: 'break-word' }}>
                  {w.types.length ? w.types.join(', ') : '—'}
                </Text>
              ),
            },
            {
              label: 'Slots',
              cell: (w) => (
                <Text size="sm" data-testid="worker-slots">
                  {w.liveSlots} of {w.concurrency} live
                </Text>
              ),
            },
            { label: 'Running', wide: true, cell: (w) => <Running worker={w} /> },
            { label: 'Started', cell: (w) => <Ago iso={w.startedAt} size="sm" /> },
          ]}
        />
      )}
    </Stack>
  );
}

function WorkerName({ worker }: { worker: WorkerView }) {
  return (
    // A pod's host name and the id made of it are long: they wrap rather than widen a phone's card.
    <Stack gap={2} style={{ overflowWrap: 'break-word' }}>
      <Text size="sm" fw={500} data-testid="worker-host">
        {worker.host} · pid {worker.pid}
      </Text>
      <div>
        <Code data-testid="worker-id">{worker.id}</Code>
      </div>
      <Text size="xs" c="dimmed" data-testid="worker-version">
        {worker.version ? `v${worker.version}` : 'version not recorded'}
      </Text>
    </Stack>
  );
}

function WorkerState({ worker }: { worker: WorkerView }) {
  const state = STATE[worker.state];
  return (
    <Stack gap={2} align="flex-start">
      <Badge variant="light" color={state.color} data-testid="worker-state">
        {state.label}
      </Badge>
      <Ago iso={worker.lastSeenAt} prefix="last heartbeat" />
      {worker.stoppedAt && <Ago iso={worker.stoppedAt} prefix="stopped" />}
    </Stack>
  );
}

function Running({ worker }: { worker: WorkerView }) {
  const [all, setAll] = useState(false);
  const { count, runs } = worker.running;
  if (count === 0)
    return (
      <Text size="sm" data-testid="worker-running">
        None
      </Text>
    );
  const silent = worker.state !== 'alive';
  const shown = all ? runs : runs.slice(0, FIRST_RUNS);
  const unlisted = count - runs.length;
  return (
    <Stack gap={4} align="flex-start" data-testid="worker-running">
      <Text size="sm">{count === 1 ? '1 run' : `${count.toLocaleString()} runs`}</Text>
      {silent && (
        <Text size="xs" data-testid="worker-stranded">
          Its heartbeats stopped: these runs get no heartbeat until the reconciler ends them.{' '}
          <Anchor component={Link} to="/system/ops/stuck" size="xs" underline="always">
            Stuck runs
          </Anchor>
        </Text>
      )}
      <Stack gap={2}>
        {shown.map((run) => (
          <Anchor
            key={run.id}
            component={Link}
            to={run.link}
            size="xs"
            ff="monospace"
            data-run-id={run.id}
            title={`Run ${run.id}`}
          >
            {run.type} · {run.id.slice(-8)}
          </Anchor>
        ))}
      </Stack>
      {runs.length > FIRST_RUNS && (
        <Button variant="subtle" size="compact-xs" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${runs.length}`}
        </Button>
      )}
      {unlisted > 0 && (
        <Text size="xs" c="dimmed">
          and {unlisted.toLocaleString()} more not listed
        </Text>
      )}
    </Stack>
  );
}

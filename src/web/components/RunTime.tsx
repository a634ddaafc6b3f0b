import { Text } from '@mantine/core';
import { Fragment, useEffect, useState } from 'react';
import { formatAbsolute, formatAgo, type RunTimes, runTimePhrases } from './time';

/** The current time, re-read every `intervalMs`, so "3 min ago" keeps up while a page is open. */
export function useNow(intervalMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** "started 3 min ago · last heartbeat 40 s ago", each with its absolute time on hover. */
export function RunTimeLine({ run, size = 'xs' }: { run: RunTimes; size?: string }) {
  const now = useNow();
  return (
    <Text size={size} c="dimmed" data-testid="run-time">
      {runTimePhrases(run, now).map((phrase, i) => (
        <Fragment key={phrase.key}>
          {i > 0 ? ' · ' : ''}
          <span
            title={
              phrase.from
                ? `${formatAbsolute(phrase.from)} – ${formatAbsolute(phrase.at)}`
                : formatAbsolute(phrase.at)
            }
            data-time={phrase.key}
          >
            {phrase.text}
          </span>
        </Fragment>
      ))}
    </Text>
  );
}

/** One instant, relative ("5 min ago"), with the absolute time on hover. */
export function Ago({ iso, prefix, size = 'xs' }: { iso: string; prefix?: string; size?: string }) {
  const now = useNow();
  return (
    <Text span size={size} title={formatAbsolute(iso)} data-testid="time-ago">
      {prefix ? `${prefix} ` : ''}
      {formatAgo(iso, now)}
    </Text>
  );
}

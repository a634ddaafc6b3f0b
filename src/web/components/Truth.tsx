import { Badge, Group, Loader, Progress, Text } from '@mantine/core';
import type { RunView } from '../api/types';

// Every surface renders a run through these: the words, badges and progress come from the run's
// `truth` (the server's truth derivation). Nothing here decides what a run's state means.

const TONE_COLOR = {
  neutral: 'gray',
  info: 'blue',
  success: 'green',
  warning: 'orange',
  danger: 'red',
} as const;

export function TruthBadges({ truth }: { truth: RunView['truth'] }) {
  return (
    <Group gap={4} wrap="nowrap" data-testid="truth-badges">
      {truth.badges.map((badge) => (
        <Badge key={badge.label} color={TONE_COLOR[badge.tone]} variant="light" size="sm">
          {badge.label}
        </Badge>
      ))}
    </Group>
  );
}

export function TruthHeadline({ truth, size = 'sm' }: { truth: RunView['truth']; size?: string }) {
  return (
    <Text size={size} data-testid="truth-headline">
      {truth.headline}
    </Text>
  );
}

export function TruthProgress({ truth }: { truth: RunView['truth'] }) {
  const progress = truth.progress;
  if (progress.kind === 'spinner') return <Loader size="xs" aria-label="In progress" />;
  if (progress.kind !== 'bar') return null;
  return (
    <Progress
      value={progress.percent}
      size="sm"
      aria-label={`${progress.percent}% processed`}
      data-testid="truth-progress"
    />
  );
}

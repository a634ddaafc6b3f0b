import { Badge, Group, Loader, Progress, Text } from '@mantine/core';
import type { RunView } from '../api/types';
import { formatClock } from './time';

// Every surface renders a run through these: the words, badges and progress come from the run's
// `truth` (the server's truth derivation). Nothing here decides what a run's state means.

/** The colour of each class's tone (`truth.tone`, one per class, from the domain). */
export const CLASS_COLOR: Record<RunView['truth']['tone'], string> = {
  info: 'blue',
  caution: 'yellow',
  system: 'grape',
  danger: 'red',
  success: 'green',
  neutral: 'gray',
};

/**
 * The state badge filled in the class's tone, then any further badges (reconciled, cancel
 * requested) light in the same tone, or grey when they are neutral (reviewed): a run reads in one
 * colour, its class's.
 */
export function TruthBadges({ truth }: { truth: RunView['truth'] }) {
  return (
    <Group gap={4} wrap="wrap" data-testid="truth-badges" data-tone={truth.tone}>
      {truth.badges.map((badge, i) => (
        <Badge
          key={badge.label}
          color={i === 0 || badge.tone !== 'neutral' ? CLASS_COLOR[truth.tone] : 'gray'}
          variant={i === 0 ? 'filled' : 'light'}
          autoContrast
          size="sm"
          data-tone={i === 0 ? truth.tone : badge.tone}
        >
          {badge.label}
        </Badge>
      ))}
    </Group>
  );
}

/**
 * The headline in the reader's clock: `{time}` stands for `truth.waiting.at` (when a pause began,
 * when a scheduled run starts), which only the browser can write in the reader's zone.
 */
export function headlineText(truth: RunView['truth'], now = Date.now()): string {
  const at = truth.waiting?.at;
  return at ? truth.headline.replace('{time}', formatClock(at, now)) : truth.headline;
}

export function TruthHeadline({ truth, size = 'sm' }: { truth: RunView['truth']; size?: string }) {
  return (
    <Text size={size} data-testid="truth-headline">
      {headlineText(truth)}
    </Text>
  );
}

export function TruthProgress({ truth }: { truth: RunView['truth'] }) {
  const progress = truth.progress;
  // An indeterminate progress bar to assistive technology: a bare span may not carry a label.
  if (progress.kind === 'spinner') {
    return <Loader size="xs" role="progressbar" aria-label="In progress" />;
  }
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

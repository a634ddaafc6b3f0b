import type { Waiting, WaitingKind } from './waiting.js';

// The words for why a queued run waits (DESIGN §17): `deriveTruth` puts them on a run's truth.
// An absolute time is `{time}` (the surface writes `at` in the reader's clock, as for a deadline);
// a relative one ("in 3 min", "~12 s") is from the server's `now`.

export interface WaitingCopy {
  kind: WaitingKind;
  /** The instant `{time}` stands for in the headline (and when a rate window opens). */
  at: Date | null;
  badge: 'Queued' | 'Waiting' | 'Paused' | 'Scheduled';
  headline: string;
  guidance: string;
  decision: { stillActive: string; whatNext: string };
}

/** "12 s", "3 min", "2 h", "3 d": a span ahead, in the largest unit that matters. */
export function aboutSpan(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** `label`: the run's type as people read it ("Inventory sync"), if known. */
export function waitingCopy(waiting: Waiting, label: string | undefined, now: Date): WaitingCopy {
  switch (waiting.kind) {
    case 'worker':
      return {
        kind: 'worker',
        at: null,
        badge: 'Queued',
        headline: 'Queued — waiting for a worker.',
        guidance: 'No action needed. It starts as soon as it is picked up.',
        decision: { stillActive: 'Yes, waiting to be picked up.', whatNext: 'Nothing yet.' },
      };
    case 'no_worker':
      return {
        kind: 'no_worker',
        at: null,
        badge: 'Queued',
        headline: 'Queued — no worker is running.',
        guidance: 'Start a worker (runwarden worker): it starts as soon as one picks it up.',
        decision: {
          stillActive: 'Yes, but no worker is running to pick it up.',
          whatNext: 'Start a worker; it runs as soon as one is up.',
        },
      };
    case 'capacity': {
      const where = waiting.of ? `for ${waiting.of}` : 'across all tenants';
      return {
        kind: 'capacity',
        at: null,
        badge: 'Waiting',
        headline: `Waiting for capacity: ${waiting.running} of ${waiting.max} ${runsOf(waiting, label)} already running ${where}.`,
        guidance: 'No action needed. It starts as soon as one of them finishes.',
        decision: {
          stillActive: 'Yes, waiting for room within its limit.',
          whatNext: 'Nothing yet: it starts when a running one finishes.',
        },
      };
    }
    case 'rate': {
      const ahead = waiting.nextAt.getTime() - now.getTime();
      const where = waiting.of ? `for ${waiting.of}` : 'across all tenants';
      const runs = runsOf(waiting, label);
      return {
        kind: 'rate',
        at: waiting.nextAt,
        badge: 'Waiting',
        headline:
          ahead > 0
            ? `Rate limit: next start in ~${aboutSpan(ahead)}.`
            : 'Rate limit: next start due now.',
        guidance: `No action needed. ${capitalized(runs)} may start only so often ${where}; it starts when the window allows.`,
        decision: {
          stillActive: 'Yes, waiting for its rate window.',
          whatNext: 'Nothing yet: it starts when the window allows.',
        },
      };
    }
    case 'paused': {
      const type = label ?? 'this type';
      const what =
        waiting.type && waiting.tenant
          ? `${type} for ${waiting.tenant}`
          : waiting.type
            ? type
            : (waiting.tenant ?? waiting.workspace);
      return {
        kind: 'paused',
        at: waiting.since,
        badge: 'Paused',
        headline: waiting.by
          ? `Paused for ${what} by ${waiting.by} at {time}.`
          : `Paused for ${what} since {time}.`,
        guidance: 'It starts once the pause is lifted. Running runs are not affected.',
        decision: {
          stillActive: 'Yes, held by a pause: it does not start until the pause is lifted.',
          whatNext: 'Resume when it should run; nothing else to do.',
        },
      };
    }
    case 'scheduled':
      return {
        kind: 'scheduled',
        at: waiting.at,
        badge: 'Scheduled',
        headline: `Scheduled — starts {time} (in ${aboutSpan(waiting.at.getTime() - now.getTime())}).`,
        guidance: 'No action needed. It starts at its scheduled time.',
        decision: {
          stillActive: 'Yes, waiting for its scheduled time.',
          whatNext: 'Nothing yet.',
        },
      };
  }
}

/** "Inventory sync runs", or "runs of the graph pool". */
function runsOf(waiting: { limit: string; pool: boolean }, label: string | undefined): string {
  if (waiting.pool) return `runs of the ${waiting.limit} pool`;
  return label ? `${label} runs` : 'runs of this type';
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

import type { WaitVerdict } from './admission.js';

// Why a queued run waits (DESIGN §17 "Honest waiting"): the read side gathers the facts of the
// runs it shows (`WaitingFacts`), `waitingReason` decides, and `deriveTruth` words it.

/** What the read side knows about a queued run's wait. */
export interface WaitingFacts {
  type: string;
  /** Held by flow control: no runnable queue job yet. */
  held: boolean;
  runAt: Date | null;
  /** The pause that holds it (its workspace's, matching its type and tenant), if any. */
  pause: {
    /** Who paused it (null: the user is gone). */
    by: string | null;
    since: Date;
    /** The pause names the run's type. */
    type: boolean;
    /** The tenant the pause names (its name), or null. */
    tenant: string | null;
    /** The workspace's name, for a pause of the whole workspace. */
    workspace: string;
  } | null;
  /** Its lane's verdict at the last admission pass (null: none recorded). */
  verdict: WaitVerdict | null;
  /** The name of what its limits count per tenant: its tenant's, or its workspace's. */
  keyName: string;
  /** A worker process is alive (seen within three of its beats). */
  workers: boolean;
}

export type Waiting =
  | { kind: 'worker' }
  | { kind: 'no_worker' }
  | {
      kind: 'capacity';
      /** The limit's name: the run's type or a pool. */
      limit: string;
      pool: boolean;
      /** Per tenant: the tenant's (or workspace's) name; null: across all tenants. */
      of: string | null;
      running: number;
      max: number;
    }
  | { kind: 'rate'; limit: string; pool: boolean; of: string | null; nextAt: Date }
  | {
      kind: 'paused';
      by: string | null;
      since: Date;
      /** What is paused: type and/or tenant (names), or the whole workspace. */
      type: boolean;
      tenant: string | null;
      workspace: string;
    }
  | { kind: 'scheduled'; at: Date };

export const WAITING_KINDS = [
  'worker',
  'no_worker',
  'capacity',
  'rate',
  'paused',
  'scheduled',
] as const satisfies ReadonlyArray<Waiting['kind']>;
export type WaitingKind = (typeof WAITING_KINDS)[number];

/**
 * Why a queued run waits, in the order that holds it: a pause, its `runAt` ahead, then what the
 * last admission pass found for its lane (a limit's capacity or rate window). Anything else — a
 * run already admitted, or a lane nobody judged yet — waits for a worker, honestly "no worker"
 * when none is alive.
 */
export function waitingReason(facts: WaitingFacts, now: Date): Waiting {
  const worker = (): Waiting => ({ kind: facts.workers ? 'worker' : 'no_worker' });
  if (!facts.held) return worker();
  if (facts.pause) return { kind: 'paused', ...facts.pause };
  if (facts.runAt && facts.runAt.getTime() > now.getTime()) {
    return { kind: 'scheduled', at: facts.runAt };
  }
  const verdict = facts.verdict;
  if (!verdict) return worker();
  const pool = 'limit' in verdict && verdict.limit !== facts.type;
  const of = 'scope' in verdict && verdict.scope === 'tenant' ? facts.keyName : null;
  switch (verdict.kind) {
    case 'capacity':
      return {
        kind: 'capacity',
        limit: verdict.limit,
        pool,
        of,
        running: verdict.running,
        max: verdict.max,
      };
    case 'rate':
      return { kind: 'rate', limit: verdict.limit, pool, of, nextAt: new Date(verdict.nextAt) };
    default:
      // `paused` with no pause left (lifted since the pass), or no free worker slot.
      return worker();
  }
}

import type { FlowLimit } from './flow-limits.js';

// Which held runs an admission pass lets go (DESIGN §17), decided in memory over what the pass read
// under its lock: priority first, then weighted fair share across tenant keys (start-time fair
// queuing: a key's start tag is max(its finish tag, the system's virtual time), and each admitted
// run moves its finish tag on by 1 / weight), then FIFO within a lane. A lane whose next run does
// not fit a limit or is paused waits; the others go on. Priorities reorder; nothing is pre-empted.

export interface LaneHead {
  id: string;
  expiresAt: Date | null;
}

export interface Lane {
  type: string;
  tenantKey: string;
  priority: number;
  workspaceId: string;
  /** The tenant key's finish tag (absent: it never ran). */
  vtime: number;
  weight: number;
  /** Its eligible held runs, oldest first (as many as the pass could admit). */
  heads: LaneHead[];
}

/** Runs counted against limits, per limit and tenant key (`*`: across all keys). */
export interface FlowUsage {
  /** Admitted and not finished: running, or waiting for a worker to take its job. */
  running: Map<string, number>;
  /** Starts per window: key `${limit}|${key}|${intervalSeconds}`; admitted unstarted runs count. */
  starts: Map<string, { count: number; oldest: Date | null }>;
}

export type WaitVerdict =
  | { kind: 'paused'; pauseId: string }
  | {
      kind: 'capacity';
      limit: string;
      scope: 'tenant' | 'total';
      running: number;
      max: number;
    }
  | { kind: 'rate'; limit: string; scope: 'tenant' | 'total'; nextAt: string }
  | { kind: 'worker' };

export interface AdmissionInput {
  lanes: Lane[];
  /** The limits each type draws from, in force now. */
  limitsOf: (type: string) => FlowLimit[];
  usage: FlowUsage;
  paused: (lane: Lane) => string | undefined;
  /** Runs the pass may hand to the queue (free worker slots). */
  budget: number;
  clock: number;
  now: Date;
}

export interface AdmissionPlan {
  admit: Array<{ id: string; lane: Lane }>;
  expired: string[];
  /** New finish tags per tenant key. */
  shares: Map<string, number>;
  clock: number;
  /** Why each lane that still holds runs waited, by `laneKey`. */
  verdicts: Map<string, WaitVerdict>;
}

export const laneKey = (lane: Pick<Lane, 'type' | 'tenantKey' | 'priority'>) =>
  `${lane.type}|${lane.tenantKey}|${lane.priority}`;
export const usageKey = (limit: string, key: string) => `${limit}|${key}`;
export const startsKey = (limit: string, key: string, intervalSeconds: number) =>
  `${limit}|${key}|${intervalSeconds}`;

export function planAdmission(input: AdmissionInput): AdmissionPlan {
  const plan: AdmissionPlan = {
    admit: [],
    expired: [],
    shares: new Map(),
    clock: input.clock,
    verdicts: new Map(),
  };
  const finish = new Map(input.lanes.map((lane) => [lane.tenantKey, lane.vtime]));
  const startTag = (lane: Lane) => Math.max(finish.get(lane.tenantKey) ?? 0, plan.clock);
  const candidates = new Set(input.lanes.filter((lane) => lane.heads.length > 0));
  let budget = input.budget;
  while (candidates.size > 0 && budget > 0) {
    let best: Lane | undefined;
    for (const lane of candidates) if (!best || before(lane, best, startTag)) best = lane;
    const lane = best as Lane;
    const head = lane.heads[0] as LaneHead;
    if (head.expiresAt && head.expiresAt.getTime() <= input.now.getTime()) {
      plan.expired.push(head.id);
      lane.heads.shift();
      if (lane.heads.length === 0) candidates.delete(lane);
      continue;
    }
    const pauseId = input.paused(lane);
    const verdict = pauseId
      ? ({ kind: 'paused', pauseId } as const)
      : blockingLimit(lane, input.limitsOf(lane.type), input.usage, input.now);
    if (verdict) {
      plan.verdicts.set(laneKey(lane), verdict);
      candidates.delete(lane);
      continue;
    }
    const start = startTag(lane);
    plan.clock = start;
    const tag = start + 1 / Math.max(1, lane.weight);
    finish.set(lane.tenantKey, tag);
    plan.shares.set(lane.tenantKey, tag);
    plan.admit.push({ id: head.id, lane });
    count(lane, input.limitsOf(lane.type), input.usage);
    budget--;
    lane.heads.shift();
    if (lane.heads.length === 0) candidates.delete(lane);
  }
  // Lanes the free slots did not reach: a pause or a full limit is still the truer reason.
  for (const lane of candidates) {
    const pauseId = input.paused(lane);
    const verdict: WaitVerdict = pauseId
      ? { kind: 'paused', pauseId }
      : (blockingLimit(lane, input.limitsOf(lane.type), input.usage, input.now) ?? {
          kind: 'worker',
        });
    plan.verdicts.set(laneKey(lane), verdict);
  }
  return plan;
}

/** Priority, then the fair-share start tag, then the older head (uuid v7 ids sort by time). */
function before(a: Lane, b: Lane, startTag: (lane: Lane) => number): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  const [ta, tb] = [startTag(a), startTag(b)];
  if (ta !== tb) return ta < tb;
  return (a.heads[0]?.id ?? '') < (b.heads[0]?.id ?? '');
}

const SIDES = [
  ['perTenant', 'tenant'],
  ['total', 'total'],
] as const;

/** The first limit the lane's next run would break, as the reason it waits. */
function blockingLimit(
  lane: Lane,
  limits: FlowLimit[],
  usage: FlowUsage,
  now: Date,
): WaitVerdict | undefined {
  for (const limit of limits) {
    for (const [side, scope] of SIDES) {
      const key = side === 'perTenant' ? lane.tenantKey : '*';
      const max = limit.limits.concurrency?.[side];
      const running = usage.running.get(usageKey(limit.name, key)) ?? 0;
      if (max !== undefined && running >= max)
        return { kind: 'capacity', limit: limit.name, scope, running, max };
      const rate = limit.limits.rate?.[side];
      if (!rate) continue;
      const starts = usage.starts.get(startsKey(limit.name, key, rate.intervalSeconds));
      if ((starts?.count ?? 0) >= rate.limit) {
        // The window frees a start when its oldest start leaves it (now, if it has not started).
        const oldest = starts?.oldest?.getTime() ?? now.getTime();
        const nextAt = new Date(Math.max(now.getTime(), oldest + rate.intervalSeconds * 1000));
        return { kind: 'rate', limit: limit.name, scope, nextAt: nextAt.toISOString() };
      }
    }
  }
  return undefined;
}

/** An admitted run counts as running and as a start in every window of every limit it draws from. */
function count(lane: Lane, limits: FlowLimit[], usage: FlowUsage) {
  for (const limit of limits) {
    for (const [side] of SIDES) {
      const key = side === 'perTenant' ? lane.tenantKey : '*';
      const k = usageKey(limit.name, key);
      usage.running.set(k, (usage.running.get(k) ?? 0) + 1);
      const rate = limit.limits.rate?.[side];
      if (!rate) continue;
      const s = startsKey(limit.name, key, rate.intervalSeconds);
      const current = usage.starts.get(s);
      usage.starts.set(s, { count: (current?.count ?? 0) + 1, oldest: current?.oldest ?? null });
    }
  }
}

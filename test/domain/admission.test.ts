import { describe, expect, it } from 'vitest';
import {
  type AdmissionInput,
  type FlowUsage,
  type Lane,
  laneKey,
  planAdmission,
  startsKey,
  usageKey,
} from '../../src/domain/admission.js';
import type { FlowLimits } from '../../src/domain/flow.js';
import type { FlowLimit } from '../../src/domain/flow-limits.js';

// planAdmission alone (DESIGN §17): which held runs a pass lets go, in what order, and why the
// others wait — priority, then weighted fair share, then FIFO, within every limit.

const NOW = new Date('2026-11-01T12:00:00.000Z');

function lane(tenantKey: string, heads: string[], options: Partial<Lane> = {}): Lane {
  return {
    type: 'sync',
    tenantKey,
    priority: 0,
    workspaceId: 'ws',
    vtime: 0,
    weight: 1,
    heads: heads.map((id) => ({ id, expiresAt: null })),
    ...options,
  };
}

function limitOf(limits: FlowLimits, name = 'sync'): FlowLimit {
  return { name, kind: 'type', types: ['sync'], limits, declared: limits, overridden: false };
}

const noUsage = (): FlowUsage => ({ running: new Map(), starts: new Map() });

function plan(lanes: Lane[], options: Partial<AdmissionInput> = {}) {
  return planAdmission({
    lanes,
    limitsOf: () => [],
    usage: noUsage(),
    paused: () => undefined,
    budget: 100,
    clock: 0,
    now: NOW,
    ...options,
  });
}

const admitted = (p: ReturnType<typeof plan>) => p.admit.map((a) => a.id);

describe('order', () => {
  it('higher priority first, whatever the tenant, its share or its age', () => {
    const p = plan(
      [
        lane('a', ['a1'], { priority: 1 }),
        lane('b', ['b1'], { priority: 0, vtime: 50 }),
        lane('c', ['c1'], { priority: -1, vtime: 99 }),
      ],
      { budget: 3 },
    );
    expect(admitted(p)).toEqual(['c1', 'b1', 'a1']);
  });

  it('FIFO within a lane', () => {
    expect(admitted(plan([lane('a', ['a1', 'a2', 'a3'])]))).toEqual(['a1', 'a2', 'a3']);
  });

  it('tenants alternate; an equal turn goes to the older head', () => {
    // Ids are uuid v7 in life: they sort by age.
    const p = plan([lane('b', ['r1', 'r3']), lane('a', ['r2', 'r4'])], { budget: 4 });
    expect(admitted(p)).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('shares by weight: a tenant of weight 3 gets three for every one', () => {
    const heavy = Array.from({ length: 10 }, (_, i) => `h${i}`);
    const light = Array.from({ length: 10 }, (_, i) => `l${i}`);
    const p = plan([lane('heavy', heavy, { weight: 3 }), lane('light', light)], { budget: 8 });
    expect(p.admit.filter((a) => a.lane.tenantKey === 'heavy')).toHaveLength(6);
    expect(p.admit.filter((a) => a.lane.tenantKey === 'light')).toHaveLength(2);
    // Each admission moves its tenant's finish tag on by 1 / weight.
    expect(p.shares.get('light')).toBeCloseTo(2);
    expect(p.shares.get('heavy')).toBeCloseTo(2);
  });

  it('a tenant behind the backlog goes next, and an idle one does not catch up on missed turns', () => {
    const backlog = Array.from({ length: 10 }, (_, i) => `r${i + 5}`);
    const p = plan(
      [lane('a', backlog, { vtime: 100 }), lane('idle', ['r1', 'r2', 'r3'], { vtime: 3 })],
      { budget: 4, clock: 100 },
    );
    // The idle tenant starts at the system's virtual time, not at its own old finish tag.
    expect(admitted(p)).toEqual(['r1', 'r5', 'r2', 'r6']);
    expect(p.clock).toBe(101);
  });
});

describe('limits', () => {
  it('counts what it admits against perTenant and total, then says why each lane waits', () => {
    const limits = [limitOf({ concurrency: { perTenant: 2, total: 3 } })];
    const usage = noUsage();
    usage.running.set(usageKey('sync', 'a'), 1);
    usage.running.set(usageKey('sync', '*'), 1);
    const a = lane('a', ['a1', 'a2']);
    const b = lane('b', ['b1', 'b2', 'b3']);
    const c = lane('c', ['c1']);
    const p = plan([a, b, c], { limitsOf: () => limits, usage });
    expect(admitted(p).sort()).toEqual(['a1', 'b1']);
    expect(p.verdicts.get(laneKey(a))).toEqual({
      kind: 'capacity',
      limit: 'sync',
      scope: 'tenant',
      running: 2,
      max: 2,
    });
    expect(p.verdicts.get(laneKey(b))).toMatchObject({ kind: 'capacity', scope: 'total', max: 3 });
    expect(p.verdicts.get(laneKey(c))).toMatchObject({ kind: 'capacity', scope: 'total' });
  });

  it('a full rate window waits until its oldest start leaves it', () => {
    const limits = [limitOf({ rate: { perTenant: { limit: 2, intervalSeconds: 10 } } })];
    const usage = noUsage();
    const oldest = new Date(NOW.getTime() - 4_000);
    usage.starts.set(startsKey('sync', 'a', 10), { count: 1, oldest });
    const a = lane('a', ['a1', 'a2', 'a3']);
    const p = plan([a], { limitsOf: () => limits, usage });
    expect(admitted(p)).toEqual(['a1']);
    expect(p.verdicts.get(laneKey(a))).toEqual({
      kind: 'rate',
      limit: 'sync',
      scope: 'tenant',
      nextAt: new Date(oldest.getTime() + 10_000).toISOString(),
    });
  });

  it('a window full of runs admitted but not started frees a start one window from now at the soonest', () => {
    const limits = [limitOf({ rate: { total: { limit: 1, intervalSeconds: 60 } } })];
    const usage = noUsage();
    usage.starts.set(startsKey('sync', '*', 60), { count: 1, oldest: null });
    const a = lane('a', ['a1']);
    const p = plan([a], { limitsOf: () => limits, usage });
    expect(admitted(p)).toEqual([]);
    expect(p.verdicts.get(laneKey(a))).toMatchObject({
      kind: 'rate',
      scope: 'total',
      nextAt: new Date(NOW.getTime() + 60_000).toISOString(),
    });
  });

  it('one lane waiting on a limit does not hold another tenant back', () => {
    const limits = [limitOf({ concurrency: { perTenant: 1 } })];
    const usage = noUsage();
    usage.running.set(usageKey('sync', 'a'), 1);
    const p = plan([lane('a', ['a1']), lane('b', ['b1'])], { limitsOf: () => limits, usage });
    expect(admitted(p)).toEqual(['b1']);
  });
});

describe('pauses, expiry and the budget', () => {
  it('a paused lane waits with the pause as its reason', () => {
    const a = lane('a', ['a1']);
    const p = plan([a, lane('b', ['b1'])], {
      paused: (l) => (l.tenantKey === 'a' ? 'pause-1' : undefined),
    });
    expect(admitted(p)).toEqual(['b1']);
    expect(p.verdicts.get(laneKey(a))).toEqual({ kind: 'paused', pauseId: 'pause-1' });
  });

  it('expired heads end instead of running and take no slot, even in a paused lane', () => {
    const past = new Date(NOW.getTime() - 1);
    const a = lane('a', []);
    a.heads = [
      { id: 'a1', expiresAt: past },
      { id: 'a2', expiresAt: NOW },
      { id: 'a3', expiresAt: new Date(NOW.getTime() + 1) },
    ];
    const p = plan([a], { budget: 1 });
    expect(p.expired).toEqual(['a1', 'a2']);
    expect(admitted(p)).toEqual(['a3']);
    const b = lane('b', []);
    b.heads = [{ id: 'b1', expiresAt: past }];
    expect(plan([b], { paused: () => 'pause-1' }).expired).toEqual(['b1']);
  });

  it('admits no more than the budget; lanes left over wait for a worker', () => {
    const a = lane('a', ['r1']);
    const b = lane('b', ['r2', 'r3']);
    const p = plan([a, b], { budget: 2 });
    expect(admitted(p)).toEqual(['r1', 'r2']);
    expect(p.verdicts.get(laneKey(a))).toBeUndefined();
    expect(p.verdicts.get(laneKey(b))).toEqual({ kind: 'worker' });
    expect(admitted(plan([lane('c', ['r4'])], { budget: 0 }))).toEqual([]);
  });

  it('a lane the free slots did not reach still names its pause or its full limit', () => {
    const full = lane('a', ['a1']);
    const paused = lane('b', ['b1']);
    const free = lane('c', ['c1']);
    const usage = noUsage();
    usage.running.set(usageKey('sync', 'a'), 1);
    const p = plan([full, paused, free], {
      budget: 0,
      usage,
      limitsOf: () => [limitOf({ concurrency: { perTenant: 1 } })],
      paused: (l) => (l.tenantKey === 'b' ? 'pause-1' : undefined),
    });
    expect(p.verdicts.get(laneKey(full))).toMatchObject({ kind: 'capacity', running: 1, max: 1 });
    expect(p.verdicts.get(laneKey(paused))).toEqual({ kind: 'paused', pauseId: 'pause-1' });
    expect(p.verdicts.get(laneKey(free))).toEqual({ kind: 'worker' });
  });
});

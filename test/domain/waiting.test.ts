import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle.js';
import { deriveTruth, type RunFacts } from '../../src/domain/truth.js';
import { type WaitingFacts, waitingReason } from '../../src/domain/waiting.js';

// Honest waiting (DESIGN §17): why a queued run waits, decided from the read side's facts and
// worded by deriveTruth — calm badges, never "likely stale" while held.

const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
const policy = { ...DEFAULT_POLICY, queuedStaleAfterSeconds: 900 };

const queued = (o: Partial<RunFacts> = {}): RunFacts => ({
  status: 'queued',
  outcome: 'pending',
  created_at: ago(10),
  started_at: null,
  last_heartbeat_at: null,
  progress_processed: null,
  progress_total: null,
  failures: [],
  reconciliation: null,
  cancel_requested_at: null,
  held: true,
  eligible_at: null,
  ...o,
});

const facts = (o: Partial<WaitingFacts> = {}): WaitingFacts => ({
  type: 'inventory.sync',
  held: true,
  runAt: null,
  pause: null,
  verdict: null,
  keyName: 'Contoso Prod',
  workers: true,
  ...o,
});

function truthOf(f: Partial<WaitingFacts>, run: Partial<RunFacts> = {}) {
  return deriveTruth(queued(run), policy, now, {
    label: 'Inventory sync',
    waiting: waitingReason(facts(f), now),
  });
}

const pause = {
  by: 'Olive',
  since: ago(120),
  type: false,
  tenant: 'Contoso Prod',
  workspace: 'Contoso',
};

describe('why a queued run waits: the reason, in order', () => {
  it('a pause first, then a runAt ahead, then the lane’s verdict, else a worker', () => {
    const capacity = {
      kind: 'capacity',
      limit: 'inventory.sync',
      scope: 'tenant',
      running: 2,
      max: 2,
    } as const;
    const later = new Date(now.getTime() + 180_000);
    expect(waitingReason(facts({ pause, runAt: later, verdict: capacity }), now).kind).toBe(
      'paused',
    );
    expect(waitingReason(facts({ runAt: later, verdict: capacity }), now).kind).toBe('scheduled');
    expect(waitingReason(facts({ runAt: ago(5), verdict: capacity }), now).kind).toBe('capacity');
    expect(waitingReason(facts({}), now).kind).toBe('worker');
    expect(waitingReason(facts({ verdict: { kind: 'worker' } }), now).kind).toBe('worker');
    // A pause the lane saw but that has been lifted since: it waits for the next pass's worker.
    expect(waitingReason(facts({ verdict: { kind: 'paused', pauseId: 'x' } }), now).kind).toBe(
      'worker',
    );
  });

  it('a run that is not held waits for a worker whatever its lane said, honestly none if none lives', () => {
    const verdict = { kind: 'capacity', limit: 'x', scope: 'total', running: 1, max: 1 } as const;
    expect(waitingReason(facts({ held: false, verdict, pause }), now)).toEqual({ kind: 'worker' });
    expect(waitingReason(facts({ held: false, workers: false }), now)).toEqual({
      kind: 'no_worker',
    });
    expect(waitingReason(facts({ workers: false }), now)).toEqual({ kind: 'no_worker' });
  });
});

describe('the words of each wait', () => {
  it('waiting for a worker, or for one to be started', () => {
    const worker = truthOf({ held: false }, { held: false });
    expect(worker).toMatchObject({
      headline: 'Queued — waiting for a worker.',
      badges: [{ label: 'Queued', tone: 'info' }],
      waiting: { kind: 'worker', at: null },
    });
    const none = truthOf({ held: false, workers: false }, { held: false });
    expect(none.headline).toBe('Queued — no worker is running.');
    expect(none.guidance).toMatch(/Start a worker/);
    expect(none.badges.map((b) => b.label)).toEqual(['Queued']);
  });

  it('capacity names the numbers and the tenant; a total limit says across all tenants; a pool names the pool', () => {
    const perTenant = truthOf({
      verdict: { kind: 'capacity', limit: 'inventory.sync', scope: 'tenant', running: 2, max: 2 },
    });
    expect(perTenant.headline).toBe(
      'Waiting for capacity: 2 of 2 Inventory sync runs already running for Contoso Prod.',
    );
    expect(perTenant.badges.map((b) => b.label)).toEqual(['Waiting']);
    expect(perTenant.decision.stillActive).toMatch(/^Yes/);
    expect(perTenant.waiting).toEqual({ kind: 'capacity', at: null });
    expect(
      truthOf({
        verdict: {
          kind: 'capacity',
          limit: 'inventory.sync',
          scope: 'total',
          running: 40,
          max: 40,
        },
      }).headline,
    ).toBe(
      'Waiting for capacity: 40 of 40 Inventory sync runs already running across all tenants.',
    );
    expect(
      truthOf({
        verdict: { kind: 'capacity', limit: 'graph', scope: 'tenant', running: 5, max: 5 },
      }).headline,
    ).toBe('Waiting for capacity: 5 of 5 runs of the graph pool already running for Contoso Prod.');
  });

  it('a rate window says when the next start is, from now', () => {
    const nextAt = new Date(now.getTime() + 12_000).toISOString();
    const rate = truthOf({
      verdict: { kind: 'rate', limit: 'inventory.sync', scope: 'tenant', nextAt },
    });
    expect(rate.headline).toBe('Rate limit: next start in ~12 s.');
    expect(rate.guidance).toMatch(/Inventory sync runs may start only so often for Contoso Prod/);
    expect(rate.badges.map((b) => b.label)).toEqual(['Waiting']);
    expect(rate.waiting).toEqual({ kind: 'rate', at: nextAt });
    const due = truthOf({
      verdict: { kind: 'rate', limit: 'graph', scope: 'total', nextAt: ago(1).toISOString() },
    });
    expect(due.headline).toBe('Rate limit: next start due now.');
    expect(due.guidance).toMatch(/Runs of the graph pool may start only so often across all/);
  });

  it('a pause says for what, by whom and since when (the time is the reader’s: {time})', () => {
    const paused = truthOf({ pause });
    expect(paused.headline).toBe('Paused for Contoso Prod by Olive at {time}.');
    expect(paused.waiting).toEqual({ kind: 'paused', at: ago(120).toISOString() });
    expect(paused.badges.map((b) => b.label)).toEqual(['Paused']);
    expect(truthOf({ pause: { ...pause, type: true } }).headline).toBe(
      'Paused for Inventory sync for Contoso Prod by Olive at {time}.',
    );
    expect(truthOf({ pause: { ...pause, type: true, tenant: null, by: null } }).headline).toBe(
      'Paused for Inventory sync since {time}.',
    );
    expect(truthOf({ pause: { ...pause, tenant: null } }).headline).toBe(
      'Paused for Contoso by Olive at {time}.',
    );
  });

  it('a scheduled run says when it starts, and in how long', () => {
    const at = new Date(now.getTime() + 3 * 60_000);
    const scheduled = truthOf({ runAt: at });
    expect(scheduled.headline).toBe('Scheduled — starts {time} (in 3 min).');
    expect(scheduled.waiting).toEqual({ kind: 'scheduled', at: at.toISOString() });
    expect(scheduled.badges.map((b) => b.label)).toEqual(['Scheduled']);
  });

  it('a cancel requested on a waiting run is shown next to its calm badge', () => {
    const truth = truthOf({ pause }, { cancel_requested_at: ago(1) });
    expect(truth.badges.map((b) => b.label)).toEqual(['Paused', 'Cancel requested']);
  });
});

describe('never likely stale while held; an admitted run nobody takes still is', () => {
  it('a held run created far past its queued window is active, whatever it waits for', () => {
    const old = { created_at: ago(100 * 900) };
    for (const f of [
      { pause },
      { runAt: new Date(now.getTime() + 60_000) },
      { verdict: { kind: 'capacity', limit: 'x', scope: 'total', running: 1, max: 1 } as const },
      {},
    ]) {
      const truth = truthOf(f, old);
      expect(truth.bucket).toBe('active');
      expect(truth.badges.map((b) => b.label)).not.toContain('Likely stale');
    }
  });

  it('an admitted run is judged from when it became eligible, not from when it was created', () => {
    const admittedNow = truthOf(
      { held: false },
      { held: false, created_at: ago(100 * 900), eligible_at: ago(10) },
    );
    expect(admittedNow.bucket).toBe('active');
    const nobodyTookIt = truthOf(
      { held: false },
      { held: false, created_at: ago(100 * 900), eligible_at: ago(901) },
    );
    expect(nobodyTookIt.bucket).toBe('active_stale');
    expect(nobodyTookIt.badges.map((b) => b.label)).toEqual(['Likely stale']);
    expect(nobodyTookIt.waiting).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle.js';
import { type Bucket, CLASS_TONE, CLASS_TONES } from '../../src/domain/run-classes.js';
import { deriveTruth, type RunFacts } from '../../src/domain/truth.js';
import { TruthSchema } from '../../src/http/schemas.js';

// Issue #14 point 10: one tone per class, from deriveTruth. Orange used to mean likely stale,
// reconciled, blocked and partially succeeded alike, and a likely-stale run kept a blue "Running".

const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
const base: RunFacts = {
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
};
const done = (outcome: RunFacts['outcome'], o: Partial<RunFacts> = {}): RunFacts => ({
  ...base,
  status: 'completed',
  outcome,
  ...o,
});
const reconciliation = {
  reasonCode: 'run.heartbeat_lost',
  detectedAt: now.toISOString(),
  thresholdSeconds: 15,
  lastHeartbeatAt: null,
  evidence: {},
  source: 'reconciler',
};

// [case, facts, the class it is in]
const cases: Array<[string, RunFacts, Bucket]> = [
  ['queued', base, 'active'],
  [
    'running',
    { ...base, status: 'running', started_at: ago(5), last_heartbeat_at: ago(1) },
    'active',
  ],
  ['queued too long', { ...base, created_at: ago(3600) }, 'active_stale'],
  [
    'running, heartbeat lost',
    { ...base, status: 'running', started_at: ago(600), last_heartbeat_at: ago(300) },
    'active_stale',
  ],
  ['reconciled', done('failed', { reconciliation }), 'reconciled'],
  ['failed', done('failed'), 'terminal_follow_up'],
  ['blocked', done('blocked'), 'terminal_follow_up'],
  ['partially succeeded', done('partially_succeeded'), 'terminal_follow_up'],
  ['succeeded', done('succeeded'), 'succeeded'],
  ['cancelled', done('cancelled'), 'cancelled'],
];

describe('one tone per class, from deriveTruth', () => {
  it.each(cases)('%s: the tone of its class', (_name, facts, bucket) => {
    const truth = deriveTruth(facts, DEFAULT_POLICY, now);
    expect(truth.bucket).toBe(bucket);
    expect(truth.tone).toBe(CLASS_TONE[bucket]);
  });

  it('no two classes share a tone', () => {
    const tones = Object.values(CLASS_TONE);
    expect(new Set(tones).size).toBe(tones.length);
    expect([...tones].sort()).toEqual([...CLASS_TONES].sort());
  });

  it('the API contract names the same tones', () => {
    expect(TruthSchema.shape.tone.options).toEqual([...CLASS_TONES]);
  });

  it('likely stale, reconciled and follow-up look different from each other and from active', () => {
    const tone = (facts: RunFacts) => deriveTruth(facts, DEFAULT_POLICY, now).tone;
    const seen = ['queued too long', 'reconciled', 'blocked', 'running'].map((name) =>
      tone(cases.find(([n]) => n === name)?.[1] ?? base),
    );
    expect(new Set(seen).size).toBe(4);
    expect(tone(done('blocked'))).toBe(tone(done('partially_succeeded')));
  });

  it('a likely-stale run carries no "Running" or "Queued" badge, and no info-toned badge', () => {
    for (const [, facts, bucket] of cases.filter(([, , b]) => b === 'active_stale')) {
      const truth = deriveTruth(facts, DEFAULT_POLICY, now);
      expect(truth.bucket).toBe(bucket);
      expect(truth.badges.map((b) => b.label)).toEqual(['Likely stale']);
      expect(truth.badges.some((b) => b.tone === 'info')).toBe(false);
      expect(truth.tone).not.toBe(CLASS_TONE.active);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle.js';
import { terminalNotice } from '../../src/domain/notice.js';
import { isReasonCode } from '../../src/domain/reason-codes.js';
import type { RunFailure } from '../../src/domain/run.js';
import { deriveTruth, type RunFacts, staleness } from '../../src/domain/truth.js';

const now = new Date('2026-11-22T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
const policy = {
  ...DEFAULT_POLICY,
  heartbeatSeconds: 5,
  queuedStaleAfterSeconds: 900,
  runningStaleAfterSeconds: 1200,
};

function run(overrides: Partial<RunFacts>): RunFacts {
  return {
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
    ...overrides,
  };
}
const running = (o: Partial<RunFacts> = {}) =>
  run({ status: 'running', started_at: ago(8), last_heartbeat_at: ago(2), ...o });
const reconciled = {
  reasonCode: 'run.heartbeat_lost',
  detectedAt: now.toISOString(),
  thresholdSeconds: 15,
  lastHeartbeatAt: ago(30).toISOString(),
  evidence: { workerId: 'w1' },
  source: 'reconciler',
};

// [case, facts, problemClass, headline, progress kind, badge labels]
const table: Array<[string, RunFacts, string, string | RegExp, string, string[]]> = [
  ['queued within window', run({}), 'none', 'Queued — waiting for a worker.', 'none', ['Queued']],
  [
    'running, determinate',
    running({ progress_processed: 4, progress_total: 10 }),
    'none',
    '4 / 10 processed (40%)',
    'bar',
    ['Running'],
  ],
  [
    'running, indeterminate',
    running(),
    'none',
    'Running — progress details pending.',
    'spinner',
    ['Running'],
  ],
  [
    'queued past the window',
    run({ created_at: ago(901) }),
    'active_stale',
    /^Past the lifecycle window\./,
    'none',
    ['Likely stale'],
  ],
  [
    'running, heartbeat lost',
    running({ last_heartbeat_at: ago(16) }),
    'active_stale',
    /^Past the lifecycle window\./,
    'none',
    ['Likely stale'],
  ],
  [
    'running past runningStaleAfter',
    running({ started_at: ago(1201), last_heartbeat_at: ago(1) }),
    'active_stale',
    /^Past the lifecycle window/,
    'none',
    ['Likely stale'],
  ],
  [
    'completed by reconciliation',
    run({
      status: 'completed',
      outcome: 'failed',
      reconciliation: reconciled,
      failures: [{ code: 'run.heartbeat_lost', message: 'The worker stopped reporting.' }],
    }),
    'reconciled',
    'Automatically marked failed: no progress within the lifecycle window.',
    'none',
    ['Failed', 'Reconciled'],
  ],
  [
    'failed',
    run({
      status: 'completed',
      outcome: 'failed',
      failures: [{ code: 'graph.forbidden', message: 'Graph denied access to the tenant.' }],
    }),
    'terminal_follow_up',
    'Failed — The operation reported a failure.',
    'none',
    ['Failed'],
  ],
  [
    'blocked',
    run({
      status: 'completed',
      outcome: 'blocked',
      failures: [{ code: 'gate.tenant_inactive', message: 'x' }],
    }),
    'terminal_follow_up',
    'Blocked — The tenant is inactive, so it was not run.',
    'none',
    ['Blocked'],
  ],
  [
    'partially succeeded',
    run({
      status: 'completed',
      outcome: 'partially_succeeded',
      failures: [{ code: 'item.failed', message: '2 of 120 items failed.' }],
    }),
    'terminal_follow_up',
    'Partially succeeded — Some of its work failed.',
    'none',
    ['Partially succeeded'],
  ],
  [
    'succeeded',
    run({ status: 'completed', outcome: 'succeeded' }),
    'none',
    'Succeeded',
    'none',
    ['Succeeded'],
  ],
  [
    'cancelled (queued, never ran)',
    run({
      status: 'completed',
      outcome: 'cancelled',
      failures: [{ code: 'run.cancelled', message: 'Cancelled before it started.' }],
    }),
    'none',
    'Cancelled',
    'none',
    ['Cancelled'],
  ],
];

describe('deriveTruth: every case of DESIGN §6', () => {
  it.each(table)('%s', (_name, facts, problemClass, headline, progress, badges) => {
    const truth = deriveTruth(facts, policy, now);
    expect(truth.problemClass).toBe(problemClass);
    if (typeof headline === 'string') expect(truth.headline).toBe(headline);
    else expect(truth.headline).toMatch(headline);
    expect(truth.progress.kind).toBe(progress);
    expect(truth.badges.map((b) => b.label)).toEqual(badges);
    expect(truth.guidance.length).toBeGreaterThan(0);
    expect(truth.decision.stillActive.length).toBeGreaterThan(0);
  });
});

describe('deriveTruth: edges', () => {
  it('exactly at a threshold is still fresh; one millisecond past is stale', () => {
    expect(deriveTruth(run({ created_at: ago(900) }), policy, now).problemClass).toBe('none');
    expect(deriveTruth(run({ created_at: ago(900.001) }), policy, now).problemClass).toBe(
      'active_stale',
    );
    expect(deriveTruth(running({ last_heartbeat_at: ago(15) }), policy, now).problemClass).toBe(
      'none',
    );
    expect(deriveTruth(running({ last_heartbeat_at: ago(15.001) }), policy, now).problemClass).toBe(
      'active_stale',
    );
  });

  it('a heartbeat from the future (clock skew) counts as now, not as stale or negative', () => {
    const truth = deriveTruth(
      running({ last_heartbeat_at: new Date(now.getTime() + 60_000) }),
      policy,
      now,
    );
    expect(truth.problemClass).toBe('none');
  });

  it('a stale run with determinate progress shows no bar and no "n / m" reassurance', () => {
    const truth = deriveTruth(
      running({ last_heartbeat_at: ago(60), progress_processed: 7, progress_total: 10 }),
      policy,
      now,
    );
    expect(truth.progress).toEqual({ kind: 'none' });
    const copy = [
      truth.headline,
      truth.guidance,
      truth.decision.stillActive,
      truth.decision.whatNext,
      ...truth.badges.map((b) => b.label),
    ].join(' ');
    expect(copy).not.toMatch(/7 \/ 10|processed|Queued —|%/);
    expect(truth.guidance).toMatch(/worker stopped reporting/);
  });

  it('a reconciled run stays reconciled whatever its handler reported late', () => {
    const truth = deriveTruth(
      run({
        status: 'completed',
        outcome: 'failed',
        reconciliation: reconciled,
        progress_processed: 10,
        progress_total: 10,
      }),
      policy,
      now,
    );
    expect(truth.problemClass).toBe('reconciled');
    expect(truth.progress.kind).toBe('none');
  });

  it('queue exception text never reaches headline or guidance', () => {
    const facts = run({
      status: 'completed',
      outcome: 'failed',
      failures: [
        {
          code: 'handler.error',
          message: 'TypeError: Cannot read properties of undefined (reading "id")',
        },
      ],
    });
    const truth = deriveTruth(facts, policy, now);
    expect(truth.headline).toBe('Failed — The operation raised an error on its last attempt.');
    expect(`${truth.headline} ${truth.guidance}`).not.toMatch(/TypeError|undefined/);
  });

  // [case, outcome, failures (oldest first), headline]
  const terminalCopy: Array<
    [string, 'failed' | 'partially_succeeded' | 'blocked', RunFailure[], string]
  > = [
    [
      'a final failed attempt whose handler said "will retry"',
      'failed',
      [
        { code: 'upstream.unavailable', message: 'Upstream 503; will retry.' },
        { code: 'upstream.unavailable', message: 'Upstream 503; will retry.' },
      ],
      'Failed — The operation reported a failure.',
    ],
    [
      'a final attempt that threw a plain error',
      'failed',
      [{ code: 'handler.error', message: 'Upstream 503; will retry.' }],
      'Failed — The operation raised an error on its last attempt.',
    ],
    [
      'partially succeeded after an earlier attempt threw',
      'partially_succeeded',
      [
        { code: 'handler.error', message: 'socket hang up' },
        { code: 'item.failed', message: '2 of 120 items failed.' },
      ],
      'Partially succeeded — Some of its work failed.',
    ],
    [
      'partially succeeded whose last failure is an earlier attempt’s error',
      'partially_succeeded',
      [{ code: 'handler.error', message: 'socket hang up' }],
      'Partially succeeded — Some of its work failed.',
    ],
    [
      'partially succeeded after an earlier attempt timed out',
      'partially_succeeded',
      [{ code: 'queue.timeout', message: 'The handler did not finish within its 600 s timeout.' }],
      'Partially succeeded — Some of its work failed.',
    ],
    [
      'blocked by the handler in its own words',
      'blocked',
      [{ code: 'license.missing', message: 'Tenant t-42 (ops@contoso.com) has no E5 license.' }],
      'Blocked — The operation reported that it could not proceed.',
    ],
  ];

  it.each(terminalCopy)('terminal copy: %s', (_name, outcome, failures, headline) => {
    const truth = deriveTruth(run({ status: 'completed', outcome, failures }), policy, now);
    expect(truth.headline).toBe(headline);
    const notice = terminalNotice({ outcome, failures });
    const words = `${truth.headline} ${truth.guidance} ${truth.decision.whatNext} ${notice.body}`;
    expect(words).not.toMatch(/will retry/i);
    for (const f of failures) {
      if (!isReasonCode(f.code)) expect(words).not.toContain(f.message);
    }
    if (outcome === 'partially_succeeded') expect(words).not.toMatch(/raised an error|time limit/);
  });

  it('an external run waits for its system, not for a worker', () => {
    const truth = deriveTruth(run({}), policy, now, { execution: 'external' });
    expect(truth.headline).toBe('Queued — waiting for the external system to start it.');
    const stale = deriveTruth(run({ created_at: ago(1000) }), policy, now, {
      execution: 'external',
    });
    expect(stale.guidance).toMatch(/external system/);
  });

  it('an external run that keeps heartbeating while queued is not stale', () => {
    expect(
      deriveTruth(run({ created_at: ago(5000), last_heartbeat_at: ago(30) }), policy, now)
        .problemClass,
    ).toBe('none');
  });

  it('a running run with a cancel request says so', () => {
    const truth = deriveTruth(running({ cancel_requested_at: ago(1) }), policy, now);
    expect(truth.badges.map((b) => b.label)).toContain('Cancel requested');
  });
});

describe('deriveTruth: the deadline of a silent run', () => {
  // heartbeatSeconds 5: its heartbeat is lost after 15 s of silence.
  it('says when it is marked failed: one loss window after it went stale, whenever it is read', () => {
    const silent = running({ last_heartbeat_at: ago(20) });
    const truth = deriveTruth(silent, policy, now);
    expect(truth.deadline).toEqual({
      at: '2026-11-22T12:00:10.000Z',
      copy: 'It will be marked failed at {time} unless it reports.',
    });
    expect(truth.guidance).toBe('The worker stopped reporting 1 min ago.');
    expect(truth.decision.whatNext).toBe(truth.guidance);
    // Read again later, the same deadline (not "in 10 s" from each reading).
    const later = deriveTruth(silent, policy, new Date(now.getTime() + 5000));
    expect(later.deadline).toEqual(truth.deadline);
  });

  it('past its deadline the next check marks it: no time in the past', () => {
    const truth = deriveTruth(running({ last_heartbeat_at: ago(31) }), policy, now);
    expect(truth.deadline).toBeNull();
    expect(truth.guidance).toBe(
      'The worker stopped reporting 1 min ago. Runwarden marks it failed at its next check unless it reports.',
    );
  });

  it('the demo export silent 6 h 1 min (2 h beats) is marked failed 5 h 59 min later', () => {
    const slow = { ...policy, heartbeatSeconds: 7200, runningStaleAfterSeconds: 86_400 };
    const silent = running({ started_at: ago(7 * 3600), last_heartbeat_at: ago(6 * 3600 + 60) });
    const truth = deriveTruth(silent, slow, now);
    expect(truth.deadline?.at).toBe('2026-11-22T17:59:00.000Z');
    expect(truth.guidance).toBe('The worker stopped reporting 361 min ago.');
  });

  it('no deadline for a fresh run, a stale queue, an over-long run or a finished one', () => {
    const cases = [
      running(),
      run({ created_at: ago(901) }),
      running({ started_at: ago(1201), last_heartbeat_at: ago(1) }),
      run({ status: 'completed', outcome: 'succeeded' }),
    ];
    expect(cases.map((facts) => deriveTruth(facts, policy, now).deadline)).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('staleness', () => {
  it('names the rule that fired, with its threshold', () => {
    expect(staleness(running({ last_heartbeat_at: ago(20) }), policy, now)).toMatchObject({
      stale: true,
      reason: 'run.heartbeat_lost',
      thresholdSeconds: 15,
    });
    expect(staleness(running({ started_at: ago(2000) }), policy, now)).toMatchObject({
      reason: 'run.stale_running',
      thresholdSeconds: 1200,
    });
    expect(staleness(run({ created_at: ago(1000) }), policy, now)).toMatchObject({
      reason: 'run.stale_queued',
      thresholdSeconds: 900,
    });
    expect(
      staleness(
        run({ status: 'completed', outcome: 'succeeded', created_at: ago(99_999) }),
        policy,
        now,
      ),
    ).toEqual({ stale: false });
  });
});

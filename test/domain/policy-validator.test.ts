import { describe, expect, it } from 'vitest';
import { retryBackoffSeconds, validatePolicy } from '../../src/domain/policy-validator.js';

describe('validatePolicy', () => {
  it('accepts the defaults', () => {
    expect(validatePolicy('inventory.sync', {})).toEqual([]);
  });

  it.each([
    [
      { timeoutSeconds: 1190 },
      /inventory.sync: timeoutSeconds \(1190\) \+ 30 s margin must stay below runningStaleAfterSeconds \(1200\)/,
    ],
    [
      { timeoutSeconds: 600, runningStaleAfterSeconds: 630 },
      /timeoutSeconds \(600\) \+ 30 s margin/,
    ],
    [
      { heartbeatSeconds: 400 },
      /3 × heartbeatSeconds \(1200\) must stay below runningStaleAfterSeconds \(1200\)/,
    ],
    [{ queuedStaleAfterSeconds: 10 }, /queuedStaleAfterSeconds \(10\) is shorter than the 60 s/],
    [
      { retries: 7, queuedStaleAfterSeconds: 900 },
      /retries \(7\) wait 1[0-9]{3} s in backoff, which outlives queuedStaleAfterSeconds \(900\)/,
    ],
    [{ timeoutSeconds: 0 }, /timeoutSeconds must be a positive number of seconds, got 0/],
    [{ heartbeatSeconds: -5 }, /heartbeatSeconds must be a positive number of seconds, got -5/],
    [{ retries: 1.5 }, /retries must be a whole number ≥ 0, got 1.5/],
    [{ timeoutSecs: 60 }, /unknown lifecycle setting "timeoutSecs"/],
    [{ terminalTruth: 'sometimes' }, /terminalTruth must be "direct" or "reconcile_only"/],
  ])('rejects %j', (policy, message) => {
    const problems = validatePolicy('inventory.sync', policy);
    expect(problems.join('\n')).toMatch(message);
  });

  it('reports every problem, one message each', () => {
    const problems = validatePolicy('x.y', {
      timeoutSeconds: 2000,
      heartbeatSeconds: 500,
      queuedStaleAfterSeconds: 30,
    });
    expect(problems).toHaveLength(3);
  });

  it('treats exactly-at-the-limit as misaligned', () => {
    expect(
      validatePolicy('x.y', { timeoutSeconds: 1170, runningStaleAfterSeconds: 1200 }),
    ).toHaveLength(1);
    expect(validatePolicy('x.y', { timeoutSeconds: 1169, runningStaleAfterSeconds: 1200 })).toEqual(
      [],
    );
  });

  it('computes graphile-worker backoff', () => {
    expect(retryBackoffSeconds(0)).toBe(0);
    expect(retryBackoffSeconds(2)).toBeCloseTo(Math.E + Math.E ** 2);
  });
});

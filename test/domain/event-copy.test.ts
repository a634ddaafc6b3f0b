import { describe, expect, it } from 'vitest';
import { eventCopy } from '../../src/domain/event-copy.js';
import { RUN_EVENT_KINDS } from '../../src/domain/run.js';

describe('eventCopy: the timeline in words', () => {
  it('words every event kind without showing the raw kind', () => {
    for (const kind of RUN_EVENT_KINDS) {
      const copy = eventCopy(kind, {
        attempt: 1,
        outcome: 'failed',
        reasonCode: 'run.heartbeat_lost',
      });
      expect(copy.title).not.toContain('_');
      expect(copy.title).not.toBe(kind);
    }
  });

  it('a hand-back says it was handed back and why, not that the attempt failed', () => {
    const copy = eventCopy('handed_back', {
      attempt: 2,
      reason: 'worker_shutdown',
      message: 'Its worker shut down before the handler finished.',
    });
    expect(copy).toEqual({
      title: 'Attempt 2 handed back',
      detail: 'Its worker shut down before the handler finished.',
    });
  });

  it("an ended attempt's detail keeps what it counted (the run's counts start again)", () => {
    expect(
      eventCopy('attempt_failed', { attempt: 1, code: 'handler.error', counts: { rows: 25 } }),
    ).toEqual({
      title: 'Attempt 1 failed',
      detail:
        'handler.error; the run went back to the queue to retry. This attempt counted rows 25.',
    });
    expect(
      eventCopy('handed_back', {
        attempt: 2,
        message: 'Its worker shut down before the handler finished.',
        counts: { rows: 40, skipped: 2 },
      }).detail,
    ).toBe(
      'Its worker shut down before the handler finished. This attempt counted rows 40, skipped 2.',
    );
    expect(eventCopy('attempt_failed', { attempt: 1, code: 'x', counts: {} }).detail).toBe(
      'x; the run went back to the queue to retry',
    );
  });

  it('a reconciliation names its reason in operator words; a late result says it changed nothing', () => {
    expect(eventCopy('reconciled', { reasonCode: 'run.heartbeat_lost' }).detail).toBe(
      'The worker stopped reporting.',
    );
    expect(eventCopy('late_completion', { outcome: 'succeeded' }).detail).toMatch(
      /after the run had ended; the run keeps its result/,
    );
    expect(eventCopy('completed', { outcome: 'partially_succeeded' }).title).toBe(
      'Finished: partially succeeded',
    );
  });
});

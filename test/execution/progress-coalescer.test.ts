import { describe, expect, it } from 'vitest';
import { type Progress, ProgressCoalescer } from '../../src/execution/progress-coalescer.js';
import { quietLogger } from '../support/worker.js';

/** A coalescer on a clock and a timer moved by hand, and writes that finish when told to. */
function harness() {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const written: Progress[] = [];
  const inFlight: Array<() => void> = [];
  const coalescer = new ProgressCoalescer(
    (p) =>
      new Promise<void>((resolve) => {
        written.push(p);
        inFlight.push(resolve);
      }),
    {
      intervalMs: 250,
      now: () => now,
      schedule: (fire, ms) => {
        const timer = { at: now + ms, fire, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
      log: quietLogger,
    },
  );
  return {
    coalescer,
    written,
    /** Lets every write in flight finish. */
    async settle() {
      while (inFlight.length > 0) inFlight.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
    /** Moves the clock and fires the timers that are due. */
    async advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
        t.cancelled = true;
        t.fire();
      }
      await new Promise((resolve) => setImmediate(resolve));
    },
    pendingTimers: () => timers.filter((t) => !t.cancelled).length,
  };
}

const p = (processed: number): Progress => ({ processed, total: 20 });

describe('progress coalescing', () => {
  it('writes the first report at once and then the latest value once per interval', async () => {
    const h = harness();
    for (let i = 1; i <= 20; i++) h.coalescer.report(p(i));
    expect(h.written).toEqual([p(1)]); // the run moves at once
    await h.settle();
    expect(h.written).toHaveLength(1); // the rest waits for the interval
    await h.advance(249);
    expect(h.written).toHaveLength(1);
    await h.advance(1);
    expect(h.written).toEqual([p(1), p(20)]); // the latest value wins
    await h.settle();
    expect(await h.coalescer.take()).toBeUndefined(); // the run already shows the last report
    expect(h.coalescer.writes).toBe(2);
  });

  it('hands the unwritten value to the completion and writes nothing after it', async () => {
    const h = harness();
    h.coalescer.report(p(1));
    h.coalescer.report(p(7));
    // A write is in flight: take() waits for it, so the completion cannot be overtaken.
    let taken: Progress | undefined | 'waiting' = 'waiting';
    const taking = h.coalescer.take().then((v) => {
      taken = v;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(taken).toBe('waiting');
    await h.settle();
    await taking;
    expect(taken).toEqual(p(7));
    expect(h.pendingTimers()).toBe(0);
    // A handler that goes on reporting after its run ended writes nothing more.
    h.coalescer.report(p(9));
    await h.advance(1_000);
    expect(h.written).toEqual([p(1)]);
  });

  it('keeps a value whose write failed for the next write', async () => {
    let fail = true;
    const written: Progress[] = [];
    const coalescer = new ProgressCoalescer(
      async (value) => {
        if (fail) throw new Error('boom');
        written.push(value);
      },
      { intervalMs: 60_000, log: quietLogger },
    );
    coalescer.report(p(3));
    await new Promise((resolve) => setImmediate(resolve));
    fail = false;
    // Not written, not lost: the completion carries it.
    expect(await coalescer.take()).toEqual(p(3));
    expect(written).toEqual([]);
  });
});

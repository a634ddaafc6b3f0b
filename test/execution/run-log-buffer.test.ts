import { describe, expect, it } from 'vitest';
import { type LogLine, toLogLine } from '../../src/domain/run-log-lines.js';
import { RunLogBuffer } from '../../src/execution/run-log-buffer.js';
import { quietLogger } from '../support/worker.js';

// The worker's side of run logs (DESIGN §18): lines are handed to the writer in batches, one
// write at a time; the attempt's end writes every line still waiting; lines no run could keep
// are only counted. Writes here finish when the test says so.

function harness(caps = { maxLines: 100, maxBytes: 1024 * 1024 }) {
  const writes: Array<{ messages: string[]; alsoDropped: number }> = [];
  const inFlight: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const buffer = new RunLogBuffer(
    (lines: LogLine[], alsoDropped: number) =>
      new Promise<void>((resolve, reject) => {
        writes.push({ messages: lines.map((l) => l.message), alsoDropped });
        inFlight.push({ resolve, reject });
      }),
    { caps, intervalMs: 60_000, log: quietLogger },
  );
  const add = (...messages: string[]) => {
    for (const m of messages) buffer.add(toLogLine('info', m, undefined, new Date()));
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return {
    buffer,
    writes,
    add,
    async finish() {
      inFlight.shift()?.resolve();
      await tick();
    },
    async fail() {
      inFlight.shift()?.reject(new Error('connection reset'));
      await tick();
    },
    tick,
  };
}

describe('a run log buffer', () => {
  it('writes the first line at once, then waits; the end writes the rest in one batch', async () => {
    const h = harness();
    h.add('one');
    expect(h.writes).toEqual([{ messages: ['one'], alsoDropped: 0 }]);
    h.add('two', 'three'); // a write is in flight, and then the interval holds them
    await h.finish();
    expect(h.writes).toHaveLength(1);
    const closed = h.buffer.close();
    await h.tick();
    expect(h.writes[1]).toEqual({ messages: ['two', 'three'], alsoDropped: 0 });
    let done = false;
    void closed.then(() => {
      done = true;
    });
    await h.tick();
    expect(done).toBe(false); // the end waits for the last write to land
    await h.finish();
    await closed;
    h.add('late'); // after the end: not kept
    await h.tick();
    expect(h.writes).toHaveLength(2);
  });

  it('holds at most the cap while waiting, and counts the rest as dropped after them', async () => {
    const h = harness({ maxLines: 3, maxBytes: 1024 * 1024 });
    h.add('a');
    h.add('b', 'c', 'd', 'e', 'f');
    await h.finish();
    const closed = h.buffer.close();
    await h.tick();
    expect(h.writes[1]).toEqual({ messages: ['b', 'c', 'd'], alsoDropped: 2 });
    await h.finish();
    await closed;
  });

  it('keeps the lines of a failed write for the next one', async () => {
    const h = harness();
    h.add('kept');
    await h.fail();
    const closed = h.buffer.close();
    await h.tick();
    expect(h.writes.map((w) => w.messages)).toEqual([['kept'], ['kept']]);
    await h.finish();
    await closed;
  });
});

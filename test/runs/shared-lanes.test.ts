import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_SHARED,
  MAX_STALLED,
  SharedStatements,
  STALL_MS,
} from '../../src/runs/shared-statements.js';

// The lanes themselves, with a statement we control: what goes together, what waits, and what a
// failure does to the writes that shared it.
interface Row {
  id: string;
}

/** A `many` whose statements settle when the test says so; records each statement's ids. */
function controlled() {
  const statements: Array<{
    key: string;
    ids: string[];
    settle(rows?: Row[]): void;
    fail(error: unknown): void;
  }> = [];
  const many = (key: string, batch: Row[]) =>
    new Promise<Row[]>((resolve, reject) =>
      statements.push({
        key,
        ids: batch.map((e) => e.id),
        settle: (rows) => resolve(rows ?? batch.map((e) => ({ id: e.id.toLowerCase() }))),
        fail: reject,
      }),
    );
  return { statements, lanes: new SharedStatements<string, Row, Row>(many) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const ids = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** `n` writes that arrived behind a lone one, now on their way as the second, shared statement. */
async function sharedBehindOne(n: number) {
  const { statements, lanes } = controlled();
  const first = lanes.write('k', { id: 'first' });
  const shared = ids(n).map((id) => lanes.write('k', { id }));
  statements[0]?.settle();
  await first;
  await tick();
  return { statements, lanes, shared };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('shared statement lanes', () => {
  it('send a lone write at once, and what arrives meanwhile together, at most MAX_SHARED', async () => {
    const { statements, lanes } = controlled();
    const first = lanes.write('k', { id: 'first' });
    expect(statements.map((s) => s.ids)).toEqual([['first']]);
    const rest = ids(MAX_SHARED + 1).map((id) => lanes.write('k', { id }));
    statements[0]?.settle();
    expect(await first).toEqual({ id: 'first' });
    await tick();
    expect(statements[1]?.ids).toEqual(ids(MAX_SHARED));
    statements[1]?.settle();
    await tick();
    expect(statements[2]?.ids).toEqual([`r${MAX_SHARED}`]);
    statements[2]?.settle();
    expect(await Promise.all(rest)).toEqual(ids(MAX_SHARED + 1).map((id) => ({ id })));
  });

  it('never share a statement between keys, and answer undefined for a run that did not move', async () => {
    const { statements, lanes } = controlled();
    const a = lanes.write('a', { id: 'x' });
    const b = lanes.write('b', { id: 'y' });
    expect(statements.map((s) => [s.key, s.ids])).toEqual([
      ['a', ['x']],
      ['b', ['y']],
    ]);
    statements[0]?.settle([]);
    statements[1]?.settle();
    expect(await a).toBeUndefined();
    expect(await b).toEqual({ id: 'y' });
  });

  it('match a moved row to its write whatever the letter case of its id', async () => {
    const { statements, lanes } = controlled();
    const written = lanes.write('k', { id: 'ABC' });
    statements[0]?.settle();
    expect(await written).toEqual({ id: 'abc' });
  });

  it('try each write of a failed statement alone, and keep the lane going', async () => {
    const { statements, lanes, shared } = await sharedBehindOne(3);
    statements[1]?.fail(new Error('counts limit'));
    await tick();
    expect(statements.slice(2).map((s) => s.ids)).toEqual([['r0'], ['r1'], ['r2']]);
    statements[2]?.settle();
    statements[3]?.fail(new Error('counts limit'));
    statements[4]?.settle();
    const answers = await Promise.allSettled(shared);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const later = lanes.write('k', { id: 'later' });
    await tick();
    expect(statements[5]?.ids).toEqual(['later']);
    statements[5]?.settle();
    expect(await later).toEqual({ id: 'later' });
  });

  it('fail every write at once while the database is unreachable (their callers retry)', async () => {
    const { statements, shared } = await sharedBehindOne(3);
    const gone = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    statements[1]?.fail(gone);
    const answers = await Promise.allSettled(shared);
    expect(answers.every((a) => a.status === 'rejected' && a.reason === gone)).toBe(true);
    expect(statements).toHaveLength(2);
  });

  it('do not hold the writes behind a statement that stalls', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { statements, lanes } = controlled();
    const stuck = lanes.write('k', { id: 'stuck' });
    const behind = lanes.write('k', { id: 'behind' });
    await tick();
    expect(statements).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(STALL_MS);
    expect(statements.map((s) => s.ids)).toEqual([['stuck'], ['behind']]);
    statements[1]?.settle();
    expect(await behind).toEqual({ id: 'behind' });
    statements[0]?.settle();
    expect(await stuck).toEqual({ id: 'stuck' });
  });

  it('leave at most MAX_STALLED statements stalled at once (a silent network drains no pool)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { statements, lanes } = controlled();
    // Each write arrives after the statement before it stalled, and none ever answers.
    const all = ids(MAX_STALLED + 2);
    const writes = [];
    for (const id of all) {
      writes.push(lanes.write('k', { id }));
      await vi.advanceTimersByTimeAsync(STALL_MS);
    }
    await vi.advanceTimersByTimeAsync(STALL_MS * 5);
    expect(statements).toHaveLength(MAX_STALLED);
    // One answers: the writes that waited leave, together.
    statements[0]?.settle();
    await vi.advanceTimersByTimeAsync(0);
    expect(statements.map((s) => s.ids)).toEqual([
      ...all.slice(0, MAX_STALLED).map((id) => [id]),
      all.slice(MAX_STALLED),
    ]);
    for (const statement of statements.slice(1)) statement.settle();
    expect((await Promise.all(writes)).map((row) => row?.id)).toEqual(all);
  });
});

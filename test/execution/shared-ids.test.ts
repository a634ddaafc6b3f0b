import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { readSharedIds, sharedIdsBytes, writeSharedIds } from '../../src/execution/shared-ids.js';

describe('shared in-flight ids (main thread → heartbeat thread, no message per change)', () => {
  it('reads back what was written, empty included; refuses ids that do not fit', () => {
    const buffer = new SharedArrayBuffer(sharedIdsBytes(4));
    expect(readSharedIds(buffer)).toEqual([]);
    const ids = Array.from({ length: 8 }, () => crypto.randomUUID());
    expect(writeSharedIds(buffer, ids)).toBe(true);
    expect(readSharedIds(buffer)).toEqual(ids);
    expect(writeSharedIds(buffer, [])).toBe(true);
    expect(readSharedIds(buffer)).toEqual([]);
    const tooMany = Array.from({ length: 200 }, () => crypto.randomUUID());
    expect(writeSharedIds(buffer, tooMany)).toBe(false);
    expect(readSharedIds(buffer)).toEqual([]); // a refused write changes nothing
  });

  it('a reader on another thread never sees half of a write while writes race it', async () => {
    const buffer = new SharedArrayBuffer(sharedIdsBytes(64));
    const file = new URL('../fixtures/shared-ids-reader.ts', import.meta.url).href;
    const reader = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file)}); })`,
      { eval: true, workerData: { buffer, reads: 200_000 } },
    );
    const result = new Promise<{ torn: number; seen: number }>((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
    let done = false;
    void result.then(() => {
      done = true;
    });
    // Lists of changing length, so a torn read would show a wrong id or a cut one.
    for (let g = 0; !done; g++) {
      const size = 1 + (g % 60);
      writeSharedIds(
        buffer,
        Array.from({ length: size }, (_, i) => `g${g}-${i}`),
      );
      if (g % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const { torn, seen } = await result;
    await reader.terminate();
    expect(seen).toBeGreaterThan(0);
    expect(torn).toBe(0);
  });
});

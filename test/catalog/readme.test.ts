import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';

const README = path.resolve(import.meta.dirname, '../../README.md');

/** The backticked operation types (`word.word`) of the README's "The demo catalog" section. */
async function readmeTypes(): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf('### The demo catalog');
  if (start < 0) throw new Error('README.md has no "### The demo catalog" section');
  const end = text.slice(start + 1).search(/\n#{2,3} /);
  const section = end < 0 ? text.slice(start) : text.slice(start, start + 1 + end);
  return [...section.matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1] ?? '');
}

describe("the README's demo catalog (issue 25)", () => {
  it('lists every operation type of the demo catalog, and no other', async () => {
    const types = demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }).map(
      (operation) => operation.type,
    );
    expect([...new Set(await readmeTypes())].sort()).toEqual([...types].sort());
  });
});

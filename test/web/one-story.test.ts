import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Components render `run.truth` and never decide a run's state or its words themselves
// (DESIGN §6: deriveTruth is the one source). This guard fails when web code starts to.
const FORBIDDEN: Array<[RegExp, string]> = [
  [/\.status\s*[!=]==?\s*['"](queued|running|completed)['"]/, 'compares a run status'],
  [/\.outcome\s*[!=]==?/, 'compares a run outcome'],
  [/\b(staleness|deriveTruth|heartbeatSeconds|StaleAfterSeconds)\b/, 'judges staleness'],
  [
    /Queued —|processed \(|Past the lifecycle window|Automatically marked failed|Running —/,
    'writes status copy',
  ],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.config.ts') ? [full] : [];
  });
}

describe('one story: the web app renders truth, it does not derive it', () => {
  const files = sources(path.resolve(import.meta.dirname, '../../src/web'));

  it('finds the web sources', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('has no component computing status, staleness or status copy', () => {
    const found: string[] = [];
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          for (const [pattern, why] of FORBIDDEN) {
            if (pattern.test(line))
              found.push(`${path.relative(process.cwd(), file)}:${i + 1} ${why}: ${line.trim()}`);
          }
        });
    }
    expect(found).toEqual([]);
  });

  it('catches a component that decides staleness itself', () => {
    const line =
      "if (run.status === 'running' && Date.now() - last > 15_000) return 'Likely stale';";
    expect(FORBIDDEN.some(([pattern]) => pattern.test(line))).toBe(true);
  });
});

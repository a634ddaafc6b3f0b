import { describe, expect, it } from 'vitest';
import { logFormat } from '../../src/logger.js';
import { spawnCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

const t = await freshDatabase();

async function migrateOutput(env: Record<string, string>): Promise<string[]> {
  const cli = spawnCli(['migrate'], { DATABASE_URL: t.url, ...env });
  const { code } = await cli.exited;
  expect(code, cli.output()).toBe(0);
  return cli
    .output()
    .split('\n')
    .filter((line) => line.trim());
}

describe('logs for people and for machines (issue 14 point 15)', () => {
  it('writes JSON lines with ISO times when stdout is not a terminal', async () => {
    const lines = await migrateOutput({});
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: unknown; msg: unknown };
      expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof entry.msg).toBe('string');
    }
  });

  it('writes readable lines (time, level, message) with LOG_FORMAT=pretty, as on a terminal', async () => {
    const lines = await migrateOutput({ LOG_FORMAT: 'pretty' });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.startsWith('{')).toBe(false);
      expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|DEBUG|ERROR)/);
    }
  });

  it('chooses pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormat(undefined, true)).toBe('pretty');
    expect(logFormat(undefined, false)).toBe('json');
    expect(logFormat(undefined, undefined)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('pretty', false)).toBe('pretty');
  });
});

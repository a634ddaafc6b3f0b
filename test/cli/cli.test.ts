import { describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';

describe('runwarden CLI', () => {
  it.each([[[]], [['start']], [['migrate']], [['worker']], [['schedules']]])(
    'prints help for %j',
    async (verb) => {
      const cli = spawnCli([...verb, '--help']);
      const { code } = await cli.exited;
      expect(code).toBe(0);
      expect(cli.output()).toMatch(/^Usage: runwarden/m);
    },
  );

  it('migrates a given DATABASE_URL, twice without complaint', async () => {
    const { url } = await freshDatabase({ empty: true });
    for (const expected of [/applied 1 migration\(s\)/, /already up to date/]) {
      const cli = spawnCli(['migrate'], { DATABASE_URL: url });
      const { code } = await cli.exited;
      expect(code, cli.output()).toBe(0);
      expect(cli.output()).toMatch(expected);
      expect(cli.output()).not.toContain(new URL(url).password); // the password never reaches a log
    }
  });

  it('lists the demo catalog schedules', async () => {
    const cli = spawnCli(['schedules']);
    expect((await cli.exited).code).toBe(0);
    expect(cli.output()).toMatch(/nightly-backup\s+backup_schedule\.run\s+0 2 \* \* \*/);
  });

  it('worker refuses to run without DATABASE_URL and says which database to use', async () => {
    const cli = spawnCli(['worker']);
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output()).toMatch(/runwarden worker needs DATABASE_URL/);
  });

  it('rejects bad configuration with a clear message and exit code 1', async () => {
    const cli = spawnCli(['migrate'], { PORT: 'eighty' });
    const { code } = await cli.exited;
    expect(code).toBe(1);
    expect(cli.output()).toMatch(/runwarden: Invalid configuration: PORT/);
  });
});

import { describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.js';

// DESIGN §17: bad flow settings are refused by `runwarden validate` with a message naming the
// type or pool, the setting and the value; every process refuses to boot on them the same way.

describe('runwarden validate with flow limits', () => {
  it('names each bad flow setting and exits 1', async () => {
    const cli = spawnCli(['validate'], { RUNWARDEN_CONFIG: 'test/fixtures/flow-catalog.ts' });
    const { code } = await cli.exited;
    const output = cli.output();
    expect(code).toBe(1);
    expect(output).toMatch(/3 problem\(s\) in the catalog/);
    expect(output).toMatch(/flow pool "empty" sets no limit: give it a concurrency or a rate/);
    expect(output).toMatch(
      /mail.sync flow: concurrency.perTenant must be a whole number ≥ 1, got 0/,
    );
    expect(output).toMatch(
      /mail.sync flow: pool "grpah" is not declared in the catalog's flowPools/,
    );
    expect(output).not.toMatch(/inventory.sync/);
  });

  it('a worker refuses to boot on them', async () => {
    const cli = spawnCli(['worker'], {
      RUNWARDEN_CONFIG: 'test/fixtures/flow-catalog.ts',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    const { code } = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.output()).toMatch(/invalid lifecycle or flow policy/);
    expect(cli.output()).toMatch(/pool "grpah" is not declared/);
  });
});

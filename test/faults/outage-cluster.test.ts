import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutageCluster, startOutageCluster } from '../support/outage-cluster.js';

let cluster: OutageCluster;

beforeAll(async () => {
  cluster = await startOutageCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a PostgreSQL cluster a fault test can stop and start', () => {
  it('keeps committed rows across a fast stop and across a crash (immediate stop)', {
    timeout: 120_000,
  }, async () => {
    expect(await query('select 1 from pg_tables where schemaname = $$public$$')).toEqual([]);
    await query('create table kept (n int)');
    await query('insert into kept values (1)');

    await cluster.stop('fast');
    await expect(query('select 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.start();
    expect(await query('select n from kept')).toEqual([{ n: 1 }]);

    await query('insert into kept values (2)');
    await cluster.stop('immediate');
    await expect(query('select 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster.start();
    expect(await query('select n from kept order by n')).toEqual([{ n: 1 }, { n: 2 }]);
  });
});

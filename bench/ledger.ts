import { sql } from 'kysely';
import { uuidv7 } from '../src/domain/uuid.js';
import { queueFixture } from './queue-fixture.js';
import { fmt, measure, progress } from './support.js';

const CONNECTIONS = 8;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = 3;

/**
 * createOrReuse + complete pairs per second on 8 connections, against plain single-row
 * INSERT + UPDATE commits (autocommit, one statement each) on the same database.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('ledger');
  const { db, runs, workspaceId, tenantId } = f;
  try {
    await sql`create table bench_plain (
      id uuid primary key, status text not null, payload jsonb not null, created_at timestamptz not null,
      updated_at timestamptz not null)`.execute(db);

    let sequence = 0;
    const ours = async () => {
      sequence += 1;
      const { run } = await runs.createOrReuse({
        workspaceId,
        tenantId,
        type: 'bench.pair',
        identity: { n: sequence },
        input: { n: sequence },
        initiatorUserId: null,
      });
      await runs.complete(run.id, { outcome: 'succeeded', counts: { items: 1 } });
    };
    const plain = async () => {
      const id = uuidv7();
      const now = new Date();
      await sql`insert into bench_plain (id, status, payload, created_at, updated_at)
        values (${id}, 'queued', ${JSON.stringify({ n: id })}::jsonb, ${now}, ${now})`.execute(db);
      await sql`update bench_plain set status = 'completed', updated_at = ${new Date()} where id = ${id}`.execute(
        db,
      );
    };

    progress(`warming up (${CONNECTIONS} connections)…`);
    await measure(CONNECTIONS, 1, plain);
    await measure(CONNECTIONS, 1, ours);
    const plainRates: number[] = [];
    const ourRates: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      plainRates.push(await measure(CONNECTIONS, SECONDS, plain));
      ourRates.push(await measure(CONNECTIONS, SECONDS, ours));
      progress(
        `round ${round}/${ROUNDS}: plain ${fmt(plainRates.at(-1) ?? 0)} pairs/s, ` +
          `runwarden ${fmt(ourRates.at(-1) ?? 0)} pairs/s`,
      );
    }
    const plainMedian = median(plainRates);
    const ourMedian = median(ourRates);
    console.log(
      `plain INSERT+UPDATE commits: ${fmt(plainMedian)} pairs/s (median of ${ROUNDS} × ${SECONDS}s, ${CONNECTIONS} connections)`,
    );
    console.log(`runwarden createOrReuse+complete: ${fmt(ourMedian)} pairs/s`);
    console.log(`ratio runwarden/plain: ${(ourMedian / plainMedian).toFixed(2)} (target >= 0.5)`);
  } finally {
    await f.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

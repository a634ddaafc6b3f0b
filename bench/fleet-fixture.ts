import { Kysely, PostgresDialect, sql } from 'kysely';
import pino from 'pino';
import { seedDemo } from '../src/cli/demo-seed/index.js';
import { preparingPool } from '../src/db/prepared.js';
import type { Database } from '../src/db/schema.js';
import { uuidv7 } from '../src/domain/uuid.js';
import { buildApp } from '../src/http/app.js';
import { createRunwarden } from '../src/runwarden.js';
import type { CapturedQuery } from './api.js';
import { catalog, PLAIN } from './fleet-catalog.js';
import { queueFixture } from './queue-fixture.js';
import { fmt, progress } from './support.js';

const PASSWORD = 'bench-fleet-password';

export type FleetFixture = Awaited<ReturnType<typeof fleetFixture>>;

/**
 * The demo's workspace `contoso` with `active` active tenants and `inactive` inactive ones (its own
 * three among them), the real app logged in as its owner, and the library (`createRunwarden`) on
 * the same database.
 */
export async function fleetFixture(options: {
  active: number;
  inactive: number;
  statements?: boolean;
}) {
  const f = await queueFixture('fleet', { operations: catalog, statements: options.statements });
  if (options.statements) {
    // Nested statements too: what graphile_worker.add_job and the triggers run inside.
    await sql`create extension if not exists pg_stat_statements`.execute(f.db);
    await sql`alter system set pg_stat_statements.track = 'all'`.execute(f.db);
    await sql`select pg_reload_conf()`.execute(f.db);
  }
  await seedDemo({ db: f.db, registry: f.registry }, { password: PASSWORD, history: false });
  const ws = await f.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', 'contoso')
    .executeTakeFirstOrThrow();
  await f.db
    .updateTable('tenants')
    .set({ status: 'inactive' })
    .where('workspace_id', '=', ws.id)
    .execute();
  const own = (
    await f.db.selectFrom('tenants').select('id').where('workspace_id', '=', ws.id).execute()
  ).length;
  const rows = Array.from({ length: options.active + options.inactive - own }, (_, i) => ({
    id: uuidv7(),
    workspace_id: ws.id,
    slug: `fleet-${String(i).padStart(4, '0')}`,
    name: `Fleet tenant ${i}`,
    status: i < options.active ? ('active' as const) : ('inactive' as const),
  }));
  await f.db.insertInto('tenants').values(rows).execute();

  // The app's own Kysely (as createDb makes it), recording the SQL of a request when asked to.
  const recorder: { queries?: CapturedQuery[] } = {};
  const appDb = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: preparingPool(f.pool) }),
    log: (event) => {
      if (event.level === 'query')
        recorder.queries?.push({
          sql: event.query.sql,
          parameters: event.query.parameters,
          ms: event.queryDurationMillis,
        });
    },
  });
  const app = await buildApp({
    db: appDb,
    pool: f.pool,
    logger: f.logger,
    registry: f.registry,
    runs: f.runs,
    options: { webRoot: false, loginPerMinute: 1000 },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@demo.test', password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  // Every cookie of the login (the session's and the CSRF secret's), and the token for changes.
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .join('; ');
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const rw = createRunwarden({
    databaseUrl: f.url,
    operations: catalog,
    logger: pino({ level: 'silent' }),
  });
  const closeFixture = f.close.bind(f);
  return Object.assign(f, {
    app,
    base,
    cookie,
    csrfToken,
    rw,
    recorder,
    workspaceId: ws.id,
    /** Since this instant every run is the bench's own (the history is older). */
    mark: new Date(),
    async close() {
      await app.close();
      await rw.close();
      await closeFixture();
    },
  });
}

/** The runs the bench started (history kept), their jobs, lanes and shares: gone. */
export async function resetFleets(f: FleetFixture): Promise<void> {
  await sql`delete from operation_runs where created_at >= ${f.mark}`.execute(f.db);
  await sql`delete from graphile_worker._private_jobs`.execute(f.db);
  await sql`truncate flow_lanes, flow_shares`.execute(f.db);
}

/**
 * `n` succeeded runs of the first 100 active tenants over the last 30 days (before `mark`),
 * set-based, oldest first. After the starts: a reset deleting runs beside many others pays a scan
 * per deleted run (`retry_of` has no index for its foreign key's `on delete set null`).
 */
export async function addHistory(f: FleetFixture, n: number): Promise<void> {
  if (n === 0) return;
  const { db, workspaceId } = f;
  const tenants = (
    await db
      .selectFrom('tenants')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('status', '=', 'active')
      .orderBy('slug')
      .limit(100)
      .execute()
  ).map((t) => t.id);
  await sql`alter table operation_runs disable trigger operation_runs_notify_insert`.execute(db);
  try {
    await sql`
      insert into operation_runs (id, workspace_id, tenant_id, type, status, outcome, identity_hash,
        input, attempt, created_at, started_at, completed_at, updated_at)
      select gen_random_uuid(), ${workspaceId}::uuid, (${tenants}::uuid[])[1 + g % ${tenants.length}::int],
             ${PLAIN}, 'completed', 'succeeded', md5('history-' || g),
             jsonb_build_object('minMs', 50, 'maxMs', 200, 'tag', 'history'), 1, t.at, t.at, t.at, t.at
      from generate_series(1, ${n}::int) g,
           lateral (select date_trunc('milliseconds', now() - interval '1 hour'
             - make_interval(secs => (${n}::int - g) * (30 * 86400.0 / ${n}::int))) as at) t`.execute(
      db,
    );
  } finally {
    await sql`alter table operation_runs enable trigger operation_runs_notify_insert`.execute(db);
  }
  await sql`vacuum (analyze) operation_runs`.execute(db);
  progress(`${fmt(n)} finished runs of history`);
}

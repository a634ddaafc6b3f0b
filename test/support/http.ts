import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll } from 'vitest';
import { hashPassword } from '../../src/access/passwords.js';
import { demoCatalog } from '../../src/catalog/index.js';
import { seedDemo } from '../../src/cli/demo-seed/index.js';
import type { DemoIds } from '../../src/cli/demo-seed/people.js';
import type { Role } from '../../src/db/schema.js';
import type { FlowPool } from '../../src/domain/flow.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import type { OperationDefinition } from '../../src/execution/operation.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { quietLogger } from './worker.js';

export const DEMO_PASSWORD = 'demo-password-for-tests';

/** Request headers that identify a caller: a session cookie + CSRF token, or a bearer token. */
export interface Caller {
  name: string;
  headers: Record<string, string>;
  userId?: string;
}

/** The demo's workspaces and tenants, by the seed's own names. */
export type Ids = Omit<DemoIds, 'owner' | 'operator'>;

export interface ApiHarness {
  t: TestDatabase;
  db: TestDatabase['db'];
  app: FastifyInstance;
  registry: OperationRegistry;
  runs: RunService;
  ids: Ids;
  login(email: string): Promise<Caller>;
  request(caller: Caller | undefined, options: InjectOptions): Promise<LightMyRequestResponse>;
  userId(email: string): Promise<string>;
}

/**
 * The API on a fresh database holding the demo (DESIGN §13) plus a manager and a member
 * restricted to `contoso-dev`, so every role of the authorization matrix exists.
 */
export async function apiHarness(
  options: {
    operations?: OperationDefinition[];
    /** The catalog's shared flow limits (DESIGN §17). */
    flowPools?: FlowPool[];
    app?: Partial<AppOptions>;
    history?: boolean;
  } = {},
): Promise<ApiHarness> {
  const t = await freshDatabase({ max: 20 });
  const registry = new OperationRegistry(
    options.operations ?? demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
    undefined,
    { flowPools: options.flowPools ?? [] },
  );
  const runs = new RunService({ db: t.db });
  await seedDemo(
    { db: t.db, registry },
    { password: DEMO_PASSWORD, history: options.history ?? false },
  );
  const ids = await loadIds(t);
  await addMember(t, ids.contoso, 'manager@demo.test', 'manager', null);
  await addMember(t, ids.contoso, 'restricted@demo.test', 'operator', [ids.dev]);
  const pool = new pg.Pool({ connectionString: t.url, max: 4 });
  const app = await buildApp({
    db: t.db,
    pool,
    logger: quietLogger,
    registry,
    runs,
    options: { loginPerMinute: 10_000, summaryCacheMs: 0, ...options.app },
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
  });
  const request = (caller: Caller | undefined, opts: InjectOptions) =>
    app.inject({ ...opts, headers: { ...caller?.headers, ...opts.headers } });
  return {
    t,
    db: t.db,
    app,
    registry,
    runs,
    ids,
    request,
    async login(email) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email, password: DEMO_PASSWORD },
      });
      if (res.statusCode !== 200) throw new Error(`login ${email}: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name === 'runwarden_session');
      if (!cookie) throw new Error('login set no session cookie');
      const body = res.json() as { user: { id: string }; csrfToken: string };
      return {
        name: email,
        userId: body.user.id,
        headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': body.csrfToken },
      };
    },
    async userId(email) {
      const row = await t.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      return row.id;
    },
  };
}

async function loadIds(t: TestDatabase): Promise<Ids> {
  const ws = await t.db.selectFrom('workspaces').select(['id', 'slug']).execute();
  const tenants = await t.db.selectFrom('tenants').select(['id', 'slug']).execute();
  const w = (slug: string) => ws.find((r) => r.slug === slug)?.id as string;
  const tn = (slug: string) => tenants.find((r) => r.slug === slug)?.id as string;
  return {
    contoso: w('contoso'),
    fabrikam: w('fabrikam'),
    prod: tn('contoso-prod'),
    dev: tn('contoso-dev'),
    legacy: tn('contoso-legacy'),
    fabrikamProd: tn('fabrikam-prod'),
  };
}

async function addMember(
  t: TestDatabase,
  workspaceId: string,
  email: string,
  role: Role,
  tenantIds: string[] | null,
): Promise<void> {
  const id = uuidv7();
  await t.db
    .insertInto('users')
    .values({
      id,
      email,
      name: email.split('@')[0] as string,
      password_hash: await hashPassword(DEMO_PASSWORD),
    })
    .execute();
  await t.db
    .insertInto('memberships')
    .values({ id: uuidv7(), workspace_id: workspaceId, user_id: id, role, tenant_ids: tenantIds })
    .execute();
}

/** Counts every table bad input could touch, to prove a rejected request changed nothing. */
export async function rowCounts(t: TestDatabase): Promise<Record<string, number>> {
  const tables = [
    'operation_runs',
    'run_events',
    'notifications',
    'api_tokens',
    'memberships',
  ] as const;
  const out: Record<string, number> = {};
  for (const table of tables) {
    const row = await t.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  const jobs = await t.db
    .selectFrom('graphile_worker._private_jobs' as 'operation_runs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  out.jobs = Number(jobs.n);
  return out;
}

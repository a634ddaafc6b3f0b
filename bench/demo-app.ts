import { seedDemo } from '../src/cli/demo-seed/index.js';
import { startRun } from '../src/execution/start.js';
import { buildApp } from '../src/http/app.js';
import { queueFixture } from './queue-fixture.js';

export const DEMO_PASSWORD = 'bench-demo-password';

/**
 * The real app listening on a throwaway database that holds the demo (no history), and one
 * long-running `demo.sleep` run in contoso-prod, already `running`, for benches to move along.
 */
export async function demoApp(label: string) {
  const f = await queueFixture(label);
  const app = await buildApp({
    db: f.db,
    pool: f.pool,
    logger: f.logger,
    registry: f.registry,
    runs: f.runs,
  });
  await seedDemo({ db: f.db, registry: f.registry }, { password: DEMO_PASSWORD, history: false });
  const ws = await f.db
    .selectFrom('workspaces')
    .select('id')
    .where('slug', '=', 'contoso')
    .executeTakeFirstOrThrow();
  const tenant = await f.db
    .selectFrom('tenants')
    .select('id')
    .where('slug', '=', 'contoso-prod')
    .executeTakeFirstOrThrow();
  const { run } = await startRun(f, {
    type: 'demo.sleep',
    workspaceId: ws.id,
    tenantId: tenant.id,
    input: { seconds: 3000, total: 100_000, tag: `${label}-bench` },
    initiatorUserId: null,
  });
  await f.runs.markRunning(run.id, { workerId: 'bench' });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    ...f,
    app,
    base,
    run,
    async close() {
      await app.close();
      await f.close();
    },
  };
}

import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';
import { z } from 'zod';
import { hashPassword } from '../../src/access/passwords.js';
import { demoCatalog } from '../../src/catalog/index.js';
import { createClient, type RunwardenClient } from '../../src/client/index.js';
import type { Role } from '../../src/db/schema.js';
import type { FlowPool } from '../../src/domain/flow.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation } from '../../src/execution/operation.js';
import { enqueueRun } from '../../src/execution/queue.js';
import { admissionPass, type PassResult } from '../../src/flow/admission-pass.js';
import { type ApiHarness, apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';

// Flow control over real HTTP (DESIGN §11, §17): the demo catalog plus two limited types drawing
// from a shared pool, served on a port; callers use the generated client, and every answer must
// be one the OpenAPI document declares (status and body).

const input = z.object({ n: z.number() });
export const graphSync = defineOperation({
  type: 'graph.sync',
  label: 'Graph sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { concurrency: { perTenant: 1, total: 4 }, pools: ['graph'] },
  run: async () => ({ outcome: 'succeeded' }),
});
export const mailSync = defineOperation({
  type: 'mail.sync',
  label: 'Mail sync',
  scope: 'tenant',
  input,
  identity: (i) => i,
  flow: { rate: { perTenant: { limit: 5, intervalSeconds: 30 } }, pools: ['graph'] },
  run: async () => ({ outcome: 'succeeded' }),
});
export const flowPools: FlowPool[] = [{ name: 'graph', concurrency: { perTenant: 2, total: 10 } }];

export interface FlowHarness extends ApiHarness {
  base: string;
  /** The generated client acting as `caller`, checked against the OpenAPI document. */
  as(caller: Caller): RunwardenClient;
  /** One admission pass, as a worker's admitter runs it. */
  admit(): Promise<PassResult>;
  /** A member of contoso with `role`, restricted to `tenantIds` (null: every tenant); logged in. */
  member(email: string, role: Role, tenantIds: string[] | null): Promise<Caller>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

interface Document {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>
  >;
  components: object;
}

export async function flowHarness(): Promise<FlowHarness> {
  const h = await apiHarness({
    operations: [
      ...demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
      graphSync,
      mailSync,
    ],
    flowPools,
  });
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as Document;
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const compiled = new Map<string, ValidateFunction>();
  const contract: Middleware = {
    async onResponse({ request, response, schemaPath }) {
      const what = `${request.method} ${schemaPath} ${response.status}`;
      const declared =
        doc.paths[schemaPath]?.[request.method.toLowerCase()]?.responses[String(response.status)];
      if (!declared) throw new Error(`${what}: the status is not declared`);
      if (response.status === 204) return;
      const schema = declared.content?.['application/json']?.schema ?? {};
      const key = JSON.stringify(schema);
      let validate = compiled.get(key);
      if (!validate) {
        validate = ajv.compile({ allOf: [schema], components: doc.components });
        compiled.set(key, validate);
      }
      const body: unknown = await response.clone().json();
      if (!validate(body))
        throw new Error(`${what}: the body does not match: ${ajv.errorsText(validate.errors)}`);
    },
  };
  return {
    ...h,
    base,
    as(caller) {
      const api = createClient({ baseUrl: base, headers: caller.headers });
      api.use(contract);
      return api;
    },
    admit: () =>
      admissionPass({
        db: h.db,
        runs: h.runs,
        types: h.registry.list(),
        pools: h.registry.flowPools,
        readyTarget: 100,
        enqueue: async (trx, run) => {
          await enqueueRun(trx, {
            taskIdentifier: `runwarden:${run.type}`,
            runId: run.id,
            maxAttempts: 1,
            priority: run.priority,
          });
        },
      }),
    async member(email, role, tenantIds) {
      const id = uuidv7();
      await h.db
        .insertInto('users')
        .values({
          id,
          email,
          name: email.split('@')[0] as string,
          password_hash: await hashPassword(DEMO_PASSWORD),
        })
        .execute();
      await h.db
        .insertInto('memberships')
        .values({
          id: uuidv7(),
          workspace_id: h.ids.contoso,
          user_id: id,
          role,
          tenant_ids: tenantIds,
        })
        .execute();
      return await h.login(email);
    },
  };
}

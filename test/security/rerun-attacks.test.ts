import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { demoCatalog } from '../../src/catalog/index.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { defineOperation, type OperationDefinition } from '../../src/execution/operation.js';
import { startRun } from '../../src/execution/start.js';
import { apiHarness, type Caller } from '../support/http.js';
import { changesNothing, refused, send, tokenFor } from './attack-support.js';

// Attacks on "Run again…" (issue 23, DESIGN §10, §18): another workspace's runs, a run of a tenant
// outside the caller's set, and edited input the type refuses (unknown fields, huge, malformed).
// Each refusal writes nothing: no run, no job, no audit line, the original unchanged.

const strict = defineOperation({
  type: 'sec.strict',
  label: 'Strict input',
  scope: 'tenant',
  input: z.strictObject({ name: z.string().min(1).max(100) }),
  identity: (input) => input,
  run: async () => ({ outcome: 'succeeded' }),
}) as OperationDefinition;

const h = await apiHarness({
  operations: [...demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }), strict],
});
let base: string;
const callers = {} as Record<
  | 'owner'
  | 'readonly'
  | 'outsider'
  | 'outsiderToken'
  | 'fabrikamService'
  | 'devOnly'
  | 'devOnlyToken',
  Caller
>;
const runs = {} as Record<'dev' | 'prod' | 'fabrikam' | 'strictDev', string>;

beforeAll(async () => {
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  callers.owner = await h.login('owner@demo.test');
  callers.readonly = await h.login('readonly@demo.test');
  callers.outsider = await h.login('outsider@demo.test');
  // The harness's own member restricted to contoso-dev (an operator: may start there).
  callers.devOnly = await h.login('restricted@demo.test');
  callers.devOnlyToken = await tokenFor(h, {
    workspace: 'contoso',
    name: 'restricted-token',
    role: 'operator',
    as: 'restricted@demo.test',
  });
  callers.outsiderToken = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'outsider-token',
    role: 'owner',
    as: 'outsider@demo.test',
  });
  callers.fabrikamService = await tokenFor(h, {
    workspace: 'fabrikam',
    name: 'fab-bot',
    role: 'owner',
  });
  const start = async (workspaceId: string, tenantId: string, type: string, input: object) =>
    (await startRun(h, { type, workspaceId, tenantId, input, initiatorUserId: null })).run.id;
  runs.dev = await start(h.ids.contoso, h.ids.dev, 'policy.sync_one', { policyId: 'dev-1' });
  runs.prod = await start(h.ids.contoso, h.ids.prod, 'policy.sync_one', { policyId: 'prod-1' });
  runs.fabrikam = await start(h.ids.fabrikam, h.ids.fabrikamProd, 'policy.sync_one', {
    policyId: 'fab-1',
  });
  runs.strictDev = await start(h.ids.contoso, h.ids.dev, 'sec.strict', { name: 'original' });
});

const rerun = (caller: Caller, id: string, body?: unknown) =>
  send(base, caller, 'POST', `/api/operations/${id}/rerun`, body === undefined ? {} : { body });

describe('a rerun across the boundary', () => {
  it('is the missing-run 404 for another workspace’s owner, person token and service token', async () => {
    for (const who of ['outsider', 'outsiderToken', 'fabrikamService'] as const) {
      for (const body of [undefined, {}, { input: { policyId: 'stolen' } }]) {
        await changesNothing(h, async () => {
          const real = await rerun(callers[who], runs.prod, body);
          const none = await rerun(callers[who], uuidv7(), body);
          refused(real, 404, 'not_found');
          expect(real.body, who).toBe(none.body);
        });
      }
    }
    // And contoso's owner cannot rerun fabrikam's run either.
    await changesNothing(h, async () => {
      refused(await rerun(callers.owner, runs.fabrikam), 404, 'not_found');
    });
  });

  it('is a 404 for a member restricted to contoso-dev rerunning a contoso-prod run', async () => {
    for (const caller of [callers.devOnly, callers.devOnlyToken]) {
      await changesNothing(h, async () => {
        const real = await rerun(caller, runs.prod, { input: { policyId: 'prod-2' } });
        const none = await rerun(caller, uuidv7(), { input: { policyId: 'prod-2' } });
        refused(real, 404, 'not_found');
        expect(real.body).toBe(none.body);
      });
    }
    // Their own tenant's run they may run again (the refusal above is the scope's).
    const own = await rerun(callers.devOnly, runs.dev, { input: { policyId: 'dev-2' } });
    expect(own.status, own.body).toBe(202);
    expect(own.json.run).toMatchObject({ rerunOf: runs.dev, tenantId: h.ids.dev });
  });

  it('is a 403 for a read-only member, and nothing is written', async () => {
    await changesNothing(h, async () => {
      refused(await rerun(callers.readonly, runs.dev), 403, 'forbidden');
      refused(
        await rerun(callers.readonly, runs.dev, { input: { policyId: 'ro' } }),
        403,
        'forbidden',
      );
    });
  });
});

describe('edited input the type refuses', () => {
  it('is a 422 for unknown fields, huge or wrongly typed values; a 400/413 for a malformed body; nothing created', async () => {
    const refusals: Array<[unknown, number, string]> = [
      [{ input: { name: 'x', admin: true } }, 422, 'invalid_input'],
      [{ input: { name: 'x'.repeat(500_000) } }, 422, 'invalid_input'],
      [{ input: { name: 42 } }, 422, 'invalid_input'],
      [{ input: {} }, 422, 'invalid_input'],
      [{ input: { name: { $ne: null } } }, 422, 'invalid_input'],
      [{ input: ['name'] }, 400, 'validation_failed'],
      [{ input: 'name' }, 400, 'validation_failed'],
      [{ input: null }, 400, 'validation_failed'],
      [{ input: { name: 'a\u0000b' } }, 400, 'validation_failed'],
      [{ input: { name: 'x' }, tenantId: h.ids.prod }, 400, 'validation_failed'],
      [{ input: { name: 'x' }, type: 'policy.sync_one' }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of refusals) {
      await changesNothing(h, async () => {
        const answer = await rerun(callers.owner, runs.strictDev, body);
        refused(answer, status, code);
      });
    }
    // A body beyond the server's limit is refused before it is read.
    await changesNothing(h, async () => {
      const huge = await rerun(callers.owner, runs.strictDev, {
        input: { name: 'x'.repeat(3_000_000) },
      });
      expect(huge.status, huge.body.slice(0, 200)).toBe(413);
    });
    // A JSON __proto__ key is refused by the body parser (prototype poisoning), never merged.
    await changesNothing(h, async () => {
      const raw = await fetch(`${base}/api/operations/${runs.strictDev}/rerun`, {
        method: 'POST',
        headers: { ...callers.owner.headers, 'content-type': 'application/json' },
        body: '{"input":{"name":"x","__proto__":{"admin":true}}}',
      });
      expect(raw.status).toBe(400);
    });
    const original = await h.db
      .selectFrom('operation_runs')
      .select(['input', 'status'])
      .where('id', '=', runs.strictDev)
      .executeTakeFirstOrThrow();
    expect(original).toEqual({ input: { name: 'original' }, status: 'queued' });
  });

  it('is a 422 for a policy.sync_one rerun with a policyId over its limit, and the original stays as it was', async () => {
    await changesNothing(h, async () => {
      refused(
        await rerun(callers.owner, runs.dev, { input: { policyId: 'p'.repeat(201) } }),
        422,
        'invalid_input',
      );
    });
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/uuid.js';
import { createPause, findPause, liftPause, listPauses } from '../../src/flow/pauses.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { type Scope, seedScope } from '../support/fixtures.js';

// src/flow/pauses.ts on a real database: one pause per scope even when callers race, lifting is
// exactly once, and a restricted reader's list holds only their tenants' and workspace-wide ones.

let t: TestDatabase;
let scope: Scope;
const types = [
  { type: 'graph.sync', execution: 'queue' as const },
  { type: 'mail.sync', execution: 'queue' as const },
];
const call = { actor: { userId: null, kind: 'system' as const }, source: 'library' as const };

beforeAll(async () => {
  t = await freshDatabase({ max: 12 });
  scope = await seedScope(t.db);
});

describe('pauses', () => {
  it('racing pauses of one scope make one pause; the others are conflicts naming it', async () => {
    const target = { workspaceId: scope.workspaceId, type: 'graph.sync', tenantId: scope.tenantId };
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => createPause(t.db, target, { ...call, types })),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    const id = (made[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: 'conflict',
        details: { pause: { id } },
      });
    expect((await findPause(t.db, target))?.id).toBe(id);

    const lifts = await Promise.all(
      Array.from({ length: 4 }, () =>
        liftPause(t.db, { workspaceId: scope.workspaceId, id }, call),
      ),
    );
    expect(lifts.filter((l) => l !== undefined)).toHaveLength(1);
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', id)
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['flow.paused', 'flow.resumed']);
  });

  it('a tenant of another workspace is not found, and nothing is written', async () => {
    const other = await seedScope(t.db);
    await expect(
      createPause(
        t.db,
        { workspaceId: scope.workspaceId, type: null, tenantId: other.tenantId },
        { ...call, types },
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await listPauses(t.db, scope.workspaceId)).toEqual([]);
    // Lifting another workspace's pause through this one finds nothing.
    const theirs = await createPause(
      t.db,
      { workspaceId: other.workspaceId, type: null, tenantId: other.tenantId },
      { ...call, types },
    );
    expect(await liftPause(t.db, { workspaceId: scope.workspaceId, id: theirs.id }, call)).toBe(
      undefined,
    );
    expect(await listPauses(t.db, other.workspaceId)).toHaveLength(1);
  });

  it("a restricted reader's list: their tenants' pauses and the workspace-wide ones", async () => {
    const second = uuidv7();
    await t.db
      .insertInto('tenants')
      .values({ id: second, workspace_id: scope.workspaceId, slug: 'second', name: 'Second' })
      .execute();
    const ws = scope.workspaceId;
    const mine = await createPause(
      t.db,
      { workspaceId: ws, type: null, tenantId: scope.tenantId },
      { ...call, types },
    );
    const theirs = await createPause(
      t.db,
      { workspaceId: ws, type: null, tenantId: second },
      { ...call, types },
    );
    const wide = await createPause(
      t.db,
      { workspaceId: ws, type: 'mail.sync', tenantId: null },
      { ...call, types },
    );
    const ids = async (visible: string[] | null) =>
      (await listPauses(t.db, ws, visible)).map((p) => p.id).sort();
    expect(await ids(null)).toEqual([mine.id, theirs.id, wide.id].sort());
    expect(await ids([scope.tenantId])).toEqual([mine.id, wide.id].sort());
    expect(await ids([])).toEqual([wide.id]);
  });
});

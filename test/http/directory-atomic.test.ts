import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type Caller, DEMO_PASSWORD } from '../support/http.js';
import {
  type As,
  badInputCallers,
  directoryOf,
  directoryState,
  inviteTokenOf,
  send,
} from './directory-support.js';

// Every directory write is one transaction with its audit entry (DESIGN §10, §11; issue #12): when
// the audit insert fails, the request answers 500 and nothing of it stays, no half-written row.
// The fault is a trigger in this file's own database, refusing the audit entries a case names.

const h = await apiHarness();
const directory = directoryOf(h);
let callers: Record<As, Caller | undefined>;
const MEMBERS = '/api/workspaces/contoso/members';
const TOKENS = '/api/workspaces/contoso/tokens';
const PASSWORD = '/api/auth/password';
const newPassword = 'a new long password';

beforeAll(async () => {
  callers = await badInputCallers(h);
});

describe('a write whose audit entry fails leaves nothing behind (one transaction)', () => {
  /** Runs `work` while this file's own database refuses the audit entries `when` matches. */
  async function auditRefused(when: string, work: () => Promise<void>) {
    await sql`create or replace function refuse_audit() returns trigger language plpgsql as $$
      begin raise exception 'audit refused'; end $$`.execute(h.db);
    await sql
      .raw(
        `create trigger refuse_audit before insert on audit_log for each row when (${when}) execute function refuse_audit()`,
      )
      .execute(h.db);
    try {
      await work();
    } finally {
      await sql`drop trigger refuse_audit on audit_log`.execute(h.db);
    }
  }
  const cases: Array<[string, string, () => Promise<InjectOptions>, As?]> = [
    [
      'POST tokens (no token without its audit entry)',
      "new.details->>'name' = 'audit-fails'",
      async () => send('POST', TOKENS, { name: 'audit-fails', role: 'readonly' }),
    ],
    [
      'PUT a new member (the pending membership and its link, or none)',
      "new.action = 'invitation.created'",
      async () =>
        send('PUT', `${MEMBERS}/audit-fails@demo.test`, { role: 'readonly', tenantIds: null }),
    ],
    [
      'DELETE a member (membership, sessions and tokens stay)',
      "new.action = 'member.removed'",
      async () => {
        const { member } = await directory.upsertMember({
          workspace: 'contoso',
          email: 'stays@demo.test',
          role: 'readonly',
        });
        return send('DELETE', `${MEMBERS}/${member.userId}`);
      },
    ],
    [
      'DELETE a token (it stays live)',
      "new.action = 'token.revoked'",
      async () => {
        const { id } = await directory.createToken({
          workspace: 'contoso',
          name: 'stays',
          role: 'readonly',
        });
        return send('DELETE', `${TOKENS}/${id}`);
      },
    ],
    [
      'POST /api/auth/password redeeming an invite (the invite stays unused)',
      "new.action = 'invite.redeem'",
      async () => {
        const added = await directory.upsertMember({
          workspace: 'contoso',
          email: 'redeems@demo.test',
          role: 'readonly',
        });
        return send('POST', PASSWORD, {
          inviteToken: inviteTokenOf(added.invite?.url),
          newPassword,
        });
      },
      'anonymous',
    ],
    [
      'POST /api/invitations/accept creating the account (no user, no membership, offer kept)',
      "new.action = 'invitation.accepted'",
      async () => {
        const offered = await h.request(callers.owner, {
          method: 'PUT',
          url: `${MEMBERS}/joins@demo.test`,
          payload: { role: 'readonly', tenantIds: null },
        });
        return send('POST', '/api/invitations/accept', {
          token: inviteTokenOf(offered.json().invite),
          newPassword,
        });
      },
      'anonymous',
    ],
    [
      'POST /api/invitations/accept signed in (no membership, offer kept)',
      "new.action = 'invitation.accepted'",
      async () => {
        const offered = await h.request(callers.owner, {
          method: 'PUT',
          url: `${MEMBERS}/outsider@demo.test`,
          payload: { role: 'readonly', tenantIds: null },
        });
        return send('POST', '/api/invitations/accept', {
          token: inviteTokenOf(offered.json().invite),
        });
      },
      'outsider',
    ],
    [
      "POST /api/auth/password changing one's own (the old one still works)",
      "new.action = 'user.changed'",
      async () => send('POST', PASSWORD, { currentPassword: DEMO_PASSWORD, newPassword }),
    ],
  ];
  it.each(cases)('%s', async (_name, when, prepare, as) => {
    const request = await prepare();
    await auditRefused(when, async () => {
      const before = await directoryState(h);
      const res = await h.request(callers[as ?? 'owner'], request);
      expect(res.statusCode, res.body).toBe(500);
      expect(res.json().error.code).toBe('internal');
      expect(res.body).not.toMatch(/rw[itm]_/);
      expect(await directoryState(h)).toEqual(before);
    });
  });
});

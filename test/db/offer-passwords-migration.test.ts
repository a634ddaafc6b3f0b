import { Migrator } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { uuidv7 } from '../../src/domain/uuid.js';
import { freshDatabase } from '../support/db.js';

// 0017 (DESIGN §10): a password chosen through a workspace owner's offer link gets origin 'offer'.
// Accounts made that way before it recorded 'invite' with no set-password invite ever redeemed.
const { db } = await freshDatabase({ empty: true });

describe('migration 0017_offer_passwords', () => {
  it("marks 'invite' passwords no invite redemption set as 'offer', and leaves the others", async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0017'));
    const migrated = await new Migrator({
      db,
      provider: { getMigrations: async () => before },
    }).migrateToLatest();
    expect(migrated.error).toBeUndefined();

    const user = (email: string, origin: 'invite' | 'admin') => ({
      id: uuidv7(),
      email,
      name: email,
      password_hash: 'scrypt$not-a-real-hash',
      password_origin: origin,
    });
    const redeemed = user('redeemed@example.com', 'invite');
    const offered = user('offered@example.com', 'invite');
    const admin = user('admin@example.com', 'admin');
    await db.insertInto('users').values([redeemed, offered, admin]).execute();
    await db
      .insertInto('audit_log')
      .values({
        at: new Date(),
        actor_user_id: redeemed.id,
        actor_kind: 'user',
        action: 'invite.redeem',
        target_type: 'user',
        target_id: redeemed.id,
        details: JSON.stringify({}),
      })
      .execute();

    expect((await migrateToLatest(db)).applied[0]).toBe('0017_offer_passwords');
    const origins = await db
      .selectFrom('users')
      .select(['email', 'password_origin'])
      .orderBy('email')
      .execute();
    expect(origins).toEqual([
      { email: 'admin@example.com', password_origin: 'admin' },
      { email: 'offered@example.com', password_origin: 'offer' },
      { email: 'redeemed@example.com', password_origin: 'invite' },
    ]);
  });
});

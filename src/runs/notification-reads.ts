import type { Kysely } from 'kysely';
import type { Database, NotificationRow } from '../db/schema.js';
import { type Visibility, visibleSql } from '../domain/visibility.js';

/** A user's own notifications, about runs they may still see (DESIGN §8). */
function visibleNotifications(db: Kysely<Database>, userId: string, visibility: Visibility) {
  return db
    .selectFrom('notifications')
    .innerJoin('operation_runs as run', 'run.id', 'notifications.run_id')
    .where('notifications.user_id', '=', userId)
    .where(visibleSql(visibility, 'run'));
}

export async function listNotifications(
  db: Kysely<Database>,
  userId: string,
  visibility: Visibility,
  limit: number,
): Promise<{ items: NotificationRow[]; unreadCount: number }> {
  const [items, unread] = await Promise.all([
    visibleNotifications(db, userId, visibility)
      .selectAll('notifications')
      .orderBy('notifications.created_at', 'desc')
      .limit(limit)
      .execute(),
    visibleNotifications(db, userId, visibility)
      .where('notifications.read_at', 'is', null)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items, unreadCount: Number(unread.n) };
}

/** Marks one of the user's visible notifications read (once); undefined when there is none. */
export async function markNotificationRead(
  db: Kysely<Database>,
  userId: string,
  visibility: Visibility,
  id: string,
  now: Date,
): Promise<{ id: string; readAt: Date } | undefined> {
  const mine = await visibleNotifications(db, userId, visibility)
    .select(['notifications.id', 'notifications.read_at'])
    .where('notifications.id', '=', id)
    .executeTakeFirst();
  if (!mine) return undefined;
  if (mine.read_at) return { id: mine.id, readAt: mine.read_at };
  await db.updateTable('notifications').set({ read_at: now }).where('id', '=', mine.id).execute();
  return { id: mine.id, readAt: now };
}

/**
 * Marks every unread notification of the user read; how many it marked. The caller's own only; one
 * they may no longer see is never listed or counted, so marking it too changes nothing they observe.
 */
export async function markAllNotificationsRead(
  db: Kysely<Database>,
  userId: string,
  now: Date,
): Promise<number> {
  const result = await db
    .updateTable('notifications')
    .set({ read_at: now })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

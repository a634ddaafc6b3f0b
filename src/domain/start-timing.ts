// When a start asks its run to begin and to give up (DESIGN §17): `runAt` or `delaySeconds`, and
// `expiresAt`. One rule for every way in (HTTP, the library, schedules).

/** The furthest a start may put its run off: 30 days. */
export const MAX_WAIT_SECONDS = 30 * 24 * 60 * 60;

export interface StartTiming {
  runAt?: Date | undefined;
  delaySeconds?: number | undefined;
  expiresAt?: Date | undefined;
}

/** What is wrong with a start's timing at `now` (the field and why), or undefined. */
export function timingProblem(
  timing: StartTiming,
  now: Date,
): { path: 'runAt' | 'delaySeconds' | 'expiresAt'; message: string } | undefined {
  const { runAt, delaySeconds, expiresAt } = timing;
  if (runAt !== undefined && delaySeconds !== undefined)
    return { path: 'delaySeconds', message: 'give runAt or delaySeconds, not both' };
  if (delaySeconds !== undefined) {
    if (!Number.isFinite(delaySeconds) || delaySeconds < 0)
      return { path: 'delaySeconds', message: 'delaySeconds must be a number of seconds ≥ 0' };
    if (delaySeconds > MAX_WAIT_SECONDS)
      return {
        path: 'delaySeconds',
        message: `delaySeconds may be at most ${MAX_WAIT_SECONDS} (30 days)`,
      };
  }
  if (runAt !== undefined && Number.isNaN(runAt.getTime()))
    return { path: 'runAt', message: 'runAt is not a valid instant' };
  const wanted = delaySeconds !== undefined ? new Date(now.getTime() + delaySeconds * 1000) : runAt;
  if (wanted && wanted.getTime() - now.getTime() > MAX_WAIT_SECONDS * 1000)
    return { path: 'runAt', message: 'runAt may be at most 30 days ahead' };
  if (expiresAt === undefined) return undefined;
  if (Number.isNaN(expiresAt.getTime()))
    return { path: 'expiresAt', message: 'expiresAt is not a valid instant' };
  if (expiresAt.getTime() <= now.getTime())
    return { path: 'expiresAt', message: 'expiresAt is already past' };
  if (wanted && expiresAt.getTime() <= wanted.getTime())
    return {
      path: 'expiresAt',
      message: 'expiresAt must be after runAt, or the run could never start',
    };
  return undefined;
}

/** When the run may start: null when that is now (or already past). */
export function startsAt(timing: StartTiming, now: Date): Date | null {
  const wanted =
    timing.delaySeconds !== undefined
      ? new Date(now.getTime() + timing.delaySeconds * 1000)
      : (timing.runAt ?? null);
  return wanted && wanted.getTime() > now.getTime() ? wanted : null;
}

import { runMigrations } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.js';

// Every graphile-worker call lives in src/execution, so the queue could be swapped without
// touching runs or lifecycle code. Jobs carry only the run id, and use it as their job key so a
// queued run's job can be found (and removed) without storing its id first.

export interface JobPayload {
  runId: string;
}

/** Creates graphile-worker's schema (its own migrations; idempotent). */
export async function migrateQueue(pgPool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool, logger: silentLogger() });
}

/**
 * Adds the job for a run on `db`, which is the start transaction: run row and job commit or roll
 * back together. `maxAttempts` is the policy's retries + 1.
 */
export async function enqueueRun(
  db: Kysely<Database>,
  job: {
    taskIdentifier: string;
    runId: string;
    maxAttempts: number;
    runAt?: Date;
    priority?: number;
  },
): Promise<string> {
  const payload: JobPayload = { runId: job.runId };
  const result = await sql<{ id: string }>`
    select id from graphile_worker.add_job(
      identifier => ${job.taskIdentifier}::text,
      payload => ${JSON.stringify(payload)}::json,
      run_at => ${job.runAt?.toISOString() ?? null}::timestamptz,
      max_attempts => ${job.maxAttempts}::int,
      priority => ${job.priority ?? 0}::int,
      job_key => ${job.runId}::text,
      job_key_mode => 'replace')`.execute(db);
  const id = result.rows[0]?.id;
  if (!id) throw new Error('graphile_worker.add_job returned no job');
  return id;
}

/**
 * The queue's completion of the job a worker is running, as options for the run's completion
 * (`sameCommit`, over `moved.finished_job_id`): the run's end and its job's end become one commit
 * instead of two, alone or sharing a statement with other completions. graphile-worker's own
 * completion afterwards finds the row gone and changes nothing (no second commit to flush). Jobs
 * in a named queue are left to graphile-worker (it unlocks the queue).
 */
export function finishingJob(jobId: string) {
  return { jobId, sameCommit: FINISH_JOBS };
}

const FINISH_JOBS = sql`delete from graphile_worker._private_jobs as jobs using moved
  where jobs.id = moved.finished_job_id and jobs.job_queue_id is null`;

export type FinishingJob = ReturnType<typeof finishingJob>;

/** Removes a run's job unless a worker holds it (then the worker's gate sees the run's state). */
export async function removeQueuedJob(db: Kysely<Database>, runId: string): Promise<void> {
  await sql`select graphile_worker.remove_job(${runId}::text)`.execute(db);
}

/** `removeQueuedJob` for many runs in one statement (a bulk cancel). */
export async function removeQueuedJobs(db: Kysely<Database>, runIds: readonly string[]) {
  if (runIds.length === 0) return;
  await sql`select graphile_worker.remove_job(key) from unnest(${[...runIds]}::text[]) as key`.execute(
    db,
  );
}

/**
 * Deletes a run's job outright, locked or not: for a run that is already terminal (the reconciler
 * ended it), so queue metrics count only live work. A worker still holding it later finds
 * nothing to complete or fail, which graphile-worker treats as done.
 */
export async function deleteRunJob(db: Kysely<Database>, runId: string): Promise<void> {
  await sql`delete from graphile_worker._private_jobs where key = ${runId}::text`.execute(db);
}

/** Releases jobs locked by crashed workers so another worker can take them at once. */
export async function unlockWorkers(db: Kysely<Database>, queueWorkerIds: string[]): Promise<void> {
  if (queueWorkerIds.length === 0) return;
  await sql`select graphile_worker.force_unlock_workers(${queueWorkerIds}::text[])`.execute(db);
}

export function isJobPayload(value: unknown): value is JobPayload {
  return (
    typeof value === 'object' && value !== null && typeof (value as JobPayload).runId === 'string'
  );
}

function silentLogger() {
  // graphile-worker's Logger wants a factory; migrations have nothing worth printing.
  return new (class {
    scope() {
      return this;
    }
    error() {}
    warn() {}
    info() {}
    debug() {}
  })() as never;
}

/** Whether a live worker holds the run's job right now (then a queued run is not abandoned). */
export async function isJobLocked(db: Kysely<Database>, runId: string): Promise<boolean> {
  const result = await sql<{ locked: boolean }>`
    select locked_at is not null as locked from graphile_worker._private_jobs where key = ${runId}::text`.execute(
    db,
  );
  return result.rows[0]?.locked ?? false;
}

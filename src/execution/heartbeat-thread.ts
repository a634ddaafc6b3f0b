import { parentPort, workerData } from 'node:worker_threads';
import type { DbTimeouts } from '../config.js';
import { createDb } from '../db/pool.js';
import { RunService } from '../runs/run-service.js';
import { readSharedIds } from './shared-ids.js';

/**
 * The worker process's heartbeat, on its own thread with its own connection: a handler that
 * blocks the main event loop (CPU-bound work, a sync call) does not silence it (DESIGN §7.2).
 * One statement per interval refreshes the runs this process is executing right now — the
 * in-flight set the main thread keeps in shared memory (DESIGN §16: heartbeats prove work) — and
 * the process's `workers` row with its live job slots. The runs whose cancel was requested go
 * back to the main thread, which aborts their handlers.
 */
interface HeartbeatSettings {
  databaseUrl: string;
  workerId: string;
  intervalMs: number;
  timeouts: DbTimeouts;
  /** The in-flight run ids (see shared-ids.ts); replaced by an `inflight` message when it grows. */
  inflight: SharedArrayBuffer;
}

type Message =
  | { kind: 'stop' }
  | { kind: 'inflight'; buffer: SharedArrayBuffer }
  | { kind: 'slots'; live: number };

const settings = workerData as HeartbeatSettings;
/** How much longer than its statement timeout a beat waits for an answer (the pool's is 2 s). */
const BEAT_GRACE_MS = 500;
/** A beat that failed is tried again this soon (doubling up to the interval), not an interval later. */
const FIRST_RETRY_MS = 250;
// A beat that has not landed within its interval is as good as lost: its statement gives up then
// (and the connection is replaced) rather than holding every later beat behind it.
const statementMs = Math.min(
  settings.timeouts.statementMs || Number.POSITIVE_INFINITY,
  Math.max(settings.intervalMs, 1_000),
);
const db = createDb(settings.databaseUrl, {
  max: 1,
  applicationName: 'runwarden-heartbeat',
  // So is a connect, and a silent connection is given up soon after: a beat that cannot land
  // must try again on a new connection while the runs' heartbeat-loss window still runs.
  timeouts: {
    ...settings.timeouts,
    statementMs,
    connectMs: Math.min(settings.timeouts.connectMs, statementMs),
  },
  queryGraceMs: BEAT_GRACE_MS,
});
const runs = new RunService({ db });
let inflight = settings.inflight;
let liveSlots: number | undefined;

async function beat(): Promise<void> {
  const touched = await runs.heartbeatWorker(settings.workerId, readSharedIds(inflight));
  await db
    .updateTable('workers')
    .set({
      last_seen_at: new Date(),
      // A worker judged dead whose beats come back is alive again (its row said stopped forever).
      stopped_at: null,
      ...(liveSlots === undefined ? {} : { live_slots: liveSlots }),
    })
    .where('id', '=', settings.workerId)
    .execute();
  const cancelled = touched.filter((r) => r.cancelRequested).map((r) => r.id);
  if (cancelled.length > 0) parentPort?.postMessage({ kind: 'cancel', runIds: cancelled });
}

let running = true;
let failing = false;
let beating = false;
let retryMs = FIRST_RETRY_MS;
// One retry waiting at most: the interval's own beats would otherwise each start another chain.
let retry: NodeJS.Timeout | undefined;
const attempt = () => {
  if (!running || beating) return; // one beat at a time: a hung one is bounded by its timeout
  beating = true;
  beat()
    .then(
      () => {
        if (failing) parentPort?.postMessage({ kind: 'recovered' });
        failing = false;
        retryMs = FIRST_RETRY_MS;
      },
      (error: unknown) => {
        // One report per outage, not one per beat.
        if (!failing) parentPort?.postMessage({ kind: 'error', message: String(error) });
        failing = true;
      },
    )
    .finally(() => {
      beating = false;
      clearTimeout(retry);
      if (!failing || !running) return;
      retry = setTimeout(attempt, Math.min(retryMs, settings.intervalMs));
      retryMs *= 2;
    });
};
const timer = setInterval(attempt, settings.intervalMs);

parentPort?.on('message', (message: Message) => {
  if (message.kind === 'inflight') inflight = message.buffer;
  if (message.kind === 'slots') liveSlots = message.live;
  if (message.kind !== 'stop') return;
  running = false;
  clearInterval(timer);
  clearTimeout(retry);
  void db.destroy().finally(() => parentPort?.postMessage({ kind: 'stopped' }));
});

import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../db/pool.js';
import { RunService } from '../runs/run-service.js';

/**
 * The worker process's heartbeat, on its own thread with its own connection: a handler that
 * blocks the main event loop (CPU-bound work, a sync call) does not silence it (DESIGN §7.2).
 * One statement per interval refreshes every run this process is running; the runs whose cancel
 * was requested go back to the main thread, which aborts their handlers.
 */
interface HeartbeatSettings {
  databaseUrl: string;
  workerId: string;
  intervalMs: number;
}

const settings = workerData as HeartbeatSettings;
const db = createDb(settings.databaseUrl, { max: 1, applicationName: 'runwarden-heartbeat' });
const runs = new RunService({ db });

async function beat(): Promise<void> {
  const touched = await runs.heartbeatWorker(settings.workerId);
  await db
    .updateTable('workers')
    .set({ last_seen_at: new Date() })
    .where('id', '=', settings.workerId)
    .execute();
  const cancelled = touched.filter((r) => r.cancelRequested).map((r) => r.id);
  if (cancelled.length > 0) parentPort?.postMessage({ kind: 'cancel', runIds: cancelled });
}

let running = true;
const timer = setInterval(() => {
  if (!running) return;
  beat().catch((error: unknown) =>
    parentPort?.postMessage({ kind: 'error', message: String(error) }),
  );
}, settings.intervalMs);

parentPort?.on('message', (message: { kind: string }) => {
  if (message.kind !== 'stop') return;
  running = false;
  clearInterval(timer);
  void db.destroy().finally(() => parentPort?.postMessage({ kind: 'stopped' }));
});

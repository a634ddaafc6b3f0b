import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DbTimeouts } from '../config.js';
import { sharedIdsBytes, writeSharedIds } from './shared-ids.js';

export interface Heartbeat {
  /** The runs this process is executing right now: the only ones its heartbeat refreshes. */
  setInflight(runIds: string[]): void;
  /** Job slots alive right now, recorded on the process's `workers` row. */
  setLiveSlots(live: number): void;
  stop(): Promise<void>;
}

export interface HeartbeatSettings {
  databaseUrl: string;
  workerId: string;
  intervalMs: number;
  /** The thread's connection's limits; its statements are held to one interval besides. */
  timeouts: DbTimeouts;
}

/**
 * Starts the heartbeat thread for a worker process. `onCancel` receives the ids of runs whose
 * cancel was requested. From source (tests, tsx) the thread runs the .ts file through tsx.
 */
export function startHeartbeat(
  settings: HeartbeatSettings,
  logger: Logger,
  onCancel: (runIds: string[]) => void,
): Heartbeat {
  // The in-flight set lives in shared memory: written here, read by the thread when it beats.
  let inflight = new SharedArrayBuffer(sharedIdsBytes(64));
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(`./heartbeat-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  // Node 20 does not carry `--import tsx` into worker threads: register tsx inside the thread.
  const thread = fromSource
    ? new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); })`,
        { eval: true, workerData: { ...settings, inflight } },
      )
    : new Worker(file, { workerData: { ...settings, inflight } });
  thread.on('message', (message: { kind: string; runIds?: string[]; message?: string }) => {
    if (message.kind === 'cancel' && message.runIds) onCancel(message.runIds);
    if (message.kind === 'error')
      logger.error({ error: message.message }, 'heartbeat failed; retrying every interval');
    if (message.kind === 'recovered') logger.info('heartbeat recovered');
  });
  thread.on('error', (error) => logger.error({ err: error }, 'heartbeat thread crashed'));
  return {
    setInflight(runIds) {
      if (writeSharedIds(inflight, runIds)) return;
      // More runs in flight than the buffer holds (rare: it is sized for them): a bigger one.
      inflight = new SharedArrayBuffer(sharedIdsBytes(runIds.length));
      writeSharedIds(inflight, runIds);
      thread.postMessage({ kind: 'inflight', buffer: inflight });
    },
    setLiveSlots(live) {
      thread.postMessage({ kind: 'slots', live });
    },
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        thread.on('message', (m: { kind: string }) => m.kind === 'stopped' && resolve());
        thread.once('exit', () => resolve());
      });
      thread.postMessage({ kind: 'stop' });
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await thread.terminate();
    },
  };
}

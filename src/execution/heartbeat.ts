import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DbTimeouts } from '../config.js';
import { sharedIdsBytes, writeSharedIds } from './shared-ids.js';

export interface Heartbeat {
  /** The runs this process is executing right now: the only ones its heartbeat refreshes. */
  setInflight(runIds: string[]): void;
  /** Job slots alive right now, recorded on the process's `workers` row. */
  setLiveSlots(live: number): void;
  /** The thread beating right now (a new one after a death); tests end it to prove a death is not silent. */
  thread(): Worker;
  stop(): Promise<void>;
}

export interface HeartbeatSettings {
  databaseUrl: string;
  workerId: string;
  intervalMs: number;
  /** The thread's connection's limits; its statements are held to one interval besides. */
  timeouts: DbTimeouts;
}

/** A thread that dies is restarted; this many deaths within RESTART_WINDOW_MS are fatal. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/**
 * Starts the heartbeat thread for a worker process. `onCancel` receives the ids of runs whose
 * cancel was requested. From source (tests, tsx) the thread runs the .ts file through tsx.
 * A thread that dies is started again (DESIGN §16: no silent stop — without it every run of this
 * process would end `run.heartbeat_lost`); one that keeps dying is `onFatal`, after a fatal log line.
 */
export function startHeartbeat(
  settings: HeartbeatSettings,
  logger: Logger,
  onCancel: (runIds: string[]) => void,
  onFatal: (error: unknown) => void,
): Heartbeat {
  // The in-flight set lives in shared memory: written here, read by the thread when it beats.
  let inflight = new SharedArrayBuffer(sharedIdsBytes(64));
  let liveSlots: number | undefined;
  let stopping = false;
  const deaths: number[] = [];
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(`./heartbeat-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  const spawn = (): Worker => {
    // Node 20 does not carry `--import tsx` into worker threads: register tsx inside the thread.
    const started = fromSource
      ? new Worker(
          `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); })`,
          { eval: true, workerData: { ...settings, inflight } },
        )
      : new Worker(file, { workerData: { ...settings, inflight } });
    started.on('message', (message: { kind: string; runIds?: string[]; message?: string }) => {
      if (message.kind === 'cancel' && message.runIds) onCancel(message.runIds);
      if (message.kind === 'error')
        logger.error({ error: message.message }, 'heartbeat failed; retrying every interval');
      if (message.kind === 'recovered') logger.info('heartbeat recovered');
    });
    let crash: unknown;
    started.on('error', (error) => {
      crash = error;
    });
    started.on('exit', (code) => {
      if (stopping) return;
      const error = crash ?? new Error(`the heartbeat thread exited with code ${code}`);
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && (deaths[0] ?? now) < now - RESTART_WINDOW_MS) deaths.shift();
      if (deaths.length > MAX_RESTARTS) {
        stopping = true;
        logger.fatal(
          { err: error, deaths: deaths.length },
          'the heartbeat thread keeps dying: exiting so a supervisor restarts this worker',
        );
        onFatal(error);
        return;
      }
      logger.error({ err: error }, 'the heartbeat thread died; starting it again');
      thread = spawn();
      if (liveSlots !== undefined) thread.postMessage({ kind: 'slots', live: liveSlots });
    });
    return started;
  };
  let thread = spawn();
  return {
    setInflight(runIds) {
      if (writeSharedIds(inflight, runIds)) return;
      // More runs in flight than the buffer holds (rare: it is sized for them): a bigger one.
      inflight = new SharedArrayBuffer(sharedIdsBytes(runIds.length));
      writeSharedIds(inflight, runIds);
      thread.postMessage({ kind: 'inflight', buffer: inflight });
    },
    setLiveSlots(live) {
      liveSlots = live;
      thread.postMessage({ kind: 'slots', live });
    },
    thread: () => thread,
    async stop() {
      stopping = true;
      const current = thread;
      if (current.threadId === -1) return; // already gone (it died for good)
      const stopped = new Promise<void>((resolve) => {
        current.on('message', (m: { kind: string }) => m.kind === 'stopped' && resolve());
        current.once('exit', () => resolve());
      });
      current.postMessage({ kind: 'stop' });
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await current.terminate();
    },
  };
}

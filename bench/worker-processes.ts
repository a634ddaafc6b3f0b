import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { processCpuMs } from './profile.js';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface ProcessDrain {
  /** Polls `drained` made (each one transaction of the bench's own). */
  polls: number;
  /** CPU the worker processes spent from ready to drained (their start-up left out). */
  workerCpuMs: number;
}

/**
 * Drains the queued runs with `processes` real `runwarden worker` processes (what users deploy,
 * at the default log level), then stops them with SIGTERM and waits for them to exit.
 */
export async function drainWithProcesses(
  url: string,
  options: { processes: number; concurrency: number; drained: () => Promise<number> },
): Promise<ProcessDrain> {
  const children: ChildProcess[] = [];
  try {
    const ready = await Promise.all(
      Array.from({ length: options.processes }, async () => {
        const child = spawnWorker(url, options.concurrency);
        children.push(child);
        await startedSignal(child);
        return processCpuMs(child.pid ?? 0);
      }),
    );
    const polls = await options.drained();
    let cpu = 0;
    for (const [i, child] of children.entries())
      cpu += (await processCpuMs(child.pid ?? 0)) - (ready[i] ?? 0);
    await Promise.all(children.map((child) => stopped(child)));
    return { polls, workerCpuMs: cpu };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function spawnWorker(url: string, concurrency: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'src/cli/main.ts'),
      'worker',
      '--concurrency',
      String(concurrency),
    ],
    {
      env: { ...process.env, DATABASE_URL: url, LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

/** Resolves on the worker's "worker started" line; its later lines are read and dropped. */
function startedSignal(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let text = '';
    let started = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (started) return;
      text += chunk.toString();
      if (text.includes('"msg":"worker started"')) {
        started = true;
        text = '';
        resolve();
      }
    });
    child.once('exit', () => reject(new Error('a worker process exited during start-up')));
  });
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

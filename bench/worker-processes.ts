import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processCpu } from './profile.js';
import { progress } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** A fixture database holds no demo: the workers are given the demo catalog by name. */
const DEMO_CATALOG = path.join(ROOT, 'test/fixtures/demo-catalog.ts');

export interface ProcessDrain {
  /** Polls `drained` made (each one transaction of the bench's own). */
  polls: number;
  /** CPU the worker processes spent from ready to drained (their start-up left out). */
  workerCpuMs: number;
  /** Of it, in the kernel. */
  workerKernelMs: number;
}

/**
 * Drains the queued runs with `processes` real `runwarden worker` processes (what users deploy,
 * at the default log level), then stops them with SIGTERM and waits for them to exit.
 */
export async function drainWithProcesses(
  url: string,
  options: {
    processes: number;
    concurrency: number;
    drained: () => Promise<number>;
    /** The workers' RUNWARDEN_CONFIG (default: the demo catalog). */
    catalog?: string;
  },
): Promise<ProcessDrain> {
  const entry = await workerEntry();
  const children: ChildProcess[] = [];
  const logs = await mkdtemp(path.join(tmpdir(), 'runwarden-bench-logs-'));
  try {
    const ready = await Promise.all(
      Array.from({ length: options.processes }, async (_, i) => {
        const log = path.join(logs, `worker-${i}.log`);
        const child = spawnWorker(url, options.concurrency, log, entry, options.catalog);
        children.push(child);
        await startedSignal(child, log);
        return processCpu(child.pid ?? 0);
      }),
    );
    const polls = await options.drained();
    let user = 0;
    let kernel = 0;
    for (const [i, child] of children.entries()) {
      const now = await processCpu(child.pid ?? 0);
      user += now.user - (ready[i]?.user ?? 0);
      kernel += now.kernel - (ready[i]?.kernel ?? 0);
    }
    await Promise.all(children.map((child) => stopped(child)));
    return { polls, workerCpuMs: user + kernel, workerKernelMs: kernel };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(logs, { recursive: true, force: true });
  }
}

/** Its log goes to a file, as to a collector: reading a pipe here would be counted as its cost. */
function spawnWorker(
  url: string,
  concurrency: number,
  log: string,
  entry: string[],
  catalog = DEMO_CATALOG,
): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROFILE=<dir>: each worker process writes its CPU profile there when it exits.
      ...(process.env.BENCH_CPU_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`]
        : []),
      ...entry,
      'worker',
      '--concurrency',
      String(concurrency),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: url,
        RUNWARDEN_CONFIG: catalog,
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', fd, 'inherit'],
    },
  );
  closeSync(fd);
  return child;
}

/** Resolves once the worker's log has its "worker started" line. */
async function startedSignal(child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('a worker process exited during start-up');
    if ((await readFile(log, 'utf8')).includes('"msg":"worker started"')) return;
    if (Date.now() > deadline) throw new Error('a worker process did not start within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * The built CLI (`dist/`, what users deploy) when it is at least as new as every source file;
 * otherwise the source through tsx, which costs the workers about a quarter more CPU per run.
 */
async function workerEntry(): Promise<string[]> {
  const built = path.join(ROOT, 'dist/cli/main.js');
  const builtAt = await stat(built).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  let newest = 0;
  for (const file of await readdir(path.join(ROOT, 'src'), { recursive: true })) {
    if (!file.endsWith('.ts') || file.startsWith('web')) continue;
    newest = Math.max(newest, (await stat(path.join(ROOT, 'src', file))).mtimeMs);
  }
  if (builtAt >= newest) return [built];
  progress('dist/ is older than src/ (run `npm run build`): the worker processes run from source');
  return ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];
}

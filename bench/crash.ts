import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { queueFixture } from './queue-fixture.js';
import { progress } from './support.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const ROOT = path.resolve(import.meta.dirname, '..');
/** A fixture database holds no demo: the worker is given the demo catalog by name. */
const DEMO_CATALOG = path.join(ROOT, 'test/fixtures/demo-catalog.ts');

/**
 * Crash detection at the default settings (heartbeat 5 s, sweep every 5 s): two real worker
 * processes; the one running a run is killed with SIGKILL; seconds until the run is terminal.
 */
export async function main(): Promise<void> {
  const f = await queueFixture('crash');
  const spawned: ChildProcess[] = [];
  const spawnWorker = async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'worker', '--concurrency', '1'],
      {
        env: {
          ...process.env,
          DATABASE_URL: f.url,
          RUNWARDEN_CONFIG: DEMO_CATALOG,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    spawned.push(child);
    const workerId = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const line = text.split('\n').find((l) => l.includes('"msg":"worker started"'));
        if (line) resolve((JSON.parse(line) as { workerId: string }).workerId);
      });
      child.once('exit', () => reject(new Error('worker exited during start-up')));
    });
    return { child, workerId };
  };
  try {
    const results: number[] = [];
    await spawnWorker(); // the survivor: its reconciler loop ends the victim's run
    for (let trial = 1; trial <= TRIALS; trial++) {
      const victim = await spawnWorker();
      // Keep the survivor busy so the victim takes the run; then free it for the next trial.
      const blocker = await f.startSleep(3600, `block-${trial}`);
      await waitFor(async () => (await f.runs.get(blocker.id))?.status === 'running');
      const run = await f.startSleep(3600, `crash-${trial}`);
      await waitFor(async () => (await f.runs.get(run.id))?.worker_id === victim.workerId);
      victim.child.kill('SIGKILL');
      const killedAt = performance.now();
      await waitFor(async () => (await f.runs.get(run.id))?.status === 'completed', 60_000);
      const seconds = (performance.now() - killedAt) / 1000;
      const reason = (await f.runs.get(run.id))?.reconciliation?.reasonCode;
      results.push(seconds);
      progress(
        `trial ${trial}/${TRIALS}: terminal ${seconds.toFixed(1)} s after SIGKILL (${reason})`,
      );
      await f.runs.requestCancel(blocker.id, { userId: null });
      await waitFor(async () => (await f.runs.get(blocker.id))?.status === 'completed', 30_000);
    }
    console.log(
      `SIGKILL → terminal at defaults (heartbeat 5 s, sweep 5 s): ${results.map((s) => s.toFixed(1)).join(', ')} s`,
    );
    console.log(`worst ${Math.max(...results).toFixed(1)} s (target <= 20 s)`);
  } finally {
    for (const child of spawned) child.kill('SIGKILL');
    await f.close();
  }
}

async function waitFor(check: () => Promise<boolean>, within = 30_000): Promise<void> {
  const deadline = Date.now() + within;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import http from 'node:http';
import { DEMO_PASSWORD, demoApp } from './demo-app.js';
import { percentile } from './queue-fixture.js';
import { progress } from './support.js';

const TRANSITIONS = Number(process.env.BENCH_TRANSITIONS ?? 300);

/**
 * Push freshness (DESIGN §14): a run transition committed by RunService → the `run` event read by
 * an SSE client of `GET /api/stream` over a real socket, p50/p95.
 */
export async function main(): Promise<void> {
  const f = await demoApp('push');
  try {
    const { run, base } = f;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.test', password: DEMO_PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    // Resolves waiters as `run` events arrive: key "<runId>:<processed>".
    const waiters = new Map<string, () => void>();
    let ready: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const req = http.get(`${base}/api/stream?workspace=contoso`, { headers: { cookie } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: ready')) ready();
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: run') && data) {
            const { run } = JSON.parse(data.slice(6)) as {
              run: { id: string; progress: { processed: number } | null };
            };
            waiters.get(`${run.id}:${run.progress?.processed ?? -1}`)?.();
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    req.on('error', () => undefined);

    await connected;
    progress(`SSE client connected; ${TRANSITIONS} transitions…`);
    const times: number[] = [];
    for (let i = 1; i <= TRANSITIONS; i++) {
      const received = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no event for transition ${i} within 5 s`)),
          5_000,
        );
        waiters.set(`${run.id}:${i}`, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const t0 = performance.now();
      await f.runs.reportProgress(run.id, { processed: i, total: 100_000 });
      await received;
      times.push(performance.now() - t0);
      waiters.delete(`${run.id}:${i}`);
      if (i % 100 === 0) progress(`${i} / ${TRANSITIONS}`);
    }
    req.destroy();
    times.sort((a, b) => a - b);
    const p95 = percentile(times, 95);
    console.log(
      `  transition → SSE event: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${(times.at(-1) ?? 0).toFixed(1)} ms`,
    );
    console.log(`push: p95 ${p95.toFixed(1)} ms over ${TRANSITIONS} transitions (target ≤ 250 ms)`);
  } finally {
    await f.close();
  }
}

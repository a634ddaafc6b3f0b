import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiHarness } from '../support/http.js';

// A build of the web app whose two hashed assets stand for two deploys' worth of file names.
const webRoot = await mkdtemp(path.join(tmpdir(), 'runwarden-web-'));
await mkdir(path.join(webRoot, 'assets'));
await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>web</title>');
await writeFile(path.join(webRoot, 'assets/index-Ab12Cd34.js'), 'console.log(1);');
await writeFile(path.join(webRoot, 'assets/index-Ef56Gh78.js'), 'console.log(2);');
await writeFile(path.join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

const h = await apiHarness({ app: { webRoot } });
const base = await h.app.listen({ port: 0, host: '127.0.0.1' });
afterAll(async () => {
  await rm(webRoot, { recursive: true, force: true });
});

const latencySeries = (body: string) =>
  body
    .split('\n')
    .filter((line) => line.startsWith('runwarden_api_request_duration_seconds_count{'));

describe('GET /metrics: the route label (issue 25)', () => {
  it('labels every static file as one route, so new asset names add no series', async () => {
    for (const file of ['/assets/index-Ab12Cd34.js', '/assets/index-Ef56Gh78.js', '/favicon.svg']) {
      const res = await fetch(base + file);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    const body = await (await fetch(`${base}/metrics`)).text();
    const series = latencySeries(body);
    expect(series.filter((line) => /Ab12Cd34|Ef56Gh78|favicon/.test(line))).toEqual([]);
    const statics = series.filter((line) => line.includes('route="static"'));
    expect(statics).toHaveLength(1);
    expect(statics[0]).toMatch(/method="GET"/);
    expect(statics[0]).toMatch(/ 3$/);
    // API routes keep their own label.
    expect(series.some((line) => line.includes('route="/api/health"'))).toBe(true);
  });
});

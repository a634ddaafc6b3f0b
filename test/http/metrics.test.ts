import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { prune } from '../../src/lifecycle/retention.js';
import { apiHarness } from '../support/http.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const h = await apiHarness({ app: { metricsToken: METRICS_TOKEN } });
const scrape = () =>
  h.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });

/** A finished demo.sleep run that ran `seconds` (its start and end back-dated), `daysAgo` ago. */
async function finished(
  outcome: 'succeeded' | 'failed',
  seconds: number,
  options: { daysAgo?: number; reconciled?: boolean } = {},
) {
  const { run } = await h.runs.createOrReuse({
    workspaceId: h.ids.contoso,
    tenantId: h.ids.prod,
    type: 'demo.sleep',
    identity: { tag: `metrics-${Math.random()}` },
    input: { seconds: 1, tag: 'metrics' },
    initiatorUserId: null,
  });
  await h.runs.markRunning(run.id, { workerId: 'metrics-test' });
  if (options.reconciled)
    await h.runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
  else await h.runs.complete(run.id, { outcome });
  const end = (options.daysAgo ?? 0) * 86_400;
  await sql`update operation_runs
    set completed_at = now() - make_interval(secs => ${end}),
        started_at = now() - make_interval(secs => ${end + seconds})
    where id = ${run.id}`.execute(h.db);
  return run.id;
}

function sample(body: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = body
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) && wanted.every((w) => l.slice(0, l.indexOf('}')).includes(w)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const completions = (body: string, outcome: string, reconciled: boolean) =>
  sample(body, 'runwarden_run_completions_total', {
    type: 'demo.sleep',
    outcome,
    reconciled: String(reconciled),
  });

describe('GET /metrics: completions and durations (DESIGN §11, issue 14)', () => {
  it('counts completions by type, outcome and reconciled, and their durations in a histogram', async () => {
    const before = (await scrape()).body;
    await finished('succeeded', 0.3);
    await finished('succeeded', 40);
    await finished('failed', 2);
    await finished('failed', 20, { reconciled: true });
    const res = await scrape();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('# TYPE runwarden_run_completions_total counter');
    expect(res.body).toContain('# TYPE runwarden_run_duration_seconds histogram');
    const delta = (outcome: string, reconciled: boolean) =>
      completions(res.body, outcome, reconciled) - completions(before, outcome, reconciled);
    expect(delta('succeeded', false)).toBe(2);
    expect(delta('failed', false)).toBe(1);
    expect(delta('failed', true)).toBe(1);

    const bucket = (body: string, le: string) =>
      sample(body, 'runwarden_run_duration_seconds_bucket', {
        type: 'demo.sleep',
        outcome: 'succeeded',
        le,
      });
    expect(bucket(res.body, '0.5') - bucket(before, '0.5')).toBe(1); // the 0.3 s run
    expect(bucket(res.body, '60') - bucket(before, '60')).toBe(2); // and the 40 s one
    expect(bucket(res.body, '+Inf') - bucket(before, '+Inf')).toBe(2);
    const sum = (body: string) =>
      sample(body, 'runwarden_run_duration_seconds_sum', {
        type: 'demo.sleep',
        outcome: 'succeeded',
      });
    expect(sum(res.body) - sum(before)).toBeCloseTo(40.3, 1);
  });

  it('never goes down when retention deletes the runs it counted', async () => {
    await finished('succeeded', 5, { daysAgo: 120 });
    await finished('failed', 5, { daysAgo: 120 });
    const before = (await scrape()).body;
    const report = await prune(h.db, { retentionDays: 90, batchSize: 1 });
    expect(report.deleted).toBeGreaterThanOrEqual(2);
    const after = (await scrape()).body;
    for (const [outcome, reconciled] of [
      ['succeeded', false],
      ['failed', false],
      ['failed', true],
    ] as const)
      expect(completions(after, outcome, reconciled)).toBe(
        completions(before, outcome, reconciled),
      );
    expect(after.match(/^runwarden_run_duration_seconds_\w+\{.*$/gm)).toEqual(
      before.match(/^runwarden_run_duration_seconds_\w+\{.*$/gm),
    );
  });

  it('answers 401 in the API error shape without the token, or with a wrong one', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${METRICS_TOKEN}`]) {
      const res = await h.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'unauthenticated' } });
      expect(res.body).not.toContain('runwarden_');
    }
  });

  it('passes promtool check metrics', async () => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    // .ci/run installs Debian's prometheus package for it; a machine without it cannot run this.
    if (!promtool) throw new Error('promtool is not installed (Debian package prometheus)');
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'metrics-')), 'metrics.txt');
    await writeFile(file, (await scrape()).body);
    const check = await promisify(execFile)('sh', [
      '-c',
      `${promtool} check metrics < ${file}`,
    ]).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool check metrics failed:\n${error.stdout}${error.stderr}`);
    });
    expect(check.stderr.trim()).toBe('');
  });
});

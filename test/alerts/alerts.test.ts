import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertWork } from '../../src/alerts/tasks.js';
import { until } from '../support/db.js';
import { apiHarness, type Caller } from '../support/http.js';
import { runTestWorker } from '../support/worker.js';

// Alerts (DESIGN §18) with real receivers: an HTTP server that checks the webhook's signature, a
// Slack-shaped endpoint, a local SMTP server. A run that ends is evaluated through the queue, and
// each delivery through it again, with retries, each attempt recorded.

const h = await apiHarness();
let owner: Caller;
let manager: Caller;
let outsider: Caller;
let n = 0;
const servers: Array<{ close(): void }> = [];
const mail: Array<{ to: string[]; data: string }> = [];
let smtpPort = 0;
let worker: Awaited<ReturnType<typeof runTestWorker>>;
let alerts: ReturnType<typeof alertWork>;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver answering `statuses` in turn (then 200), keeping what it got. */
async function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

beforeAll(async () => {
  owner = await h.login('owner@demo.test');
  manager = await h.login('manager@demo.test');
  outsider = await h.login('outsider@demo.test');
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk) => {
        data += chunk;
      });
      stream.on('end', () => {
        mail.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  servers.push(smtp);
  alerts = alertWork({
    db: h.db,
    publicUrl: 'https://ops.example.test',
    policyOf: h.registry.policyOf,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    allowPrivateAddresses: true,
    retryBaseMs: 50,
  });
  worker = await runTestWorker(h.t, h.registry, { jobs: alerts.jobs });
});

afterAll(async () => {
  await worker?.close();
  for (const s of servers) s.close();
});

async function rule(caller: Caller, body: Record<string, unknown>, ws = 'contoso') {
  return await h.request(caller, {
    method: 'POST',
    url: `/api/workspaces/${ws}/alert-rules`,
    payload: { name: `rule ${++n}`, ...body },
  });
}

/** A run of `type` that ends `ending` in `workspaceId`. */
async function end(
  ending: 'failed' | 'succeeded' | 'reconciled',
  options: { type?: string; workspaceId?: string; tenantId?: string } = {},
) {
  const { run } = await h.runs.createOrReuse({
    workspaceId: options.workspaceId ?? h.ids.contoso,
    tenantId: options.tenantId ?? h.ids.prod,
    type: options.type ?? 'drift.generate',
    identity: { n: ++n },
    input: { scope: 'all' },
    initiatorUserId: null,
  });
  await h.runs.markRunning(run.id, { workerId: 'alerts-test' });
  if (ending === 'reconciled')
    await h.runs.forceFail(run.id, {
      reasonCode: 'run.heartbeat_lost',
      message: 'The worker stopped reporting heartbeats.',
      thresholdSeconds: 15,
      evidence: {},
      source: 'reconciler',
    });
  else await h.runs.complete(run.id, { outcome: ending });
  return run.id;
}

async function deliveries(ruleId: string) {
  const res = await h.request(owner, {
    method: 'GET',
    url: `/api/workspaces/contoso/alert-rules/${ruleId}/deliveries`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as Array<{
    id: string;
    status: string;
    attempts: number;
    count: number;
    lastError: string | null;
    test: boolean;
  }>;
}

const verify = (secret: string, r: Received) => {
  const header = String(r.headers['runwarden-signature']);
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
  const expected = createHmac('sha256', secret).update(`${t}.${r.body}`).digest('hex');
  return v1 === expected && Math.abs(Date.now() / 1000 - Number(t)) < 300;
};

describe('a webhook rule', () => {
  it('delivers a signed alert once, after two 500s, with 3 attempts recorded', async () => {
    const hook = await receiver([500, 500]);
    const made = await rule(owner, {
      condition: { kind: 'run_ended', outcomes: ['failed'], types: ['baseline.capture'] },
      destination: { kind: 'webhook', url: hook.url },
    });
    expect(made.statusCode, made.body).toBe(201);
    const { rule: created, secret } = made.json();
    expect(secret).toMatch(/^whsec_/);
    // Shown once: never again in a read.
    const listed = await h.request(owner, {
      method: 'GET',
      url: '/api/workspaces/contoso/alert-rules',
    });
    expect(listed.body).not.toContain(secret);

    const runId = await end('failed', { type: 'baseline.capture' });
    await end('succeeded', { type: 'baseline.capture' }); // not what the rule counts
    const [delivery] = await until(
      async () => {
        const items = await deliveries(created.id);
        return items[0]?.status === 'delivered' ? items : undefined;
      },
      { within: 20_000, what: 'the delivery' },
    );
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, count: 1, test: false });
    expect(hook.got).toHaveLength(3);
    for (const r of hook.got) expect(verify(secret, r)).toBe(true);
    expect(new Set(hook.got.map((r) => r.headers['runwarden-delivery']))).toEqual(
      new Set([delivery?.id]),
    );
    const body = JSON.parse(hook.got[2]?.body ?? '{}');
    expect(body).toMatchObject({
      id: delivery?.id,
      rule: { id: created.id, name: created.name },
      workspace: { slug: 'contoso' },
      count: 1,
      runs: [
        {
          id: runId,
          type: 'baseline.capture',
          tenant: 'contoso-prod',
          outcome: 'failed',
          link: `https://ops.example.test/admin/operations/${runId}`,
        },
      ],
    });
    // A forged body fails the check a receiver makes.
    expect(verify(secret, { ...hook.got[2], body: `${hook.got[2]?.body} ` } as Received)).toBe(
      false,
    );
  });

  it('sends one alert for a burst of 50 failures, saying 50, then holds the next back', async () => {
    const hook = await receiver();
    const made = (
      await rule(owner, {
        condition: {
          kind: 'run_ended',
          outcomes: ['failed', 'reconciled'],
          types: ['drift.generate'],
        },
        destination: { kind: 'webhook', url: hook.url },
        throttleMinutes: 10,
      })
    ).json();
    // The burst ends while no worker runs, as 50 commits of their own: one evaluation is due.
    await worker.close();
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => end(i % 5 === 0 ? 'reconciled' : 'failed')),
      );
    } finally {
      worker = await runTestWorker(h.t, h.registry, { jobs: alerts.jobs });
    }
    const [first] = await until(
      async () => {
        const items = await deliveries(made.rule.id);
        return items[0]?.status === 'delivered' ? items : undefined;
      },
      { within: 20_000, what: 'the burst alert' },
    );
    expect(first?.count).toBe(50);
    expect(JSON.parse(hook.got[0]?.body ?? '{}').runs).toHaveLength(20);
    await end('failed');
    const held = await until(
      async () => {
        const res = await h.request(owner, {
          method: 'GET',
          url: '/api/workspaces/contoso/alert-rules',
        });
        const mine = res.json().items.find((r: { id: string }) => r.id === made.rule.id);
        return mine.pendingCount === 1 ? mine : undefined;
      },
      { within: 20_000, what: 'the held-back failure' },
    );
    expect(held.lastAlertAt).toBeTruthy();
    expect(await deliveries(made.rule.id)).toHaveLength(1);
    expect(hook.got).toHaveLength(1);
  });

  it('never fires for another workspace, whose owner cannot see it', async () => {
    const hook = await receiver();
    const made = (
      await rule(owner, {
        condition: { kind: 'run_ended', outcomes: ['failed'] },
        destination: { kind: 'webhook', url: hook.url },
        throttleMinutes: 1,
      })
    ).json();
    for (let i = 0; i < 3; i++)
      await end('failed', {
        workspaceId: h.ids.fabrikam,
        tenantId: h.ids.fabrikamProd,
        type: 'baseline.compare',
      });
    // Fabrikam has no rule: its endings leave no event and ask for no evaluation.
    const events = await h.db
      .selectFrom('alert_events')
      .select('run_id')
      .where('workspace_id', '=', h.ids.fabrikam)
      .execute();
    expect(events).toEqual([]);
    const jobs = await h.db
      .selectFrom('graphile_worker.jobs' as never)
      .select('key' as never)
      .where('key' as never, '=', `runwarden:alerts:${h.ids.fabrikam}` as never)
      .execute();
    expect(jobs).toEqual([]);
    expect(await deliveries(made.rule.id)).toEqual([]);
    for (const [method, url] of [
      ['GET', '/api/workspaces/contoso/alert-rules'],
      ['GET', `/api/workspaces/contoso/alert-rules/${made.rule.id}/deliveries`],
      ['POST', `/api/workspaces/contoso/alert-rules/${made.rule.id}/test`],
      ['DELETE', `/api/workspaces/contoso/alert-rules/${made.rule.id}`],
    ] as const) {
      const res = await h.request(outsider, { method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    // Their own workspace's rule may not name contoso's tenants.
    const crossed = await rule(
      outsider,
      {
        condition: { kind: 'run_ended', outcomes: ['failed'], tenantIds: [h.ids.prod] },
        destination: { kind: 'webhook', url: hook.url },
      },
      'fabrikam',
    );
    expect(crossed.statusCode).toBe(400);
    expect(hook.got).toEqual([]);
  });
});

describe('Slack and email rules', () => {
  it('posts a readable Slack message with the run link', async () => {
    const slack = await receiver();
    const made = await rule(owner, {
      condition: { kind: 'run_ended', outcomes: ['reconciled'], types: ['mailbox_archive.export'] },
      destination: { kind: 'slack', url: slack.url },
    });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json().secret).toBeNull();
    // The URL is the credential: shown by its host only.
    expect(made.json().rule.destination.url).not.toContain('/hook');
    const runId = await end('reconciled', { type: 'mailbox_archive.export' });
    await until(() => slack.got.length === 1, { within: 20_000, what: 'the Slack post' });
    const { text } = JSON.parse(slack.got[0]?.body ?? '{}');
    expect(text).toContain(made.json().rule.name);
    expect(text).toContain(
      `<https://ops.example.test/admin/operations/${runId}|mailbox_archive.export>`,
    );
    expect(text).toContain('reconciled');
  });

  it('emails the alert over SMTP', async () => {
    const made = await rule(owner, {
      condition: { kind: 'run_ended', outcomes: ['failed'], types: ['review_pack.generate'] },
      destination: { kind: 'email', to: ['ops@example.test'] },
    });
    expect(made.statusCode, made.body).toBe(201);
    const runId = await end('failed', { type: 'review_pack.generate', tenantId: h.ids.dev });
    // Quoted-printable: long lines (the links) are folded with a trailing "=".
    const text = (m: { data: string }) => m.data.replace(/=\r?\n/g, '');
    const message = await until(() => mail.find((m) => text(m).includes(runId)), {
      within: 20_000,
      what: `the email (deliveries: ${JSON.stringify(await deliveries(made.json().rule.id))})`,
    });
    expect(message.to).toEqual(['ops@example.test']);
    expect(message.data).toContain(`Subject: Runwarden: ${made.json().rule.name} (1)`);
  });
});

describe('the rules API', () => {
  it('is for owners of the whole workspace; bad rules are a 400; "Send test" is recorded', async () => {
    const hook = await receiver();
    const body = {
      condition: { kind: 'failure_count', threshold: 5, windowMinutes: 15 },
      destination: { kind: 'webhook', url: hook.url },
    };
    expect((await rule(manager, body)).statusCode).toBe(403);
    const restricted = await h.login('restricted@demo.test');
    expect((await rule(restricted, body)).statusCode).toBe(403);
    for (const bad of [
      { ...body, condition: { kind: 'failure_count', threshold: 0, windowMinutes: 15 } },
      { ...body, condition: { kind: 'sometimes' } },
      { ...body, destination: { kind: 'webhook', url: 'ftp://example.test/x' } },
      { ...body, destination: { kind: 'email', to: ['not an email'] } },
      { ...body, extra: true },
    ]) {
      const res = await rule(owner, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().error.code).toBeTruthy();
    }
    const made = (await rule(owner, body)).json();
    const test = await h.request(owner, {
      method: 'POST',
      url: `/api/workspaces/contoso/alert-rules/${made.rule.id}/test`,
    });
    expect(test.statusCode, test.body).toBe(202);
    await until(() => hook.got.length === 1, { within: 20_000, what: 'the test alert' });
    expect(verify(made.secret, hook.got[0] as Received)).toBe(true);
    expect(JSON.parse(hook.got[0]?.body ?? '{}').test).toBe(true);
    expect(await deliveries(made.rule.id)).toMatchObject([{ test: true, status: 'delivered' }]);
    // A new destination gets a new secret; the same one keeps it.
    const put = (destination: object) =>
      h.request(owner, {
        method: 'PUT',
        url: `/api/workspaces/contoso/alert-rules/${made.rule.id}`,
        payload: { name: 'renamed', condition: body.condition, destination },
      });
    expect((await put(body.destination)).json().secret).toBeNull();
    const moved = (await put({ kind: 'webhook', url: `${hook.url}/v2` })).json();
    expect(moved.secret).toMatch(/^whsec_/);
    expect(moved.secret).not.toBe(made.secret);
    const audit = await h.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', made.rule.id)
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual([
      'alert_rule.create',
      'alert_rule.update',
      'alert_rule.update',
    ]);
  });

  it('does not deliver to a private address unless allowed', async () => {
    const { deliver } = await import('../../src/alerts/deliver.js');
    const hook = await receiver();
    const made = (
      await rule(owner, {
        condition: { kind: 'likely_stale' },
        destination: { kind: 'webhook', url: hook.url },
        enabled: false,
      })
    ).json();
    const { recordDelivery, alertPayload } = await import('../../src/alerts/evaluate.js');
    const payload = await alertPayload(
      h.db,
      { publicUrl: 'https://ops.example.test' },
      h.ids.contoso,
      made.rule,
      made.rule.condition,
      { count: 1, runs: [] },
      new Date(),
    );
    // Recorded without its job (the worker would deliver it with private addresses allowed).
    await h.db
      .insertInto('alert_deliveries')
      .values({
        id: payload.id,
        rule_id: made.rule.id,
        workspace_id: h.ids.contoso,
        count: 1,
        payload: JSON.stringify(payload),
      })
      .execute();
    expect(recordDelivery).toBeTypeOf('function');
    await deliver({ db: h.db, retryBaseMs: 3_600_000 }, payload.id);
    const [row] = await deliveries(made.rule.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row?.lastError).toMatch(/private address/);
    expect(hook.got).toEqual([]);
  });
});

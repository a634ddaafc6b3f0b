import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AlertDestination } from '../domain/alert-rules.js';
import { redactText } from '../domain/sanitize.js';
import { type AlertPayload, DELIVER_TASK } from './evaluate.js';

/** How long a delivery is retried before it is given up (DESIGN §18). */
export const DELIVERY_GIVE_UP_MS = 24 * 3600 * 1000;
const MAX_BACKOFF_MS = 3600 * 1000;
const SEND_TIMEOUT_MS = 10_000;

export interface DeliveryDeps {
  db: Kysely<Database>;
  /** RUNWARDEN_SMTP_URL (smtp://user:pass@host:port); email rules fail without it. */
  smtpUrl?: string;
  smtpFrom?: string;
  /** First retry after this (then doubling, at most an hour). Default 10 s. */
  retryBaseMs?: number;
  /** Deliver to loopback and private addresses too (tests, a private network): off by default. */
  allowPrivateAddresses?: boolean;
  now?: () => Date;
}

/** `runwarden-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` (DESIGN §18). */
export function signature(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Sends one delivery (the queue's job): at least once — a send whose answer is lost is sent again,
 * with the same id. Each attempt is recorded; a failed one is tried again with backoff for 24
 * hours, then the delivery is `failed`. A delivered or given-up delivery is not sent again.
 */
export async function deliver(deps: DeliveryDeps, deliveryId: string): Promise<void> {
  const row = await deps.db
    .selectFrom('alert_deliveries')
    .innerJoin('alert_rules', 'alert_rules.id', 'alert_deliveries.rule_id')
    .select([
      'alert_deliveries.status',
      'alert_deliveries.attempts',
      'alert_deliveries.created_at',
      'alert_deliveries.payload',
      'alert_rules.destination',
      'alert_rules.secret',
    ])
    .where('alert_deliveries.id', '=', deliveryId)
    .executeTakeFirst();
  if (row?.status !== 'pending') return;
  const now = (deps.now ?? (() => new Date()))();
  const attempts = row.attempts + 1;
  try {
    await send(deps, row.destination as StoredDestination, row.secret, row.payload as AlertPayload);
    await deps.db
      .updateTable('alert_deliveries')
      .set({
        status: 'delivered',
        attempts,
        last_attempt_at: now,
        delivered_at: now,
        last_error: null,
      })
      .where('id', '=', deliveryId)
      .where('status', '=', 'pending')
      .execute();
  } catch (error) {
    const giveUp = now.getTime() - row.created_at.getTime() >= DELIVERY_GIVE_UP_MS;
    const message = redactText(error instanceof Error ? error.message : String(error)).slice(
      0,
      500,
    );
    await deps.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('alert_deliveries')
        .set({
          attempts,
          last_attempt_at: now,
          last_error: message,
          ...(giveUp ? { status: 'failed' as const } : {}),
        })
        .where('id', '=', deliveryId)
        .where('status', '=', 'pending')
        .execute();
      if (!giveUp) {
        const base = deps.retryBaseMs ?? 10_000;
        const wait = Math.min(base * 2 ** (attempts - 1), MAX_BACKOFF_MS);
        await sql`select graphile_worker.add_job(
            identifier => ${DELIVER_TASK}::text,
            payload => json_build_object('deliveryId', ${deliveryId}::text),
            run_at => ${new Date(now.getTime() + wait).toISOString()}::timestamptz,
            max_attempts => 25,
            job_key => ${`runwarden:alert-delivery:${deliveryId}:${attempts}`}::text)`.execute(trx);
      }
    });
  }
}

type StoredDestination =
  | Extract<AlertDestination, { kind: 'webhook' | 'email' }>
  | { kind: 'slack'; host: string };

async function send(
  deps: DeliveryDeps,
  destination: StoredDestination,
  secret: string | null,
  payload: AlertPayload,
): Promise<void> {
  if (destination.kind === 'email') return await sendEmail(deps, destination.to, payload);
  const url = destination.kind === 'slack' ? secret : destination.url;
  if (!url) throw new Error('the destination has no URL');
  await refusePrivate(deps, url);
  const body = JSON.stringify(destination.kind === 'slack' ? slackMessage(payload) : payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Runwarden alerts',
  };
  if (destination.kind === 'webhook') {
    if (!secret) throw new Error('the webhook has no signing secret');
    headers['runwarden-signature'] = signature(secret, body, new Date());
    headers['runwarden-delivery'] = payload.id;
  }
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`the receiver answered ${response.status}`);
}

/** A Slack incoming webhook's message: what happened, how many, and links to the runs. */
export function slackMessage(payload: AlertPayload): { text: string } {
  const lines = [
    `*${payload.test ? '[Test] ' : ''}${payload.rule.name}* in ${payload.workspace.name}: ${payload.rule.condition} (${payload.count} ${payload.count === 1 ? 'time' : 'times'}).`,
    ...payload.runs.map(
      (r) => `• <${r.link}|${r.type}>${r.tenant ? ` on ${r.tenant}` : ''}: ${r.outcome}`,
    ),
  ];
  return { text: lines.join('\n') };
}

/** The email's subject and text. */
export function emailMessage(payload: AlertPayload): { subject: string; text: string } {
  // One line: a rule's name never adds a header.
  const name = payload.rule.name.replace(/[\r\n\t]+/g, ' ');
  return {
    subject: `${payload.test ? '[Test] ' : ''}Runwarden: ${name} (${payload.count})`,
    text: [
      `${payload.rule.name} in ${payload.workspace.name}: ${payload.rule.condition}, ${payload.count} ${payload.count === 1 ? 'time' : 'times'}.`,
      '',
      ...payload.runs.map(
        (r) => `${r.type}${r.tenant ? ` on ${r.tenant}` : ''}: ${r.outcome} — ${r.link}`,
      ),
    ].join('\n'),
  };
}

async function sendEmail(deps: DeliveryDeps, to: string[], payload: AlertPayload) {
  if (!deps.smtpUrl) throw new Error('no SMTP server is configured (RUNWARDEN_SMTP_URL)');
  const { createTransport } = await import('nodemailer');
  const transport = createTransport(deps.smtpUrl);
  try {
    await transport.sendMail({
      from: deps.smtpFrom ?? 'Runwarden <runwarden@localhost>',
      to,
      ...emailMessage(payload),
      headers: { 'X-Runwarden-Delivery': payload.id },
    });
  } finally {
    transport.close();
  }
}

/** Refuses a URL whose host is (or resolves to) loopback, private or link-local, unless allowed. */
async function refusePrivate(deps: DeliveryDeps, raw: string) {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error('only http and https destinations are delivered to');
  if (deps.allowPrivateAddresses) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  if (addresses.some(isPrivate))
    throw new Error(`${url.hostname} is a private address; alerts go to public receivers only`);
}

function isPrivate(address: string): boolean {
  if (address.includes(':')) {
    const a = address.toLowerCase();
    return (
      a === '::1' ||
      a === '::' ||
      a.startsWith('fc') ||
      a.startsWith('fd') ||
      a.startsWith('fe80') ||
      a.startsWith('::ffff:')
    );
  }
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

import path from 'node:path';
import { z } from 'zod';

/** Environment configuration (DESIGN §13). Parsed once at the edge; bad values fail with a clear message. */
const EnvSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  RUNWARDEN_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  RUNWARDEN_DATA_DIR: z.string().min(1).default('.runwarden'),
  RUNWARDEN_PG_PORT: z.coerce.number().int().min(1).max(65_535).default(54329),
  RUNWARDEN_PG_RUNTIME_DIR: z.string().min(1).default('/var/lib/runwarden'),
  RUNWARDEN_CONFIG: z.string().min(1).optional(),
  RUNWARDEN_DEMO_PASSWORD: z.string().min(8).optional(),
  RUNWARDEN_DEMO: z.enum(['true', 'false']).default('true'),
  RUNWARDEN_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://ops.example.com' })
    .optional(),
  RUNWARDEN_RETENTION_DAYS: z.coerce.number().positive().max(36_500).default(90),
  RUNWARDEN_RECONCILE_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(5),
  RUNWARDEN_DB_POOL_SIZE: z.coerce.number().int().min(2).max(1000).optional(),
  RUNWARDEN_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  RUNWARDEN_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  RUNWARDEN_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .optional(),
  RUNWARDEN_API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  RUNWARDEN_OIDC_ISSUER: z
    .url({ protocol: /^https?$/, error: 'must be the issuer URL, e.g. https://login.example.com' })
    .optional(),
  RUNWARDEN_OIDC_CLIENT_ID: z.string().min(1).optional(),
  RUNWARDEN_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  RUNWARDEN_OIDC_ROLE_CLAIM: z.string().min(1).default('groups'),
  RUNWARDEN_PASSWORD_LOGIN: z.enum(['true', 'false']).default('true'),
  RUNWARDEN_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  RUNWARDEN_RUN_LOG_MAX_LINES: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  RUNWARDEN_RUN_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(1024 * 1024),
  RUNWARDEN_SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: 'must be an smtp(s) URL, e.g. smtp://user:pass@mail:587' })
    .optional(),
  RUNWARDEN_SMTP_FROM: z.string().min(3).max(200).optional(),
  RUNWARDEN_ALERTS_PRIVATE_URLS: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  databaseUrl: string | undefined;
  port: number;
  host: string;
  /** Behind a TLS-terminating proxy: trust X-Forwarded-* (session cookies become Secure). */
  trustProxy: boolean;
  dataDir: string;
  embeddedPgPort: number;
  embeddedRuntimeDir: string;
  catalogModule: string | undefined;
  demoPassword: string | undefined;
  /** RUNWARDEN_DEMO=false: `runwarden start` never seeds the demo (it never does once a directory exists). */
  demo: boolean;
  /** RUNWARDEN_PUBLIC_URL: the URL people use (invite links, OIDC redirects); default http://localhost:PORT. */
  publicUrl: string;
  logLevel: string;
  /** Alerts (DESIGN §18): email through RUNWARDEN_SMTP_URL from RUNWARDEN_SMTP_FROM; webhooks to private addresses only with RUNWARDEN_ALERTS_PRIVATE_URLS=true. */
  alerts: { smtpUrl: string | undefined; smtpFrom: string | undefined; privateUrls: boolean };
  reconcileIntervalSeconds: number;
  retentionDays: number;
  /** RUNWARDEN_DB_POOL_SIZE: connections per process pool; unset: the default of the process kind (src/cli/pool-size.ts). */
  dbPoolSize: number | undefined;
  /** RUNWARDEN_DB_*_TIMEOUT_MS: how long any connection may stay silent (DESIGN §16). */
  dbTimeouts: DbTimeouts;
  /**
   * RUNWARDEN_API_STATEMENT_TIMEOUT_MS: the statement timeout of `serve` (the API process), when
   * lower than RUNWARDEN_DB_STATEMENT_TIMEOUT_MS. 0: no API limit.
   */
  apiStatementMs: number;
  /** Single sign-on (DESIGN §15): set when RUNWARDEN_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET are. */
  oidc: OidcConfig | undefined;
  /** RUNWARDEN_PASSWORD_LOGIN=false: POST /api/auth/login answers 403 (SSO only). */
  passwordLogin: boolean;
  /** RUNWARDEN_METRICS_TOKEN: when set, `GET /metrics` needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** RUNWARDEN_RUN_LOG_MAX_LINES / _BYTES: what each run's log keeps (DESIGN §18). */
  runLogCaps: { maxLines: number; maxBytes: number };
}

/**
 * Every pool's limits (DESIGN §16: hung connections are faults too). A silent network turns into
 * the "unreachable" path after these instead of hanging a request, a heartbeat or a job slot.
 */
export interface DbTimeouts {
  /** Connecting, and waiting for a free connection of the pool, ms. */
  connectMs: number;
  /**
   * The server's `statement_timeout`, ms; the client gives up on an answer a little later (the
   * server never answers through a blackholed network). 0: none (migrations).
   */
  statementMs: number;
  /** The server's `idle_in_transaction_session_timeout`, ms: a silent client's locks go. 0: none. */
  idleInTransactionMs: number;
}

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = {
  connectMs: 5_000,
  statementMs: 30_000,
  idleInTransactionMs: 60_000,
};

/**
 * An HTTP request gives the database 7 s: with the client's 2 s of grace (src/db/pool.ts), a
 * request on a connection gone silent answers 503 within 10 s, not after the workers' 30 s.
 */
export const DEFAULT_API_STATEMENT_MS = 7_000;

/** The limits of a pool that answers HTTP requests: the lower statement timeout of the two. */
export function apiTimeouts(config: Pick<Config, 'dbTimeouts' | 'apiStatementMs'>): DbTimeouts {
  const limits = [config.dbTimeouts.statementMs, config.apiStatementMs].filter((ms) => ms > 0);
  return { ...config.dbTimeouts, statementMs: limits.length ? Math.min(...limits) : 0 };
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim whose values `runwarden:<workspace>:<role>` / `runwarden:platform:<capability>` grant access. */
  roleClaim: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const oidcVars = [
    e.RUNWARDEN_OIDC_ISSUER,
    e.RUNWARDEN_OIDC_CLIENT_ID,
    e.RUNWARDEN_OIDC_CLIENT_SECRET,
  ];
  if (oidcVars.some(Boolean) && !oidcVars.every(Boolean))
    throw new Error(
      'Invalid configuration: RUNWARDEN_OIDC_ISSUER, RUNWARDEN_OIDC_CLIENT_ID and RUNWARDEN_OIDC_CLIENT_SECRET go together',
    );
  return {
    databaseUrl: e.DATABASE_URL,
    port: e.PORT,
    host: e.HOST,
    trustProxy: e.RUNWARDEN_TRUST_PROXY === 'true',
    dataDir: path.resolve(e.RUNWARDEN_DATA_DIR),
    embeddedPgPort: e.RUNWARDEN_PG_PORT,
    embeddedRuntimeDir: e.RUNWARDEN_PG_RUNTIME_DIR,
    catalogModule: e.RUNWARDEN_CONFIG,
    demoPassword: e.RUNWARDEN_DEMO_PASSWORD,
    demo: e.RUNWARDEN_DEMO === 'true',
    publicUrl: (e.RUNWARDEN_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    alerts: {
      smtpUrl: e.RUNWARDEN_SMTP_URL,
      smtpFrom: e.RUNWARDEN_SMTP_FROM,
      privateUrls: e.RUNWARDEN_ALERTS_PRIVATE_URLS === 'true',
    },
    reconcileIntervalSeconds: e.RUNWARDEN_RECONCILE_INTERVAL_SECONDS,
    retentionDays: e.RUNWARDEN_RETENTION_DAYS,
    dbPoolSize: e.RUNWARDEN_DB_POOL_SIZE,
    dbTimeouts: {
      connectMs: e.RUNWARDEN_DB_CONNECT_TIMEOUT_MS ?? DEFAULT_DB_TIMEOUTS.connectMs,
      statementMs: e.RUNWARDEN_DB_STATEMENT_TIMEOUT_MS ?? DEFAULT_DB_TIMEOUTS.statementMs,
      idleInTransactionMs:
        e.RUNWARDEN_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? DEFAULT_DB_TIMEOUTS.idleInTransactionMs,
    },
    apiStatementMs: e.RUNWARDEN_API_STATEMENT_TIMEOUT_MS ?? DEFAULT_API_STATEMENT_MS,
    oidc:
      e.RUNWARDEN_OIDC_ISSUER && e.RUNWARDEN_OIDC_CLIENT_ID && e.RUNWARDEN_OIDC_CLIENT_SECRET
        ? {
            issuer: e.RUNWARDEN_OIDC_ISSUER,
            clientId: e.RUNWARDEN_OIDC_CLIENT_ID,
            clientSecret: e.RUNWARDEN_OIDC_CLIENT_SECRET,
            roleClaim: e.RUNWARDEN_OIDC_ROLE_CLAIM,
          }
        : undefined,
    passwordLogin: e.RUNWARDEN_PASSWORD_LOGIN === 'true',
    metricsToken: e.RUNWARDEN_METRICS_TOKEN,
    runLogCaps: {
      maxLines: e.RUNWARDEN_RUN_LOG_MAX_LINES,
      maxBytes: e.RUNWARDEN_RUN_LOG_MAX_BYTES,
    },
  };
}

// An exported-but-empty variable (`DATABASE_URL=`) means "unset", as most tools treat it.
function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    out[key] = value === undefined || value.trim() === '' ? undefined : value;
  }
  return out;
}

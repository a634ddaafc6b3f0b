import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; secrets are redacted wherever a field of that name appears. */
export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'headers.cookie',
        'databaseUrl',
        '*.databaseUrl',
      ],
      censor: '[redacted]',
    },
  });
}

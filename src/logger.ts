import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const REDACT = {
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
};

/**
 * Logs for people and for machines: readable lines when stdout is a terminal, JSON lines (ISO
 * times) otherwise; LOG_FORMAT=pretty|json decides instead. Secrets are redacted wherever a field
 * of that name appears.
 */
export function createLogger(
  level = 'info',
  format: 'pretty' | 'json' = logFormat(process.env.LOG_FORMAT, process.stdout.isTTY),
): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: REDACT,
  };
  if (format === 'json') return pino(options);
  return pino(
    options,
    pretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
      sync: true,
    }),
  );
}

export function logFormat(
  value: string | undefined,
  isTty: boolean | undefined,
): 'pretty' | 'json' {
  if (value === 'pretty' || value === 'json') return value;
  return isTty ? 'pretty' : 'json';
}

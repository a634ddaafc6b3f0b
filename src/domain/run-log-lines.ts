import { redactText, sanitizeMessage } from './sanitize.js';

/** In rising order: a reader's `level` is the lowest it wants. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The levels at or above `min`. */
export function levelsFrom(min: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(min));
}

/** What one run may keep (DESIGN §18); past it, lines are counted in one "N lines dropped" line. */
export interface RunLogCaps {
  maxLines: number;
  /** UTF-8 bytes of the kept lines' messages and fields. */
  maxBytes: number;
}

export const DEFAULT_RUN_LOG_CAPS: RunLogCaps = { maxLines: 2_000, maxBytes: 1024 * 1024 };

export const MAX_LOG_MESSAGE = 4_000;
/** A line's fields as JSON; larger fields are replaced by a note saying so. */
export const MAX_LOG_FIELDS = 16 * 1024;
const MAX_DEPTH = 6;
const MAX_ENTRIES = 100;
const MAX_FIELD_STRING = 2_000;
/** A field whose name says it holds a secret keeps its name, never its value. */
const SECRET_NAME =
  /(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization|auth|cookie)$/i;

/** A line as stored: sanitized, with its size counted against the cap. */
export interface LogLine {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown> | null;
  at: Date;
  bytes: number;
}

/**
 * Sanitizes a line like a failure (DESIGN §8: tokens, secrets, emails, stack frames) and takes a
 * snapshot of its fields, so a handler changing an object after logging it changes nothing.
 */
export function toLogLine(level: LogLevel, message: unknown, fields: unknown, at: Date): LogLine {
  const text = sanitizeMessage(
    typeof message === 'string' ? message : String(message),
    MAX_LOG_MESSAGE,
  );
  let clean = cleanFields(fields);
  let json = clean ? JSON.stringify(clean) : '';
  if (json.length > MAX_LOG_FIELDS) {
    clean = { truncated: `fields over ${MAX_LOG_FIELDS / 1024} KiB were left out` };
    json = JSON.stringify(clean);
  }
  return { level, message: text, fields: clean, at, bytes: byteLength(text) + byteLength(json) };
}

/** The one line that stands for every line the cap dropped. */
export function droppedLine(dropped: number, caps: RunLogCaps, at: Date): LogLine {
  const message = `${dropped} line${dropped === 1 ? '' : 's'} dropped: a run keeps at most ${caps.maxLines} log lines and ${formatBytes(caps.maxBytes)}`;
  return { level: 'warn', message, fields: { dropped }, at, bytes: 0 };
}

function cleanFields(fields: unknown): Record<string, unknown> | null {
  if (fields === undefined || fields === null) return null;
  const value = cleanValue(fields, 0);
  if (value !== null && typeof value === 'object' && !Array.isArray(value))
    return Object.keys(value).length ? (value as Record<string, unknown>) : null;
  return value === undefined ? null : { value };
}

function cleanValue(value: unknown, depth: number): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return cleanString(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // functions, symbols, undefined: JSON leaves them out too
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) return { name: value.name, message: sanitizeMessage(value.message) };
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value))
    return value.slice(0, MAX_ENTRIES).map((item) => cleanValue(item, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value).slice(0, MAX_ENTRIES)) {
    const name = cleanString(key);
    if (SECRET_NAME.test(key) && item !== null && item !== undefined) out[name] = '[redacted]';
    else {
      const clean = cleanValue(item, depth + 1);
      if (clean !== undefined) out[name] = clean;
    }
  }
  return out;
}

function cleanString(text: string): string {
  const clean = redactText(text);
  return clean.length > MAX_FIELD_STRING ? `${clean.slice(0, MAX_FIELD_STRING - 1)}…` : clean;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

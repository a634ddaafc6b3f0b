import type { RunFailure } from './run.js';

export const MAX_FAILURE_MESSAGE = 500;
const CODE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

// Order matters: structured secrets first (connection strings, JWTs), then generic pairs. Each
// pattern comes with a cheap test of what any match must contain (a literal, or a short class),
// so the common line with nothing secret-like skips the pattern's scan: a handler's log line is
// sanitized like a failure, and a thousand of them should cost about a thousand progress reports.
const has = (literal: string) => (text: string) => text.includes(literal);
const REDACTIONS: ReadonlyArray<readonly [RegExp, string, (text: string) => boolean]> = [
  // PEM private keys, whole (or up to the end of a truncated message)
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g,
    '[redacted-private-key]',
    has('-----BEGIN '),
  ],
  // scheme://user:password@host → keep user and host, drop the password (which may contain @)
  [
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+):([^\s/]+)@/gi,
    '$1$2:[redacted]@',
    (t) => t.includes('://') && t.includes('@'),
  ],
  [/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, 'Bearer [redacted]', (t) => /bearer/i.test(t)],
  [/\bBasic\s+[A-Za-z0-9+/]{8,}={0,2}/g, 'Basic [redacted]', has('Basic')],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]', has('eyJ')],
  // well-known API key shapes: Stripe/OpenAI-style sk-/pk-, GitHub, Slack, AWS, Google, ours
  [
    /\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9]{16,}\b/g,
    '[redacted-key]',
    (t) => /[spr]k[-_]/.test(t),
  ],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, '[redacted-key]', has('github_pat_')],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, '[redacted-key]', (t) => /gh[pousr]_/.test(t)],
  [
    /\b(?:xox[a-z]|xapp)(?:\.xox[a-z])?-[A-Za-z0-9-]{10,}/g,
    '[redacted-key]',
    (t) => /xox[a-z]|xapp/.test(t),
  ],
  [
    /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g,
    '[redacted-key]',
    (t) => /A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)/.test(t),
  ],
  // an AWS secret access key: 40 characters of base64 with upper, lower and digit (not a git sha)
  [
    /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    '[redacted-key]',
    (t) => /[A-Za-z0-9/+]{40}/.test(t),
  ],
  [/\bAIza[0-9A-Za-z_-]{30,}\b/g, '[redacted-key]', has('AIza')],
  // ours: API tokens rwt_…, invite tokens rwi_… and rwm_… (base64url: may end in - or _), older rw_…
  [/\brw[tim]?_[A-Za-z0-9_-]{16,}/g, '[redacted-key]', (t) => /rw[tim]?_/.test(t)],
  // key=value, key: value and "key":"value" pairs for secret-ish names
  [
    /\b((?:[a-z0-9_-]*?)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth))("?\s*[=:]\s*"?)([^\s"'&;,}]+)/gi,
    '$1$2[redacted]',
    (t) =>
      /password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth/i.test(
        t,
      ),
  ],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[email]', has('@')],
];

// Stack frames as V8 and most runtimes print them: any indented "at …" line ("    at fn (file:1:2)",
// "    at async Promise.all (index 0)", "    at new Foo (<anonymous>)"), and unindented frames
// that name a location.
const STACK_FRAME =
  /^(?:\s+at\s+\S.*|\s*at\s+(?:.+\(.*:\d+:\d+\)|\S+:\d+:\d+|.*\((?:native|<anonymous>|index \d+)\)))\s*$/;

/** Removes secrets, personal data and stack frames from free text and caps its length. */
export function sanitizeMessage(text: string, max = MAX_FAILURE_MESSAGE): string {
  const withoutFrames = text
    .split(/\r?\n/)
    .filter((line) => !STACK_FRAME.test(line))
    .join('\n');
  const clean = redactText(withoutFrames).trim();
  if (clean.length === 0) return 'No details were given.';
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Removes secrets and personal data from text, and what jsonb cannot store; nothing else. */
export function redactText(text: string): string {
  let clean = text;
  for (const [pattern, replacement, mayMatch] of REDACTIONS)
    if (mayMatch(clean)) clean = clean.replace(pattern, replacement);
  return (
    clean
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
      // An unpaired surrogate cannot be stored in jsonb.
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
  );
}

/**
 * Turns whatever a handler threw or reported into a storable `{code, message}`. The code is kept
 * when it is a stable dotted identifier, otherwise `fallbackCode` is used.
 */
export function sanitizeFailure(raw: unknown, fallbackCode = 'handler.error'): RunFailure {
  const { code, message } = describeFailure(raw);
  const stableCode =
    typeof code === 'string' && code.length <= 64 && CODE_PATTERN.test(code) ? code : fallbackCode;
  return { code: stableCode, message: sanitizeMessage(message) };
}

function describeFailure(raw: unknown): { code: unknown; message: string } {
  if (raw instanceof Error) {
    return { code: (raw as Error & { code?: unknown }).code, message: raw.message || raw.name };
  }
  if (typeof raw === 'string') return { code: undefined, message: raw };
  if (raw !== null && typeof raw === 'object') {
    const record = raw as Record<string, unknown>;
    const message = typeof record.message === 'string' ? record.message : safeStringify(raw);
    return { code: record.code, message };
  }
  return { code: undefined, message: String(raw) };
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

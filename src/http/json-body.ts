import type { FastifyInstance } from 'fastify';
import { RunwardenError } from '../domain/errors.js';

/**
 * JSON bodies through Fastify's own parser (prototype-poisoning safe), then refused when an object
 * repeats a key: `{"type":"a","type":"b"}` means different things to different parsers, so the
 * API does not guess which one the client meant.
 */
export function registerJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = raw.toString();
    parse(request, body, (error, value) => {
      if (error) return done(error, undefined);
      const duplicate = findDuplicateKey(body);
      if (duplicate !== undefined) {
        return done(
          new RunwardenError('validation_failed', `The JSON body repeats the key "${duplicate}".`, {
            details: [{ path: duplicate, message: 'duplicate key' }],
          }),
          undefined,
        );
      }
      const unstorable = findUnstorable(value);
      if (unstorable !== undefined) {
        return done(unstorableError(unstorable), undefined);
      }
      done(null, value);
    });
  });
}

/** The first key an object of (already valid) JSON text repeats, if any. */
export function findDuplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | null> = []; // null marks an array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = objects.at(-1);
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      objects.push(null);
    } else if (c === '}' || c === ']') {
      objects.pop();
    } else if (c === ',') {
      expectKey = objects.at(-1) instanceof Set;
    }
  }
  return undefined;
}

// A NUL character or an unpaired UTF-16 surrogate is valid JSON but cannot be stored in
// PostgreSQL text or jsonb; refusing it here keeps such input a 400, never a 500.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string (or key) PostgreSQL could not store, if any. */
export function findUnstorable(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path || '(value)' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], path ? `${path}.${i}` : String(i));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (UNSTORABLE.test(key)) return here;
      const found = findUnstorable(item, here);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export function unstorableError(path: string): RunwardenError {
  return new RunwardenError(
    'validation_failed',
    'The request contains a NUL character or an unpaired surrogate, which cannot be stored.',
    { details: [{ path, message: 'unstorable character' }] },
  );
}

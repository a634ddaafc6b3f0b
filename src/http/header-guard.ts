import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { FastifyInstance } from 'fastify';

function valid(name: string, value: unknown): boolean {
  try {
    validateHeaderName(name);
    for (const one of Array.isArray(value) ? value : [value]) validateHeaderValue(name, one);
    return true;
  } catch {
    return false;
  }
}

/**
 * No request may bring the process down: Node refuses a header value with a control character
 * when the response is written, and that refusal escapes Fastify's error handling once an async
 * hook has run. Checked before the response is written, such a header is dropped and the request
 * alone answers 500 (logged with the header's name, never its value).
 */
export function registerHeaderGuard(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    const bad = Object.entries(reply.getHeaders())
      .filter(([name, value]) => !valid(name, value))
      .map(([name]) => name);
    if (!bad.length) return payload;
    for (const name of bad) reply.removeHeader(name);
    throw new Error(`A response header could not be written: ${bad.join(', ')}.`);
  });
}

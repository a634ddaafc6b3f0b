import type { AddressInfo } from 'node:net';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiHarness } from '../support/http.js';

// No request may bring the process down (DESIGN §10, issue 20 item 3): a header value Node refuses
// (a newline in a Location) used to escape Fastify's error handling once an async hook had run,
// and `serve` exited. The app below is the real one, over real HTTP, with one route added that
// echoes its input into a header, as any future route might by mistake.

const h = await apiHarness();
let base: string;

beforeAll(async () => {
  h.app
    .withTypeProvider<ZodTypeProvider>()
    .get(
      '/test/echo-location',
      { schema: { querystring: z.object({ to: z.string() }) } },
      async (request, reply) => reply.redirect(request.query.to, 302),
    );
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});

describe('a header that cannot be written answers 500 for that request only', () => {
  it.each([
    ['a newline', '/\n/x'],
    ['CR LF and a header of its own', '/x\r\nSet-Cookie: a=b'],
    ['a DEL', '/\u007f'],
  ])(
    '%s in a Location: 500 in the error shape, and the server keeps answering',
    async (_name, to) => {
      const answer = await fetch(`${base}/test/echo-location?to=${encodeURIComponent(to)}`, {
        redirect: 'manual',
      });
      expect(answer.status).toBe(500);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.get('set-cookie')).toBeNull();
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('internal');
      const health = await fetch(`${base}/api/health`);
      expect(health.status).toBe(200);
    },
  );
});

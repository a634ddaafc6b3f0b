import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';

type Headers = ReadonlyArray<readonly [name: string, value: string | string[]]>;

/**
 * Helmet's security headers on every answer. @fastify/helmet builds helmet's middleware anew on
 * every request (parsing the CSP directives each time), yet with one static configuration (no
 * nonces, no per-route options) the headers are the same on every answer: they are computed once,
 * by @fastify/helmet itself on a throwaway server, and set from that list.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  options: FastifyHelmetOptions,
): Promise<void> {
  const headers = await helmetHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
}

/** The headers @fastify/helmet adds to an answer with these options (those a bare one lacks). */
async function helmetHeaders(options: FastifyHelmetOptions): Promise<Headers> {
  const answer = async (withHelmet: boolean) => {
    const probe = Fastify();
    if (withHelmet)
      await probe.register(helmet, { ...options, global: true, enableCSPNonces: false });
    probe.get('/', async () => 'probe');
    try {
      return (await probe.inject({ method: 'GET', url: '/' })).headers;
    } finally {
      await probe.close();
    }
  };
  const [bare, secured] = [await answer(false), await answer(true)];
  const added: Array<readonly [string, string | string[]]> = [];
  for (const [name, value] of Object.entries(secured)) {
    if (name === 'date' || value === undefined || bare[name] !== undefined) continue;
    added.push([name, typeof value === 'number' ? String(value) : value]);
  }
  return added;
}

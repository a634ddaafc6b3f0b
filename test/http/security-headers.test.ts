import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { apiHarness } from '../support/http.js';

// Helmet's headers are computed once and set on every answer (registerSecurityHeaders): the same
// headers @fastify/helmet sets per request with the app's options, on answers of every kind.
const h = await apiHarness();

async function helmetAnswerHeaders() {
  const probe = Fastify();
  await probe.register(helmet, {
    global: true,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    strictTransportSecurity: false,
  });
  probe.get('/', async () => 'probe');
  const { headers } = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const { date, 'content-type': _type, 'content-length': _length, ...rest } = headers;
  return rest;
}

describe('security headers', () => {
  it('are those of @fastify/helmet with the app options, on answers of every kind', async () => {
    const expected = await helmetAnswerHeaders();
    expect(expected['content-security-policy']).toMatch(/default-src 'self'/);
    expect(expected['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    expect(expected['x-frame-options']).toBe('SAMEORIGIN');
    const owner = await h.login('owner@demo.test');
    const answers = [
      await h.request(undefined, { method: 'GET', url: '/api/health' }),
      await h.request(undefined, { method: 'GET', url: '/api/nope' }),
      await h.request(undefined, { method: 'GET', url: '/api/workspaces/contoso/operations' }),
      await h.request(owner, { method: 'GET', url: '/api/workspaces/contoso/operations' }),
      await h.request(owner, { method: 'GET', url: '/api/workspaces/contoso/operations?limit=0' }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 404, 401, 200, 400]);
    for (const answer of answers) {
      for (const [name, value] of Object.entries(expected))
        expect([name, answer.headers[name]]).toEqual([name, value]);
      expect(answer.headers['strict-transport-security']).toBeUndefined();
    }
  });
});

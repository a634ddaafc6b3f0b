import { describe, expect, it } from 'vitest';
import { findWebRoot } from '../../src/http/web.js';
import { apiHarness } from '../support/http.js';

// Issue #14 point 16: the first page load is at most 250 KB of compressed JavaScript; every page
// but the login and the shell is a chunk of its own, fetched when visited.
const FIRST_LOAD_BUDGET = 250_000;
const root = findWebRoot();
if (!root) throw new Error('The web app is not built: run `npm run build` first.');
const h = await apiHarness({ app: { webRoot: root } });

async function firstLoadScripts(): Promise<string[]> {
  const page = await h.app.inject({ method: 'GET', url: '/admin/operations' });
  expect(page.statusCode).toBe(200);
  const urls = [...page.body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+\.js)"/g)].map(
    (m) => m[1] as string,
  );
  expect(urls.length).toBeGreaterThan(0);
  return urls;
}

describe('the web app’s weight', () => {
  it('sends the first load’s JavaScript Brotli-compressed, within 250 KB', async () => {
    let total = 0;
    for (const url of await firstLoadScripts()) {
      const res = await h.app.inject({
        method: 'GET',
        url,
        headers: { 'accept-encoding': 'gzip, deflate, br' },
      });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-encoding'], url).toBe('br');
      expect(res.headers['content-type']).toMatch(/javascript/);
      total += res.rawPayload.length;
    }
    console.log(`first load: ${total} bytes of Brotli-compressed JavaScript`);
    expect(total).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);
  });

  it('sends gzip to a client without Brotli, and the plain file to one asking for neither', async () => {
    const [url] = await firstLoadScripts();
    const gz = await h.app.inject({
      method: 'GET',
      url: url as string,
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await h.app.inject({
      method: 'GET',
      url: url as string,
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.length).toBeGreaterThan(gz.rawPayload.length);
  });

  it('leaves the settings, system and run pages out of the first load', async () => {
    const first = (await firstLoadScripts()).join(' ');
    for (const chunk of ['MembersPage', 'SystemRunPage', 'RunPage', 'StartDialog'])
      expect(first).not.toContain(chunk);
  });
});

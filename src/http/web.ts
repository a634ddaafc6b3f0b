import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.js';

/** Where the built SPA is: dist/web next to the compiled server, or from a source checkout. */
export function findWebRoot(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../web'), path.resolve(here, '../../dist/web')];
  // `assets/` tells a build from the source folder src/web (which has an index.html too).
  return candidates.find((dir) => existsSync(path.join(dir, 'assets')));
}

/**
 * Serves the web app from the API's own port: hashed assets with long caching, and index.html for
 * any other page path, so deep links (`/admin/operations/:id`) load directly. API paths keep the
 * JSON 404.
 */
export async function registerWeb(
  app: FastifyInstance,
  root: string | undefined,
  basePath = '',
  host?: HostPages,
): Promise<void> {
  const page = root && host ? mountedIndex(root, basePath, host) : undefined;
  if (root) {
    await app.register(fastifyStatic, {
      root,
      wildcard: false,
      index: false,
      // The build wrote .br and .gz copies of every asset (scripts/compress-web.ts).
      preCompressed: true,
      setHeaders(res, file) {
        res.header(
          'cache-control',
          file.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    // A missing asset or API path is a real 404; any other page path is the SPA's to route.
    const isPage =
      request.method === 'GET' &&
      !/^\/(api|assets)\//.test(request.url) &&
      request.url !== '/metrics';
    if (root && isPage) {
      reply.header('cache-control', 'no-cache').type('text/html');
      return page ? reply.send(page) : reply.sendFile('index.html');
    }
    return reply.status(404).send(errorBody('not_found', 'Not found.'));
  });
}

/** Embedded in a host's server: the host's own pages where people sign in and out. */
export interface HostPages {
  loginUrl?: string | undefined;
  logoutUrl?: string | undefined;
}

/**
 * index.html for an app mounted under `basePath` in a host's server (DESIGN §15): asset URLs get
 * the prefix, a `<meta name="runwarden-base">` tells the SPA where its API and pages are (and that
 * a host signs people in), `<meta name="runwarden-login">` and `<meta name="runwarden-logout">`
 * where the host signs them in and out.
 */
function mountedIndex(root: string, basePath: string, host: HostPages): string {
  const attribute = (value: string) => value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const meta = (name: string, value: string) =>
    `\n    <meta name="${name}" content="${attribute(value)}" />`;
  const head = [
    meta('runwarden-base', basePath),
    host.loginUrl ? meta('runwarden-login', host.loginUrl) : '',
    host.logoutUrl ? meta('runwarden-logout', host.logoutUrl) : '',
  ].join('');
  return readFileSync(path.join(root, 'index.html'), 'utf8')
    .replaceAll('="/assets/', `="${attribute(basePath)}/assets/`)
    .replace('<head>', `<head>${head}`);
}

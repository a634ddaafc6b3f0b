import { sameOriginPath } from '../../domain/redirect-target';

/**
 * Where the app is mounted: '' at the root, `/ops` when a host's server embeds it (DESIGN §15).
 * The server names it in `<meta name="runwarden-base">`; API calls and pages are under it.
 */
export const basePath: string =
  document.querySelector('meta[name="runwarden-base"]')?.getAttribute('content') ?? '';

/**
 * Embedded in a host's server, which signs people in and out: no Runwarden password to change,
 * no Runwarden session to end.
 */
export const embedded: boolean = document.querySelector('meta[name="runwarden-base"]') !== null;

/** Embedded: the host's sign-out page (`<meta name="runwarden-logout">`), if it named one. */
export const hostLogoutUrl: string | undefined =
  document.querySelector('meta[name="runwarden-logout"]')?.getAttribute('content') ?? undefined;

/**
 * Embedded: the host's sign-in page (`<meta name="runwarden-login">`); a browser without a host
 * session goes there, not to a Runwarden login. Undefined when Runwarden signs people in itself.
 */
export const hostLoginUrl: string | undefined =
  document.querySelector('meta[name="runwarden-login"]')?.getAttribute('content') ?? undefined;

/**
 * The host's sign-in URL, returning to `from` (a page under the mount) afterwards: `{from}` in
 * the URL becomes that path, else it is added as `?from=`. `from` is a same-origin path or `/`.
 */
export function hostLogin(loginUrl: string, from: string): string {
  const page = `${basePath}${sameOriginPath(from)}`;
  if (loginUrl.includes('{from}')) return loginUrl.replaceAll('{from}', encodeURIComponent(page));
  const url = new URL(loginUrl, window.location.origin);
  url.searchParams.set('from', page);
  return url.origin === window.location.origin ? `${url.pathname}${url.search}` : url.toString();
}

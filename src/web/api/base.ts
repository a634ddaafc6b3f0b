/**
 * Where the app is mounted: '' at the root, `/ops` when a host's server embeds it (DESIGN §15).
 * The server names it in `<meta name="runwarden-base">`; API calls and pages are under it.
 */
export const basePath: string =
  document.querySelector('meta[name="runwarden-base"]')?.getAttribute('content') ?? '';

/** Where a refused redirect target goes instead: the app's home page. */
export const HOME = '/';

const MAX_LENGTH = 2000;
const BASE = 'http://same-origin.invalid';
/** C0 controls (tab, CR, LF…), DEL and C1 controls: browsers strip some of them from URLs. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Percent-encoded slashes, backslashes and control characters, whatever their case. */
const ENCODED = /%(?:2f|5c|[01][0-9a-f]|7f)/i;
/** Look-alikes of `/` and `\` that some parsers fold into them. */
const LOOK_ALIKES = /[\u2044\u2215\u2216\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]/;

/**
 * A redirect target (`returnTo`, `from`, `{from}`) as a same-origin path, or `/` when it is not
 * plainly one (DESIGN §10): it must start with one `/`, and may hold no control character, no
 * backslash, no `//`, no encoded slash or backslash, and nothing that folds into one. The answer
 * is the path as a URL parser reads it, so it is safe in a `Location` header.
 */
export function sameOriginPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return HOME;
  if (!value.startsWith('/') || value.includes('//') || value.includes('\\')) return HOME;
  if (CONTROL.test(value) || ENCODED.test(value) || LOOK_ALIKES.test(value)) return HOME;
  if ([...value].some((c) => c > '\u007f' && /[/\\]/.test(c.normalize('NFKC')))) return HOME;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return HOME;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  return url.origin === BASE && path.startsWith('/') && !path.startsWith('//') ? path : HOME;
}

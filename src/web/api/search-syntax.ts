/**
 * The list's search box (DESIGN §18): `tag:nightly input.policyId=p-17 failure:graph.throttled
 * 01933b2c` becomes the API's query parameters. Values with spaces go in quotes (`tag:"eu west"`).
 * Words that are none of these go to the server as `q`, which says what it expected (one place
 * decides what a run id looks like).
 */
export interface ParsedSearch {
  /** `q`, `tag`, `failureCode` and `input.<path>` parameters, as the list API takes them. */
  params: Record<string, string>;
  /** The whole text is one run id: its page, rather than a list of one. */
  runId?: string;
}

const PREFIXES: Record<string, 'tag' | 'failureCode'> = {
  'tag:': 'tag',
  'failure:': 'failureCode',
  'failurecode:': 'failureCode',
};

export function parseSearch(text: string | undefined): ParsedSearch {
  const params: Record<string, string> = {};
  const words: string[] = [];
  for (const token of tokensOf(text ?? '')) {
    const prefix = Object.keys(PREFIXES).find((p) => token.toLowerCase().startsWith(p));
    const equals = token.indexOf('=');
    if (prefix) {
      const value = token.slice(prefix.length);
      if (value) params[PREFIXES[prefix] as string] = value;
    } else if (token.startsWith('input.') && equals > 'input.'.length) {
      params[token.slice(0, equals)] = token.slice(equals + 1);
    } else {
      words.push(token);
    }
  }
  if (words.length) params.q = words.join(' ');
  const only = Object.keys(params).length === 1 ? wholeRunId(params.q) : undefined;
  return only ? { params, runId: only } : { params };
}

/** `tag:<tag>`, quoted when the tag has spaces: what a tag badge opens the list with. */
export function tagSearch(tag: string): string {
  return /[\s"]/.test(tag) ? `tag:"${tag.replaceAll('"', '')}"` : `tag:${tag}`;
}

/** Words, where `key:"a b"` and `"a b"` are one word without their quotes. */
function tokensOf(text: string): string[] {
  return [...text.matchAll(/([^\s"]+[:=])"([^"]*)"?|"([^"]*)"?|(\S+)/g)]
    .map((m) => (m[1] !== undefined ? `${m[1]}${m[2]}` : (m[3] ?? m[4] ?? '')))
    .filter(Boolean);
}

function wholeRunId(q: string | undefined): string | undefined {
  const hex = q?.replaceAll('-', '').toLowerCase();
  if (!hex || !/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

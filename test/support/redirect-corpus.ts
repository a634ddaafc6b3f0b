/**
 * Redirect targets an attacker may put in `returnTo`, `from` or `{from}` (DESIGN §10): each must
 * end on `/`. Tabs, CR and LF are stripped by browsers, so `/\t/evil.test` reads `//evil.test`.
 */
export const HOSTILE_TARGETS: readonly string[] = [
  '//evil.test',
  '//evil.test/x',
  '///evil.test',
  '/\\evil.test',
  '\\\\evil.test',
  '\\/evil.test',
  '/\t/evil.test',
  '/\n/evil.test',
  '/\r/evil.test',
  '/\r\n/evil.test',
  '/\n/x',
  '/x\r\nSet-Cookie: a=b',
  '/\u0000/evil.test',
  '/\u007f/evil.test',
  '/\u0085/evil.test',
  '/\u009b/evil.test',
  '/%2fevil.test',
  '/%2Fevil.test',
  '/%5cevil.test',
  '/%5Cevil.test',
  '/%0a/evil.test',
  '/%09/evil.test',
  '/.//evil.test',
  '/a/..//evil.test',
  'https://evil.test',
  'http:evil.test',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/\u2215evil.test',
  '/\uff0fevil.test',
  '/\u29f5evil.test',
  '/\ufe68evil.test',
  '/\uff3cevil.test',
  '/\u2044evil.test',
  'evil.test',
  ' /x',
  '',
  `/${'a'.repeat(2001)}`,
];

/** Same-origin paths that pass as they are. */
export const FRIENDLY_TARGETS: ReadonlyArray<[string, string]> = [
  ['/', '/'],
  ['/admin/operations?bucket=active', '/admin/operations?bucket=active'],
  [
    '/runs/0190a6c4-0000-7000-8000-000000000000#logs',
    '/runs/0190a6c4-0000-7000-8000-000000000000#logs',
  ],
  ['/settings/members', '/settings/members'],
  ['/a b', '/a%20b'],
];

/** A payload as a test's name: escaped, and cut short. */
export function corpusName(target: string): string {
  const name = JSON.stringify(target).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return name.length > 48 ? `${name.slice(0, 40)}…(${target.length} chars)` : name;
}

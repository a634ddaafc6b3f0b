import { describe, expect, it } from 'vitest';
import { sameOriginPath } from '../../src/domain/redirect-target.js';
import { corpusName, FRIENDLY_TARGETS, HOSTILE_TARGETS } from '../support/redirect-corpus.js';

describe('sameOriginPath: every redirect target is a same-origin path (DESIGN §10)', () => {
  it.each(HOSTILE_TARGETS.map((target) => [corpusName(target), target]))(
    'refuses %s (falls back to /)',
    (_name, target) => {
      expect(sameOriginPath(target)).toBe('/');
    },
  );

  it.each(FRIENDLY_TARGETS)('keeps %s', (target, path) => {
    expect(sameOriginPath(target)).toBe(path);
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, ['/x'], { path: '/x' }])
      expect(sameOriginPath(value)).toBe('/');
  });

  it('every answer is a valid header value that a browser reads on this origin', () => {
    for (const target of [...HOSTILE_TARGETS, ...FRIENDLY_TARGETS.map(([t]) => t)]) {
      const path = sameOriginPath(target);
      expect(path).toMatch(/^\/(?![/\\])[\x21-\x7e]*$/);
      expect(new URL(path, 'https://ops.example.com').origin).toBe('https://ops.example.com');
    }
  });
});

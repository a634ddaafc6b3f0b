import { describe, expect, it } from 'vitest';
import { parseSearch, tagSearch } from '../../src/web/api/search-syntax.js';

// The list's search box (DESIGN §18): what a person types, as the list API's parameters.

describe('the search box syntax', () => {
  it('turns tags, failure codes, input values and id prefixes into parameters', () => {
    expect(
      parseSearch('tag:nightly input.policyId=p-17 failure:graph.throttled 01933b2c').params,
    ).toEqual({
      tag: 'nightly',
      'input.policyId': 'p-17',
      failureCode: 'graph.throttled',
      q: '01933b2c',
    });
    expect(parseSearch('  input.batch.size=42   FailureCode:x  ').params).toEqual({
      'input.batch.size': '42',
      failureCode: 'x',
    });
    expect(parseSearch('').params).toEqual({});
    expect(parseSearch(undefined).params).toEqual({});
  });

  it('keeps quoted values whole, and empty ones out', () => {
    expect(parseSearch('tag:"eu west" input.name="a b c" tag2').params).toEqual({
      tag: 'eu west',
      'input.name': 'a b c',
      q: 'tag2',
    });
    expect(parseSearch('tag: failure:').params).toEqual({});
    expect(tagSearch('eu west')).toBe('tag:"eu west"');
    expect(tagSearch('nightly')).toBe('tag:nightly');
    expect(parseSearch(tagSearch('eu west')).params).toEqual({ tag: 'eu west' });
  });

  it('leaves words it does not know to the server, which names what it expected', () => {
    expect(parseSearch('abc def input.=x').params).toEqual({ q: 'abc def input.=x' });
  });

  it('names a whole run id alone as a run to open, with or without dashes', () => {
    const id = '01933b2c-5d7e-7a1b-9c3d-1234567890ab';
    expect(parseSearch(id)).toEqual({ params: { q: id }, runId: id });
    expect(parseSearch(id.replaceAll('-', '').toUpperCase()).runId).toBe(id);
    expect(parseSearch(`${id} tag:x`).runId).toBeUndefined();
    expect(parseSearch('01933b2c').runId).toBeUndefined();
  });
});

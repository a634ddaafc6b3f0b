import { describe, expect, it } from 'vitest';
import { bulkFilterOf } from '../../src/web/api/bulk-filter.js';
import { parseSearch } from '../../src/web/api/search-syntax.js';

// "All matching this filter" (DESIGN §18): the list's query as the bulk action's filter body.

describe('the bulk action filter of a list', () => {
  it('carries the bucket, the filters and the search, input values as an object', () => {
    // As the list page builds it (apiQuery): the search's parameters beside the filters.
    const query = {
      ...parseSearch('tag:nightly input.policyId=p-17 input.batch.size=42 failure:graph.throttled')
        .params,
      type: 'policy.sync_one',
      tenantId: 'tenant-id',
      initiator: undefined,
      from: '2026-11-30T12:00:00.000Z',
    };
    expect(bulkFilterOf(query, 'active', 'user-id')).toEqual({
      bucket: 'active',
      type: 'policy.sync_one',
      tenantId: 'tenant-id',
      from: '2026-11-30T12:00:00.000Z',
      tag: 'nightly',
      failureCode: 'graph.throttled',
      input: { policyId: 'p-17', 'batch.size': '42' },
    });
  });

  it('names "started by me" by the caller\'s id, and leaves out what is unset', () => {
    expect(bulkFilterOf({ initiator: 'me', type: undefined, q: '' }, 'all', 'user-id')).toEqual({
      bucket: 'all',
      initiator: 'user-id',
    });
  });
});

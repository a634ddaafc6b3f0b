import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/unavailable.js';

// The pool's timeouts (src/db/pool.ts) fail into the "unreachable" path; a statement the server
// cancelled for running too long does not: the database answered.
describe('isDatabaseUnavailable and the pool timeouts', () => {
  it.each([
    ['no answer within the query timeout', new Error('Query read timeout')],
    ['no free connection in time', new Error('timeout exceeded when trying to connect')],
    [
      'no connection in time',
      new Error('Connection terminated due to connection timeout', {
        cause: new Error('Connection terminated unexpectedly'),
      }),
    ],
  ])('takes %s for unreachable', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('does not take a statement cancelled by statement_timeout for an outage', () => {
    const cancelled = Object.assign(new Error('canceling statement due to statement timeout'), {
      code: '57014',
    });
    expect(isDatabaseUnavailable(cancelled)).toBe(false);
  });
});

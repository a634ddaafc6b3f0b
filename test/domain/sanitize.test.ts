import { describe, expect, it } from 'vitest';
import {
  MAX_FAILURE_MESSAGE,
  sanitizeFailure,
  sanitizeMessage,
} from '../../src/domain/sanitize.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('sanitizeMessage', () => {
  it.each([
    [
      'GET /v1/items failed: Authorization: Bearer abc.DEF-123_xyz~+/= rejected',
      'abc.DEF-123_xyz',
      'Bearer [redacted]',
    ],
    [`token expired: ${JWT}`, 'SflKxwRJ', '[redacted-jwt]'],
    [
      'connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/prod',
      'hunter2',
      'postgres://app:[redacted]@db.internal',
    ],
    ['amqps://svc:s3cr%40t@mq:5671 closed', 's3cr%40t', 'amqps://svc:[redacted]@mq'],
    ['login failed password=Sup3r$ecret&user=x', 'Sup3r$ecret', 'password=[redacted]'],
    [
      'config {"client_secret":"abcd1234efgh"} invalid',
      'abcd1234efgh',
      '"client_secret":"[redacted]',
    ],
    ['api_key: AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', '[redacted'],
    ['Graph said 401 for key sk_live_51HxYzAbCdEfGhIjKlMnOp', 'sk_live_51Hx', '[redacted-key]'],
    ['push rejected: ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'ghp_16C7', '[redacted-key]'],
    ['user Jane.Doe+ops@contoso.onmicrosoft.com has no license', 'Jane.Doe', '[email]'],
    ['?access_token=ya29.a0AfH6SMBx&scope=all', 'ya29.a0AfH6SMBx', 'access_token=[redacted]'],
  ])('redacts secrets in %j', (input, secret, replacement) => {
    const clean = sanitizeMessage(input);
    expect(clean).not.toContain(secret);
    expect(clean).toContain(replacement);
  });

  it('removes stack frames but keeps the message', () => {
    const error = new Error('Tenant throttled (429)');
    const clean = sanitizeMessage(error.stack ?? '');
    expect(clean).toBe('Error: Tenant throttled (429)');
    const handwritten =
      'boom\n    at run (/srv/app/dist/sync.js:10:5)\n    at async Promise.all (index 0)\n    at node:internal/process/task_queues:95:5';
    expect(sanitizeMessage(handwritten)).toBe('boom\n    at async Promise.all (index 0)');
  });

  it('caps long messages at 500 characters and strips control characters', () => {
    const clean = sanitizeMessage(`x${'\u0007'}y ${'a'.repeat(2_000)}`);
    expect(clean.length).toBe(MAX_FAILURE_MESSAGE);
    expect(clean.startsWith('x y')).toBe(true);
    expect(clean.endsWith('…')).toBe(true);
  });

  it('never returns an empty message', () => {
    expect(sanitizeMessage('   \n  at f (a.js:1:1)')).toBe('No details were given.');
  });
});

describe('sanitizeFailure', () => {
  it('keeps a stable dotted code and falls back otherwise', () => {
    expect(sanitizeFailure({ code: 'graph.throttled', message: 'slow down' })).toEqual({
      code: 'graph.throttled',
      message: 'slow down',
    });
    const nodeError = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
      code: 'ECONNREFUSED',
    });
    expect(sanitizeFailure(nodeError)).toEqual({
      code: 'handler.error',
      message: 'connect ECONNREFUSED 10.0.0.1:443',
    });
    expect(sanitizeFailure('plain text', 'queue.timeout').code).toBe('queue.timeout');
    expect(sanitizeFailure({ code: 'x'.repeat(80), message: 'm' }).code).toBe('handler.error');
  });

  it('describes odd throwables without leaking their contents', () => {
    expect(sanitizeFailure(42)).toEqual({ code: 'handler.error', message: '42' });
    expect(sanitizeFailure(undefined).message).toBe('undefined');
    expect(sanitizeFailure({ status: 500, password: 'pw-1234567' }).message).toBe(
      '{"status":500,"password":"[redacted]"}',
    );
  });
});

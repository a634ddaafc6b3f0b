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
    expect(sanitizeMessage(handwritten)).toBe('boom');
  });

  it('leaves no stack frame of any shape', () => {
    const error = new Error('Tenant throttled (429)');
    const nested = `${error.stack}\n    at async Promise.all (index 0)\n    at new Sync (<anonymous>)\n    at Array.map (native)\n    at file:///srv/app/dist/sync.js:10:5\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;
    const clean = sanitizeMessage(nested);
    expect(clean).toBe('Error: Tenant throttled (429)');
    for (const line of clean.split('\n')) expect(line).not.toMatch(/^\s*at\s/);
    // Prose that merely starts with "at" is not a frame.
    expect(sanitizeMessage('at least 3 items failed')).toBe('at least 3 items failed');
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

// Real formats (documented example values or same-shape fakes): none may survive.
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
  'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
  '-----END RSA PRIVATE KEY-----',
].join('\n');
const OPENSSH_TRUNCATED =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW';

describe('sanitizeMessage: a corpus of real secret formats', () => {
  it.each([
    [
      'AWS access key id',
      'aws said InvalidClientTokenId for AKIAIOSFODNN7EXAMPLE',
      'AKIAIOSFODNN7EXAMPLE',
    ],
    ['AWS temporary key id', 'sts ASIAY34FZKBOKMUTVV7A expired', 'ASIAY34FZKBOKMUTVV7A'],
    [
      'AWS secret key (bare)',
      'signing with wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY failed',
      'wJalrXUtnFEMI',
    ],
    [
      'AWS secret key (env)',
      'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI',
    ],
    [
      'AWS secret key (json)',
      '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
      'wJalrXUtnFEMI',
    ],
    [
      'GitHub classic token',
      'clone failed: ghp_16C7e42F292c6912E7710c838347Ae178B4a',
      'ghp_16C7e42F',
    ],
    [
      'GitHub OAuth token',
      'token gho_16C7e42F292c6912E7710c838347Ae178B4a revoked',
      'gho_16C7e42F',
    ],
    [
      'GitHub fine-grained token',
      'push with github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012 denied',
      'github_pat_11ABCDEFG',
    ],
    [
      'Slack bot token',
      'slack: invalid_auth for xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy',
      'xoxb-1765',
    ],
    [
      'Slack user token',
      'xoxp-4956863-4956862-4956864-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d rejected',
      'xoxp-4956',
    ],
    [
      'Slack refresh token',
      'rotate xoxe.xoxp-1-Mi0yLTE3NjUzNjcyNDgxLTE5ODc0Njk4MzIz failed',
      'Mi0yLTE3',
    ],
    [
      'Slack app token',
      'socket mode: xapp-1-A0123BCDEFG-1234567890123-abcdef0123456789 bad',
      'xapp-1-A0123',
    ],
    [
      'JWT',
      'id_token eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1c2VyIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk is expired',
      'dBjftJeZ4CVP',
    ],
    [
      'Bearer header',
      'Authorization: Bearer 0b79bab50daca910b000d4f1a2b675d604257e42 rejected',
      '0b79bab50d',
    ],
    ['Bearer (lowercase)', 'header authorization: bearer abcDEF123456789ghiJKL', 'abcDEF1234'],
    ['postgres URL', 'connect to postgres://user:pass@db.internal:5432/app failed', ':pass@'],
    ['postgres URL, @ in password', 'postgresql://svc:p@ssw0rd!@db:5432/x refused', 'ssw0rd'],
    ['mongodb+srv URL', 'mongodb+srv://admin:Zx9!kq@cluster0.mongodb.net/db timed out', 'Zx9!kq'],
    ['redis URL', 'redis://default:s3cr3tpw@cache:6379 NOAUTH', 's3cr3tpw'],
    ['PEM RSA private key', `key load failed: ${PEM}`, 'MIIEowIBAAKCAQEAu1SU1'],
    ['PEM key, cut off', `bad key ${OPENSSH_TRUNCATED}`, 'b3BlbnNzaC1rZXk'],
    [
      'our API token',
      'Runwarden said 401 for rwt_Zq3yP0mK9xW2vB7nT4cL8sR1dF6gH5jA0eU_-iO9pQw',
      'rwt_Zq3yP0mK',
    ],
    [
      'our API token ending in -',
      'token rwt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg- refused',
      'rwt_AbCdEf',
    ],
    [
      'our invite token',
      'invite link /invite/rwi_3kT9vQ2mZx8yW1pL0nB7cR4sD6fG5hJ_aE-uI9oPqw expired',
      'rwi_3kT9vQ',
    ],
    [
      "an owner's invitation token",
      'accept rwm_9xQ2mZk8yW1pL0nB7cR4sD6fG5hJ_aE-uI9oPqw3kT failed',
      'rwm_9xQ2mZ',
    ],
  ])('%s', (_name, input, secret) => {
    const clean = sanitizeMessage(input);
    expect(clean).not.toContain(secret);
    expect(clean).toMatch(/\[redacted|\[email\]/);
  });

  it('keeps what is not a secret', () => {
    expect(
      sanitizeMessage('commit 3f786850e387550fdab836ed7e6dc881de23001b broke the build'),
    ).toContain('3f786850e387550fdab836ed7e6dc881de23001b');
    expect(sanitizeMessage('postgres://db.internal:5432/app is unreachable')).toBe(
      'postgres://db.internal:5432/app is unreachable',
    );
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

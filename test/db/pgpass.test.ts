import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPasswordFromPgpass } from '../../src/db/pgpass.js';

// A DATABASE_URL without a password takes it from the password file, as libpq would.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'runwarden-pgpass-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pgpass(text: string, mode = 0o600): Promise<NodeJS.ProcessEnv> {
  const file = path.join(dir, `pgpass-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, text);
  await chmod(file, mode);
  return { PGPASSFILE: file };
}

describe('withPasswordFromPgpass', () => {
  it('fills the password of the first matching entry, honouring wildcards and escapes', async () => {
    const env = await pgpass(
      [
        '# comment',
        'otherhost:*:*:runwarden:nope',
        '127.0.0.1:5433:*:runwarden:wrong-port',
        '127.0.0.1:*:*:runwarden:s3cr\\:et@/x',
      ].join('\n'),
    );
    const url = withPasswordFromPgpass('postgresql://runwarden@127.0.0.1:54329/runwarden', env);
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe('s3cr:et@/x');
    expect(parsed.host).toBe('127.0.0.1:54329');
    expect(parsed.pathname).toBe('/runwarden');
  });

  it('leaves a URL alone when it has a password, no entry matches, or the file is readable by others', async () => {
    const env = await pgpass('127.0.0.1:*:*:runwarden:pw\n');
    const withPassword = 'postgresql://runwarden:given@127.0.0.1:5432/db';
    expect(withPasswordFromPgpass(withPassword, env)).toBe(withPassword);
    const otherUser = 'postgresql://someone@127.0.0.1:5432/db';
    expect(withPasswordFromPgpass(otherUser, env)).toBe(otherUser);
    const open = await pgpass('127.0.0.1:*:*:runwarden:pw\n', 0o644);
    const url = 'postgresql://runwarden@127.0.0.1:5432/db';
    expect(withPasswordFromPgpass(url, open)).toBe(url);
    expect(withPasswordFromPgpass(url, { PGPASSFILE: path.join(dir, 'missing') })).toBe(url);
  });

  it('defaults the port to 5432 and the database to the user name', async () => {
    const env = await pgpass('db.internal:5432:app:app:pw\n');
    const url = withPasswordFromPgpass('postgres://app@db.internal', env);
    expect(new URL(url).password).toBe('pw');
  });

  it('takes a password file it cannot look at for absent, never a reason to fail', async () => {
    const env = await pgpass('127.0.0.1:*:*:runwarden:pw\n');
    // A path through a regular file: stat fails with ENOTDIR (as it fails with EACCES for a
    // directory the process may not enter); the URL goes on as it is.
    const through = { PGPASSFILE: path.join(env.PGPASSFILE as string, 'pgpass') };
    const url = 'postgresql://runwarden@127.0.0.1:5432/db';
    expect(() => withPasswordFromPgpass(url, through)).not.toThrow();
    expect(withPasswordFromPgpass(url, through)).toBe(url);
  });

  it('leaves the password to PGPASSWORD when it is set, as libpq does', async () => {
    const env = await pgpass('127.0.0.1:*:*:runwarden:from-file\n');
    const url = 'postgresql://runwarden@127.0.0.1:5432/db';
    expect(withPasswordFromPgpass(url, { ...env, PGPASSWORD: 'from-env' })).toBe(url);
  });
});

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/db.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const t = await freshDatabase({ max: 1 });
const dir = await mkdtemp(path.join(tmpdir(), 'runwarden-library-pgpass-'));
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the library with PGPASSFILE (issue 25)', () => {
  it('connects with the password from PGPASSFILE and prints no pg deprecation warning', async () => {
    const url = new URL(t.url);
    const password = decodeURIComponent(url.password);
    url.password = '';
    const file = path.join(dir, 'pgpass');
    await writeFile(
      file,
      `${url.hostname}:${url.port}:*:${decodeURIComponent(url.username)}:${password}\n`,
    );
    await chmod(file, 0o600);
    const { DATABASE_URL: _ignored, PGPASSWORD: _none, ...base } = process.env;
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/fixtures/library-pgpass.ts')],
      { cwd: ROOT, env: { ...base, PGPASSFILE: file, DATABASE_URL: url.toString() } },
    );
    expect(url.toString()).not.toContain(password);
    expect(stdout).toContain('library done');
    expect(stderr).not.toMatch(/deprecat/i);
  });
});

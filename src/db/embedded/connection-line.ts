/**
 * The line the embedded PostgreSQL logs for reaching it from a second process on this machine:
 * an environment that `runwarden worker`, `runwarden serve` and `psql "$DATABASE_URL"` accept as is.
 * The URL carries no password; PGPASSFILE names the mode-600 file holding it (so no log line needs it).
 */
export function connectionLine(options: {
  pgpassFile: string;
  user: string;
  port: number;
  database: string;
}): string {
  const url = `postgresql://${encodeURIComponent(options.user)}@127.0.0.1:${options.port}/${encodeURIComponent(options.database)}`;
  return `PGPASSFILE=${shellWord(options.pgpassFile)} DATABASE_URL=${shellWord(url)}`;
}

/** Quoted for a POSIX shell only when it needs to be. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

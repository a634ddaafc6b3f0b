import type { EmbeddedCluster } from './embedded/cluster.js';

export interface DatabaseHandle {
  url: string;
  /** Present when this process started the embedded cluster (and must stop it last). */
  embedded?: EmbeddedCluster;
}

/** A connection string safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable connection string)';
  }
}

import { createHash, randomBytes } from 'node:crypto';

/** How a secret shown once (an API token, an invite or offer link) is stored: its sha256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret with its kind's prefix (`rwt_`, `rwi_`, `rwm_`), and the hash that is stored. */
export function newSecret(prefix: string): { secret: string; hash: string } {
  const secret = prefix + randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

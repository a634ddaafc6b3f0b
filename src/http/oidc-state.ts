import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A sign-in in progress: what the callback must see again (DESIGN §15). */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  at: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a pending sign-in into a cookie value with AES-256-GCM, so it is kept by the browser, not
 * in a table (an anonymous visitor writes no row, DESIGN §10): nobody can read its PKCE verifier
 * or change any of it without the server's secret.
 */
export class PendingSignInSeal {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHash('sha256').update(`runwarden oidc state\0${secret}`).digest();
  }

  seal(pending: PendingSignIn): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(pending), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed sign-in, or undefined when the value is missing, forged or not one of ours. */
  open(value: string | undefined): PendingSignIn | undefined {
    if (!value) return undefined;
    try {
      const raw = Buffer.from(value, 'base64url');
      // The tag's length is fixed: a shorter one would be accepted otherwise.
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      }).setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
      const pending = JSON.parse(text) as Partial<PendingSignIn>;
      return typeof pending.state === 'string' &&
        typeof pending.nonce === 'string' &&
        typeof pending.codeVerifier === 'string' &&
        typeof pending.returnTo === 'string' &&
        typeof pending.at === 'number'
        ? (pending as PendingSignIn)
        : undefined;
    } catch {
      return undefined;
    }
  }
}

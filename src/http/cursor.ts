import { createHmac, timingSafeEqual } from 'node:crypto';
import { RunwardenError } from '../domain/errors.js';
import { isUuid } from '../domain/uuid.js';

export interface CursorPosition {
  createdAt: Date;
  id: string;
}

/**
 * Keyset cursors are opaque and signed with the shared HTTP secret: a client can pass one back
 * but not forge or edit one (a tampered cursor is a 400, never a different page).
 */
export class CursorCodec {
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  encode(position: CursorPosition): string {
    const body = Buffer.from(
      JSON.stringify([position.createdAt.toISOString(), position.id]),
    ).toString('base64url');
    return `${body}.${this.#sign(body)}`;
  }

  decode(cursor: string): CursorPosition {
    const [body, signature] = cursor.split('.');
    const expected = body ? Buffer.from(this.#sign(body)) : undefined;
    const given = Buffer.from(signature ?? '');
    if (!expected || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw invalid();
    }
    const [at, id] = JSON.parse(Buffer.from(body as string, 'base64url').toString()) as [
      string,
      string,
    ];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || !isUuid(id)) throw invalid();
    return { createdAt, id };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#secret).update(`cursor:${body}`).digest('base64url');
  }
}

function invalid() {
  return new RunwardenError('invalid_cursor', 'The cursor is not one this API issued.');
}

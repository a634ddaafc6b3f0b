import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How much one stream client may have waiting in this process before it is told to resync. */
export const MAX_BACKLOG_BYTES = 1024 * 1024;

export interface SseEvent {
  id?: number;
  event: string;
  data: unknown;
}

export function formatEvent(event: SseEvent): string {
  const id = event.id === undefined ? '' : `id: ${event.id}\n`;
  return `${id}event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

const RESYNC = formatEvent({ event: 'resync', data: {} });

/** What one stream connection holds in this process (for tests and diagnostics). */
export interface SsePressure {
  /** Bytes waiting here now: the response's write buffer plus the backlog kept while it is full. */
  bufferedBytes: number;
  backlogBytes: number;
  /** The most that was ever waiting at once. */
  peakBytes: number;
  /** How many times the backlog was dropped in favour of a `resync`. */
  overflows: number;
}

const writers = new WeakMap<Socket, SseWriter>();

/** The stream writer on a server-side socket, if one is open on it. */
export function sseWriterOn(socket: Socket): SseWriter | undefined {
  return writers.get(socket);
}

/**
 * Writes one Server-Sent Events response with backpressure: while the client is not reading, text
 * waits in a bounded backlog; past the bound the backlog is dropped and the client gets `resync`
 * once it drains, so a stalled client costs at most about `maxBacklogBytes`.
 */
export class SseWriter {
  readonly #raw: ServerResponse;
  readonly #maxBacklogBytes: number;
  #backlog: string[] = [];
  #backlogBytes = 0;
  #blocked = false;
  #owesResync = false;
  #peakBytes = 0;
  #overflows = 0;

  constructor(raw: ServerResponse, options: { maxBacklogBytes?: number } = {}) {
    this.#raw = raw;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
    raw.on('drain', () => this.#flush());
    raw.on('close', () => this.#forget());
    if (raw.socket) writers.set(raw.socket, this);
  }

  get pressure(): SsePressure {
    return {
      bufferedBytes: this.#buffered(),
      backlogBytes: this.#backlogBytes,
      peakBytes: this.#peakBytes,
      overflows: this.#overflows,
    };
  }

  send(event: SseEvent): void {
    if (!this.#owesResync) this.write(formatEvent(event));
  }

  write(text: string): void {
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    // Everything after an overflow is covered by the resync the client will get.
    if (this.#owesResync) return;
    if (this.#blocked) {
      this.#backlog.push(text);
      this.#backlogBytes += Buffer.byteLength(text);
      if (this.#backlogBytes > this.#maxBacklogBytes) {
        this.#backlog = [];
        this.#backlogBytes = 0;
        this.#owesResync = true;
        this.#overflows += 1;
      }
    } else if (!this.#raw.write(text)) {
      this.#blocked = true;
    }
    this.#peakBytes = Math.max(this.#peakBytes, this.#buffered());
  }

  /** Writes only when nothing waits: a heartbeat behind a backlog tells nobody anything. */
  writeIfIdle(text: string): void {
    if (!this.#blocked) this.write(text);
  }

  end(): void {
    this.#forget();
    if (!this.#raw.writableEnded) this.#raw.end();
  }

  #flush(): void {
    this.#blocked = false;
    if (this.#raw.writableEnded || this.#raw.destroyed) return;
    if (this.#owesResync) {
      this.#owesResync = false;
      if (!this.#raw.write(RESYNC)) {
        this.#blocked = true;
        return;
      }
    }
    while (this.#backlog.length) {
      const text = this.#backlog.shift() as string;
      this.#backlogBytes -= Buffer.byteLength(text);
      if (!this.#raw.write(text)) {
        this.#blocked = true;
        return;
      }
    }
  }

  #forget(): void {
    this.#backlog = [];
    this.#backlogBytes = 0;
    if (this.#raw.socket && writers.get(this.#raw.socket) === this)
      writers.delete(this.#raw.socket);
  }

  #buffered(): number {
    return this.#raw.writableLength + this.#backlogBytes;
  }
}

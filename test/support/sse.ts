import http from 'node:http';

// A small Server-Sent Events client over a real socket (the parts of the WHATWG parsing rules the
// server uses), which can stop reading to play a stalled browser.

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  /** Comment lines (`: heartbeat`) seen before this event. */
  commentsBefore: number;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Dispatched events, in arrival order. */
  events: SseEvent[];
  /** Comment lines, without the leading colon. */
  comments: string[];
  /** The id of the last event that carried one (what a browser would send as Last-Event-ID). */
  lastEventId: string | undefined;
  /** The body of a non-200 answer, once it ended. */
  body: string;
  /** The client side of the socket (its local port names it on the server). */
  localPort: number;
  ended: boolean;
  /** Stops reading: the kernel buffers fill and the server's writes stop draining. */
  pause(): void;
  resume(): void;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise<SseStream>((resolve, reject) => {
    const req = http.get(
      url,
      // agent: false — a socket of its own, gone when the stream is closed.
      { agent: false, headers: { accept: 'text/event-stream', ...headers } },
      (res) => {
        const stream: SseStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          events: [],
          comments: [],
          lastEventId: undefined,
          body: '',
          localPort: res.socket.localPort ?? 0,
          ended: false,
          pause: () => res.pause(),
          resume: () => res.resume(),
          close: () => req.destroy(),
        };
        const markEnded = () => {
          stream.ended = true;
        };
        res.on('end', markEnded);
        res.on('close', markEnded);
        res.on('error', () => undefined);
        res.setEncoding('utf8');
        if (stream.status !== 200) {
          res.on('data', (chunk: string) => {
            stream.body += chunk;
          });
          res.on('end', () => resolve(stream));
          return;
        }
        let buffer = '';
        let pending = { id: undefined as string | undefined, event: 'message' };
        let dataLines: string[] = [];
        const line = (text: string) => {
          if (text === '') {
            if (dataLines.length) {
              const data = dataLines.join('\n');
              stream.events.push({ ...pending, data, commentsBefore: stream.comments.length });
            }
            pending = { id: undefined, event: 'message' };
            dataLines = [];
          } else if (text.startsWith(':')) {
            stream.comments.push(text.slice(1).trimStart());
          } else {
            const colon = text.indexOf(':');
            const field = colon === -1 ? text : text.slice(0, colon);
            const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') pending.event = value;
            else if (field === 'data') dataLines.push(value);
            else if (field === 'id') {
              pending.id = value;
              stream.lastEventId = value;
            }
          }
        };
        res.on('data', (chunk: string) => {
          buffer += chunk;
          // Lines end with CRLF, LF or a lone CR.
          for (let nl = buffer.search(/\r\n|\r|\n/); nl !== -1; nl = buffer.search(/\r\n|\r|\n/)) {
            const width = buffer.startsWith('\r\n', nl) ? 2 : 1;
            line(buffer.slice(0, nl));
            buffer = buffer.slice(nl + width);
          }
        });
        resolve(stream);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Our own close() destroys the socket; anything else is a failure.
      if (error.code !== 'ECONNRESET' && !req.destroyed) reject(error);
    });
  });
}

export const eventsNamed = (stream: SseStream, name: string) =>
  stream.events.filter((e) => e.event === name);

import net from 'node:net';

export interface BlackholeProxy {
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string;
  /**
   * From now on nothing passes: every open connection goes silent (bytes dropped both ways, no
   * close), and new connections are accepted and kept but never reach the database.
   */
  blackhole(): void;
  /** New connections pass again; those that went silent stay silent (as after a failover). */
  heal(): void;
  /**
   * A partition that heals: nothing passes, but nothing is lost — every connection, open or new,
   * is held until `resume()` delivers what waited (as TCP retransmits).
   */
  pause(): void;
  resume(): void;
  /** Connections accepted so far (each one a connect attempt of a client behind the proxy). */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
  silent: boolean;
}

/** A TCP proxy on 127.0.0.1 in front of `target` that can blackhole it (DESIGN §16: hung connections). */
export async function startBlackholeProxy(target: {
  host: string;
  port: number;
}): Promise<BlackholeProxy> {
  let holing = false;
  let paused = false;
  const pairs = new Set<Pair>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const pair: Pair = { client, silent: holing };
    pairs.add(pair);
    if (paused) client.pause();
    client.on('error', () => undefined);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    client.on('data', (chunk) => {
      if (!pair.silent) pair.upstream?.write(chunk);
    });
    if (pair.silent) return;
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    if (paused) upstream.pause();
    upstream.on('error', () => undefined);
    upstream.on('data', (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
    // A silent connection hides the server's close too: the client hears nothing, ever.
    upstream.on('close', () => {
      if (!pair.silent) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    through(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    blackhole() {
      holing = true;
      for (const pair of pairs) pair.silent = true;
    },
    heal() {
      holing = false;
    },
    accepted: () => accepted,
    pause() {
      paused = true;
      for (const pair of pairs) {
        pair.client.pause();
        pair.upstream?.pause();
      }
    },
    resume() {
      paused = false;
      for (const pair of pairs) {
        pair.client.resume();
        pair.upstream?.resume();
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

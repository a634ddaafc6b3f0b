import type { Kysely } from 'kysely';
import type pg from 'pg';
import { DIRECTORY_CHANNEL } from '../access/directory-announce.js';
import type { Database } from '../db/schema.js';
import { canSee, type Visibility } from '../domain/visibility.js';
import type { OperationRegistry } from '../execution/registry.js';
import type { Logger } from '../logger.js';
import type { RunReadModel } from '../runs/read-model.js';
import { RUN_LOG_CHANNEL } from '../runs/run-logs.js';
import { readModelOf, toRunView } from './run-view.js';
import type { RunView } from './schemas.js';

export const RUN_CHANNEL = 'runwarden_run_changes';
const BATCH_SIZE = 100;
/**
 * How often the LISTEN connection is asked `select 1`, and how long it may take to answer. A
 * connection that only listens sends nothing, so a network that went silent (a failover that
 * blackholes TCP) would never fail it: the stream would send nothing, not even `resync` (DESIGN §16).
 */
const LISTEN_PROBE_MS = 5_000;

/** One NOTIFY from the `operation_runs` triggers. */
export interface RunChange {
  seq: number;
  id: string;
  workspaceId: string;
  tenantId: string | null;
}

/** One NOTIFY of a batch of log lines (src/runs/run-logs.ts): the run's last seq now. */
interface LogAppend {
  id: string;
  workspaceId: string;
  tenantId: string | null;
  seq: number;
}

export interface StreamClient {
  /** Which runs the client may see (src/access makes it from the caller). */
  scope: Visibility;
  /**
   * A stream about one run (a run page following its log): only that run's changes, and `log`
   * events `{runId, seq}` when lines were appended to it (DESIGN §18).
   */
  only?: string;
  send(event: { id?: number; event: string; data: unknown }): void;
  /** Checks the caller again: who may see what changed (a directory change was announced). */
  recheck?(): void;
}

/**
 * Live push (DESIGN §11): ONE LISTEN connection per process, however many clients. Changes are
 * batched, each run is read once per batch, and each client gets only the runs its scope allows.
 * A ring of recent changes lets a reconnecting client resume from its Last-Event-ID. The same
 * connection hears directory changes, and has every client re-check its caller (DESIGN §10).
 */
export class StreamHub {
  readonly #deps: {
    pool: pg.Pool;
    db: Kysely<Database>;
    registry: OperationRegistry;
    logger: Logger;
  };
  readonly #reads: RunReadModel;
  readonly #clients = new Set<StreamClient>();
  readonly #recent: RunChange[] = [];
  readonly #bufferSize: number;
  readonly #probeMs: number;
  #pending: RunChange[] = [];
  #draining = false;
  #listener: { stop(): Promise<void> } | undefined;
  #connecting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** The listener was lost; clients get `resync` once it is back. */
  #resyncOwed = false;
  #closed = false;
  readonly #onClose = new Set<() => void>();

  constructor(
    deps: { pool: pg.Pool; db: Kysely<Database>; registry: OperationRegistry; logger: Logger },
    options: { bufferSize?: number; probeMs?: number } = {},
  ) {
    this.#deps = deps;
    this.#reads = readModelOf(deps);
    this.#bufferSize = options.bufferSize ?? 5000;
    this.#probeMs = options.probeMs ?? LISTEN_PROBE_MS;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  /** Starts the process's one LISTEN connection if it is not up yet. */
  async ready(): Promise<void> {
    await this.#listen();
  }

  /** Registers a client (after `ready()`); returns its unsubscribe. */
  subscribe(client: StreamClient): () => void {
    this.#clients.add(client);
    return () => {
      this.#clients.delete(client);
    };
  }

  /**
   * The changes a client missed after `lastEventId`, as current run views; `resync` when they are
   * no longer known here (the client should reload what it shows).
   */
  async replay(
    lastEventId: number,
    scope: Visibility,
    only?: string,
  ): Promise<{ resync: true } | { resync: false; events: Array<{ id: number; run: RunView }> }> {
    const at = this.#recent.findIndex((c) => c.seq === lastEventId);
    if (at === -1) {
      const nothingSince = (await this.#reads.lastChangeSeq()) <= lastEventId;
      return nothingSince ? { resync: false, events: [] } : { resync: true };
    }
    const missed = this.#recent
      .slice(at + 1)
      .filter((c) => canSee(scope, c) && (only === undefined || c.id === only));
    const views = await this.#load(missed);
    return {
      resync: false,
      events: missed.flatMap((c) => {
        const run = views.get(c.id);
        return run ? [{ id: c.seq, run }] : [];
      }),
    };
  }

  /** Called when the hub closes (the process shuts down): each open stream ends itself. */
  onClose(end: () => void): () => void {
    this.#onClose.add(end);
    return () => {
      this.#onClose.delete(end);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    for (const end of this.#onClose) end();
    this.#onClose.clear();
    this.#clients.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.stop();
  }

  async #listen(): Promise<void> {
    if (this.#listener || this.#closed) return;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = await this.#deps.pool.connect();
    let released = false;
    const onNotification = (message: pg.Notification) => {
      if (message.channel === DIRECTORY_CHANNEL) this.#recheckAll();
      if (message.channel === RUN_LOG_CHANNEL && message.payload)
        this.#logAppended(JSON.parse(message.payload) as LogAppend);
      if (message.channel !== RUN_CHANNEL || !message.payload) return;
      this.#receive(JSON.parse(message.payload) as RunChange);
    };
    const onEnd = () => onError(new Error('the LISTEN connection ended'));
    const probe = setInterval(() => this.#probe(client, () => released), this.#probeMs);
    probe.unref();
    const detach = () => {
      released = true;
      clearInterval(probe);
      client.off('notification', onNotification);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    const listener = {
      async stop() {
        if (released) return;
        detach();
        const failed = await client.query('unlisten *').then(
          () => undefined,
          (error: Error) => error,
        );
        client.release(failed);
      },
    };
    const onError = (error: Error) => {
      if (released) return;
      detach();
      client.release(true);
      if (this.#listener !== listener) return;
      this.#listener = undefined;
      this.#lost(error);
    };
    client.on('notification', onNotification);
    client.on('error', onError);
    client.on('end', onEnd);
    try {
      await client.query(
        `listen ${RUN_CHANNEL}; listen ${DIRECTORY_CHANNEL}; listen ${RUN_LOG_CHANNEL}`,
      );
    } catch (error) {
      onError(error as Error);
      throw error;
    }
    if (released) throw new Error('the LISTEN connection was lost as it started');
    if (this.#closed) return await listener.stop();
    this.#listener = listener;
    this.#deps.logger.debug('listening for run changes');
    if (this.#resyncOwed) {
      // Only now can a reload see everything: changes from here on are heard again.
      this.#resyncOwed = false;
      this.#deps.logger.info('listening for run changes again; clients will resync');
      for (const c of this.#clients) c.send({ event: 'resync', data: {} });
      // Directory changes during the gap were not heard either.
      this.#recheckAll();
    }
  }

  #probing = false;

  /** Asks the LISTEN connection to answer; one that stays silent is cut, and so lost (`#lost`). */
  #probe(client: pg.PoolClient, released: () => boolean): void {
    if (this.#probing || released()) return;
    this.#probing = true;
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<'silent'>((resolve) => {
      timer = setTimeout(() => resolve('silent'), this.#probeMs);
    });
    void Promise.race([
      client.query('select 1').then(
        () => 'answered' as const,
        () => 'answered' as const, // a failing query fails the connection on its own ('error')
      ),
      silent,
    ])
      .then((answer) => {
        if (answer !== 'silent' || released()) return;
        this.#deps.logger.warn(
          { waitedMs: this.#probeMs },
          'the run change listener stopped answering; cutting its connection',
        );
        const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } })
          .connection?.stream;
        socket?.destroy();
        client.emit('error', new Error('the LISTEN connection stopped answering'));
      })
      .finally(() => {
        clearTimeout(timer);
        this.#probing = false;
      });
  }

  #logAppended(append: LogAppend): void {
    for (const client of this.#clients)
      if (client.only === append.id && canSee(client.scope, append))
        client.send({ event: 'log', data: { runId: append.id, seq: append.seq } });
  }

  #recheckAll(): void {
    for (const c of this.#clients) c.recheck?.();
  }

  #lost(error: Error): void {
    this.#deps.logger.warn({ err: error }, 'run change listener lost; listening again');
    // Changes during the gap were never heard: ids from before it must answer `resync`, not a
    // replay that silently skips them. Clients get `resync` once listening works again; telling
    // them now would have them reload while the database is still away, then stay stale.
    this.#recent.length = 0;
    this.#resyncOwed = true;
    this.#retry();
  }

  #retry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#listen().catch((e: unknown) => {
        this.#deps.logger.warn({ err: e }, 'could not listen for run changes; retrying in 1 s');
        this.#retry();
      });
    }, 1000).unref();
  }

  #receive(change: RunChange): void {
    this.#recent.push(change);
    if (this.#recent.length > this.#bufferSize) this.#recent.shift();
    if (!this.#clients.size) return;
    this.#pending.push(change);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length) {
        // A bounded batch per turn: between batches sockets drain, so a burst of changes does not
        // pile up in every client's backlog at once.
        const batch = this.#pending.splice(0, BATCH_SIZE);
        const wanted = batch.filter((c) => [...this.#clients].some((cl) => wants(cl, c)));
        const views = await this.#load(wanted);
        for (const change of wanted) {
          const run = views.get(change.id);
          if (!run) continue;
          for (const client of this.#clients) {
            if (wants(client, change)) client.send({ id: change.seq, event: 'run', data: { run } });
          }
        }
      }
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'could not read changed runs; clients will resync');
      this.#pending = [];
      for (const c of this.#clients) c.send({ event: 'resync', data: {} });
    } finally {
      this.#draining = false;
    }
  }

  async #load(changes: RunChange[]): Promise<Map<string, RunView>> {
    const ids = [...new Set(changes.map((c) => c.id))];
    if (!ids.length) return new Map();
    const rows = await this.#reads.findMany(ids);
    const now = new Date();
    return new Map(rows.map((r) => [r.id, toRunView(r, this.#deps.registry, now)]));
  }
}

function wants(client: StreamClient, change: RunChange): boolean {
  return canSee(client.scope, change) && (client.only === undefined || client.only === change.id);
}

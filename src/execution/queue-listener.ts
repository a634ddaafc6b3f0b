import type pg from 'pg';
import type { Logger } from 'pino';
import { cutConnection } from '../db/pool.js';

export interface ListenerGuardOptions {
  logger: Logger;
  /** Between attempts to connect the listener while the database does not answer. */
  retryMs?: number;
  /** How often the listening connection is asked `select 1`. */
  probeEveryMs?: number;
  /** How long that `select 1` may take before the connection is taken for silent and cut. */
  answerWithinMs?: number;
  /** Aborted when the worker stops: no more attempts to connect the listener. */
  signal?: AbortSignal;
}

type Release = (error?: Error | boolean) => void;
type ListenCallback = (error: Error | undefined, client?: pg.PoolClient, release?: Release) => void;

/**
 * The pool graphile-worker is given, guarding the one connection it keeps LISTENing for new jobs
 * (its only callback-style `connect`; every other use is unchanged). graphile-worker 0.16 and
 * 0.17 back off up to 60 s between reconnects of that connection, so after a 30 s outage new jobs
 * waited for the poll for up to a minute; and it sends no statement on it, so one that went
 * silent (a failover that blackholes TCP) was never noticed. Here a failed connect is retried
 * every second instead of being reported (graphile's backoff only counts errors it sees), and the
 * connected listener is asked `select 1` every 5 s: one that does not answer within 5 s is cut,
 * which graphile sees as a connection error and answers with a new LISTEN at once.
 */
export function guardQueueListener(pool: pg.Pool, options: ListenerGuardOptions): pg.Pool {
  const retryMs = options.retryMs ?? 1_000;
  const probeEveryMs = options.probeEveryMs ?? 5_000;
  const answerWithinMs = options.answerWithinMs ?? 5_000;
  const { logger } = options;

  const watch = (client: pg.PoolClient): (() => void) => {
    let probing = false;
    const timer = setInterval(() => {
      if (probing) return;
      probing = true;
      client
        .query({ text: 'select 1', query_timeout: answerWithinMs } as pg.QueryConfig)
        .then(
          () => undefined,
          (error: unknown) => {
            if (!(error instanceof Error) || error.message !== 'Query read timeout') return;
            logger.warn(
              `the queue's LISTEN connection did not answer within ${answerWithinMs} ms: reconnecting it`,
            );
            cutConnection(client);
          },
        )
        .finally(() => {
          probing = false;
        });
    }, probeEveryMs);
    timer.unref();
    return () => clearInterval(timer);
  };

  const connectListener = (callback: ListenCallback): void => {
    let failures = 0;
    const attempt = () => {
      if (options.signal?.aborted) {
        callback(new Error('the queue is stopping'));
        return;
      }
      pool.connect().then(
        (client) => {
          if (failures > 0) logger.info("the queue's LISTEN connection is back");
          const unwatch = watch(client);
          callback(undefined, client, (error) => {
            unwatch();
            client.release(error);
          });
        },
        (error: unknown) => {
          // An ending pool is a shutdown: graphile-worker is told, and stops listening.
          if ((pool as pg.Pool & { ending?: boolean }).ending) {
            callback(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (failures++ === 0)
            logger.warn(
              { reason: error instanceof Error ? error.message : String(error) },
              `the queue's LISTEN connection cannot connect: retrying every ${retryMs} ms`,
            );
          setTimeout(attempt, retryMs).unref();
        },
      );
    };
    attempt();
  };

  return new Proxy(pool, {
    get(target, property) {
      if (property === 'connect')
        return (callback?: ListenCallback) =>
          callback ? connectListener(callback) : target.connect();
      // Bound to the pool itself: its own methods (query, on) keep working on the real pool.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

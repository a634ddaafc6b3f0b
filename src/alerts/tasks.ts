import type { Logger } from 'pino';
import { type DeliveryDeps, deliver } from './deliver.js';
import { type AlertDeps, evaluateAll, evaluateWorkspace } from './evaluate.js';

/**
 * Alerts as a worker's work (DESIGN §18): the evaluation a run's end asks for, each delivery (queue
 * jobs: what the composing process hands `startWorker` as `jobs`), and a tick each minute for the
 * rules on a clock and any rule whose throttle has ended (its `upkeep`).
 */
export function alertWork(deps: AlertDeps & Omit<DeliveryDeps, 'db' | 'now'>) {
  const delivery: DeliveryDeps = {
    db: deps.db,
    ...(deps.smtpUrl ? { smtpUrl: deps.smtpUrl } : {}),
    ...(deps.smtpFrom ? { smtpFrom: deps.smtpFrom } : {}),
    ...(deps.retryBaseMs !== undefined ? { retryBaseMs: deps.retryBaseMs } : {}),
    ...(deps.allowPrivateAddresses ? { allowPrivateAddresses: true } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  };
  return {
    jobs: [
      {
        identifier: 'alerts.evaluate',
        async task(payload: unknown) {
          const { workspaceId } = payload as { workspaceId: string };
          await evaluateWorkspace(deps, workspaceId);
        },
      },
      {
        identifier: 'alerts.deliver',
        async task(payload: unknown) {
          const { deliveryId } = payload as { deliveryId: string };
          await deliver(delivery, deliveryId);
        },
      },
    ],
    /** The minute's tick (src/lifecycle/upkeep.ts): clock rules, and rules whose throttle ended. */
    upkeep: [
      {
        name: 'alerts',
        async run(logger: Logger) {
          const { sent } = await evaluateAll(deps);
          if (sent) logger.info({ sent }, 'alerts sent by the minute tick');
        },
      },
    ],
  };
}

import { z } from 'zod';
import { pause } from '../src/catalog/simulate.js';
import { defineOperation, type FlowSpec } from '../src/index.js';

// The operations of bench `fleet` (DESIGN §19), also the worker processes' RUNWARDEN_CONFIG. A
// fleet gives every child the same input, so each child's duration comes from its own run id:
// between `minMs` and `maxMs`, spread evenly.

const input = z.object({ minMs: z.number(), maxMs: z.number(), tag: z.string() });

const child = (type: string, flow?: FlowSpec) =>
  defineOperation({
    type,
    label: type,
    scope: 'tenant',
    input,
    identity: (i) => i,
    lifecycle: { retries: 0, queuedStaleAfterSeconds: 3_600 },
    ...(flow ? { flow } : {}),
    async run(ctx, i) {
      const spread = Number.parseInt(ctx.runId.slice(-4), 16) / 0xffff;
      await pause(i.minMs + spread * (i.maxMs - i.minMs), ctx.signal);
      return { outcome: 'succeeded' };
    },
  });

/** Straight onto the queue (no flow control). */
export const PLAIN = 'fleet.child';
/** Through flow control: held, then admitted by fair share (no limits). */
export const FAIR = 'fleet.fair';

export const catalog = [child(PLAIN), child(FAIR, {})];

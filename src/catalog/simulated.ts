import { z } from 'zod';
import type { LifecyclePolicy } from '../domain/lifecycle.js';
import { defineOperation, type OperationDefinition } from '../execution/operation.js';
import { type SimulationSettings, simulateItems } from './simulate.js';

interface SimulatedSpec {
  type: string;
  label: string;
  scope: 'tenant' | 'workspace';
  /** Items processed per run and simulated milliseconds per item (before `durationScale`). */
  items: number;
  msPerItem: number;
  countKey: string;
  lifecycle?: Partial<LifecyclePolicy>;
}

/** A demo operation over `{ scope: 'all' | 'changed' }` that simulates its work. */
export function simulatedOperation(
  spec: SimulatedSpec,
  settings: SimulationSettings,
): OperationDefinition {
  return defineOperation({
    type: spec.type,
    label: spec.label,
    scope: spec.scope,
    input: z.object({
      scope: z.enum(['all', 'changed']).default('all').meta({
        title: 'Scope',
        description: '"all" processes every item; "changed" only what changed since the last run.',
      }),
    }),
    identity: (input) => ({ scope: input.scope }),
    lifecycle: spec.lifecycle,
    run: (ctx, input) =>
      simulateItems(ctx, settings, {
        items: input.scope === 'all' ? spec.items : Math.ceil(spec.items / 4),
        msPerItem: spec.msPerItem,
        countKey: spec.countKey,
      }),
  }) as OperationDefinition;
}

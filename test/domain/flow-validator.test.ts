import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FlowPool, validateFlow, validateFlowPools } from '../../src/domain/flow.js';
import { defineOperation } from '../../src/execution/operation.js';
import { OperationRegistry } from '../../src/execution/registry.js';

const graph: FlowPool = {
  name: 'graph',
  concurrency: { perTenant: 4 },
  rate: { perTenant: { limit: 30, intervalSeconds: 60 } },
};
const context = { execution: 'queue' as const, queuedStaleSeconds: 900, pools: [graph] };

describe('validateFlow', () => {
  it('accepts a sound flow, and a type without one', () => {
    expect(
      validateFlow(
        'inventory.sync',
        {
          concurrency: { perTenant: 2, total: 40 },
          rate: { perTenant: { limit: 30, intervalSeconds: 60 } },
          pools: ['graph'],
        },
        context,
      ),
    ).toEqual([]);
    expect(validateFlow('inventory.sync', undefined, context)).toEqual([]);
  });

  it.each([
    [
      { concurrency: { perTenant: 0 } },
      /inventory.sync flow: concurrency.perTenant must be a whole number ≥ 1, got 0/,
    ],
    [{ concurrency: { total: 2.5 } }, /concurrency.total must be a whole number ≥ 1, got 2.5/],
    [
      { concurrency: { perTenant: 5, total: 2 } },
      /concurrency.perTenant \(5\) is above concurrency.total \(2\)/,
    ],
    [
      { concurrency: { perTennant: 2 } },
      /inventory.sync flow concurrency: unknown setting "perTennant"/,
    ],
    [
      { rate: { perTenant: { limit: -1, intervalSeconds: 60 } } },
      /rate.perTenant.limit must be a whole number ≥ 1, got -1/,
    ],
    [
      { rate: { total: { limit: 5, intervalSeconds: 0 } } },
      /rate.total.intervalSeconds must be a positive number of seconds, got 0/,
    ],
    [
      { rate: { total: { limit: 5, intervalSeconds: 1e-300 } } },
      /rate.total.intervalSeconds must be at least 1 second, got 1e-300/,
    ],
    [
      { rate: { perTenant: { limit: 1, intervalSeconds: 900 } } },
      /rate.perTenant.intervalSeconds \(900\) must stay below queuedStaleAfterSeconds \(900\)/,
    ],
    [{ rate: { perTenant: 10 } }, /rate.perTenant must be \{ limit, intervalSeconds \}/],
    [{ pools: ['graf'] }, /pool "graf" is not declared in the catalog's flowPools/],
    [{ pools: ['graph', 'graph'] }, /a pool is named twice/],
    [{ pools: 'graph' }, /pools must be a list of pool names/],
    [{ limits: {} }, /inventory.sync flow: unknown setting "limits"/],
  ])('refuses %j', (flow, message) => {
    const problems = validateFlow('inventory.sync', flow, context);
    expect(problems.join('\n')).toMatch(message);
  });

  it('checks a pool’s rate window against each type that draws from it', () => {
    const slow: FlowPool = { name: 'slow', rate: { total: { limit: 1, intervalSeconds: 120 } } };
    expect(
      validateFlow(
        'quick.type',
        { pools: ['slow'] },
        { ...context, queuedStaleSeconds: 60, pools: [slow] },
      ),
    ).toEqual([
      'quick.type flow: pool "slow" rate.total.intervalSeconds (120) must stay below queuedStaleAfterSeconds (60) of quick.type',
    ]);
  });

  it('refuses flow on an external type', () => {
    expect(
      validateFlow(
        'ext.sync',
        { concurrency: { total: 1 } },
        { ...context, execution: 'external' },
      ),
    ).toEqual([
      "ext.sync flow: flow control applies to queue types; an external type's runs run elsewhere",
    ]);
  });
});

describe('validateFlowPools', () => {
  it('accepts sound pools and none', () => {
    expect(validateFlowPools([graph])).toEqual([]);
    expect(validateFlowPools(undefined)).toEqual([]);
  });

  it('refuses duplicates, bad names, pools without a limit and bad settings', () => {
    const problems = validateFlowPools([
      graph,
      graph,
      { name: 'Graph API', concurrency: { total: 1 } },
      { name: 'empty' },
      { name: 'bad', concurrency: { total: 0 } },
      'graph',
    ]).join('\n');
    expect(problems).toMatch(/flow pool "graph" is declared twice/);
    expect(problems).toMatch(/flow pool "Graph API": a name is lowercase/);
    expect(problems).toMatch(/flow pool "empty" sets no limit/);
    expect(problems).toMatch(
      /flow pool "bad": concurrency.total must be a whole number ≥ 1, got 0/,
    );
    expect(problems).toMatch(/flowPools\[5\] must be \{ name, concurrency\?, rate\? \}/);
  });
});

describe('the registry', () => {
  const op = (flow: unknown) =>
    defineOperation({
      type: 'inventory.sync',
      label: 'Inventory sync',
      scope: 'tenant',
      input: z.object({}),
      identity: () => ({}),
      flow: flow as never,
      async run() {
        return { outcome: 'succeeded' };
      },
    });

  it('reports flow problems with the lifecycle ones, and refuses to boot on them', () => {
    const registry = new OperationRegistry([op({ pools: ['graph'] })]);
    expect(registry.policyProblems()).toEqual([
      'inventory.sync flow: pool "graph" is not declared in the catalog\'s flowPools',
    ]);
    expect(() => registry.assertValid()).toThrow(/invalid lifecycle or flow policy/);
    const sound = new OperationRegistry([op({ pools: ['graph'] })], undefined, {
      flowPools: [graph],
    });
    expect(sound.policyProblems()).toEqual([]);
  });

  it('refuses a pool named like a type: one name would stand for two limits, and the pool would be lost', () => {
    // flowLimits keys limits by name: the type's own limit replaced the pool's, so the pool's
    // concurrency was never enforced and overrides of the name reached only the type.
    const clash = new OperationRegistry(
      [op({ concurrency: { perTenant: 5 }, pools: ['inventory.sync'] })],
      undefined,
      { flowPools: [{ name: 'inventory.sync', concurrency: { perTenant: 1 } }] },
    );
    expect(clash.policyProblems()).toEqual([
      'flow pool "inventory.sync" has the name of an operation type: give the pool a name of its own',
    ]);
    expect(() => clash.assertValid()).toThrow(/has the name of an operation type/);
  });
});

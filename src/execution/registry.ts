import type { z } from 'zod';
import { type FlowPool, validateFlow, validateFlowPools } from '../domain/flow.js';
import {
  DEFAULT_POLICY,
  type LifecyclePolicy,
  type PolicyOf,
  resolvePolicy,
} from '../domain/lifecycle.js';
import { validatePolicy } from '../domain/policy-validator.js';
import type { OperationDefinition } from './operation.js';

const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export interface RegisteredOperation extends OperationDefinition<z.ZodType> {
  execution: 'queue' | 'external';
  policy: LifecyclePolicy;
  /** The queue task name jobs of this type run under. */
  taskIdentifier: string;
}

/** The catalog of operation types a process knows, with their resolved policies. */
export class OperationRegistry {
  readonly #operations = new Map<string, RegisteredOperation>();
  readonly #defaults: LifecyclePolicy;
  /** The catalog's shared flow limits (`flowPools`, DESIGN §17). */
  readonly flowPools: FlowPool[];

  constructor(
    operations: ReadonlyArray<OperationDefinition<z.ZodType>> = [],
    defaults = DEFAULT_POLICY,
    options: { flowPools?: FlowPool[] } = {},
  ) {
    this.#defaults = defaults;
    this.flowPools = options.flowPools ?? [];
    for (const operation of operations) this.register(operation);
  }

  register(operation: OperationDefinition<z.ZodType>): RegisteredOperation {
    if (!TYPE_PATTERN.test(operation.type)) {
      throw new Error(
        `operation type "${operation.type}" must be dotted lowercase, e.g. inventory.sync`,
      );
    }
    if (this.#operations.has(operation.type))
      throw new Error(`operation type "${operation.type}" is defined twice`);
    const registered: RegisteredOperation = {
      ...operation,
      execution: operation.execution ?? 'queue',
      policy: resolvePolicy(operation.lifecycle, this.#defaults),
      taskIdentifier: `runwarden:${operation.type}`,
    };
    this.#operations.set(operation.type, registered);
    return registered;
  }

  get(type: string): RegisteredOperation | undefined {
    return this.#operations.get(type);
  }

  /** The `PolicyOf` port: a known type's policy, else the defaults. */
  readonly policyOf: PolicyOf = (type) => this.#operations.get(type)?.policy ?? this.#defaults;

  /** The catalog's types: Runwarden's own (`internal`, e.g. bulk actions) are left out. */
  list(): RegisteredOperation[] {
    return [...this.#operations.values()].filter((op) => !op.internal);
  }

  /** Every type a worker runs on the queue, Runwarden's own included. */
  queueOperations(): RegisteredOperation[] {
    return [...this.#operations.values()].filter((op) => op.execution === 'queue');
  }

  /** Every misaligned lifecycle or flow setting of every type, one message each (DESIGN §5, §17). */
  policyProblems(): string[] {
    const pools = validateFlowPools(this.flowPools);
    // Limits go by name (a type's own and each pool's): one name for both would lose the pool.
    const clashes = (Array.isArray(this.flowPools) ? this.flowPools : [])
      .filter((pool) => this.#operations.has(pool?.name))
      .map(
        (pool) =>
          `flow pool "${pool.name}" has the name of an operation type: give the pool a name of its own`,
      );
    return [...pools, ...clashes, ...this.list().flatMap((op) => this.#problemsOf(op))];
  }

  #problemsOf(op: RegisteredOperation): string[] {
    return [
      ...validatePolicy(op.type, { ...op.lifecycle }),
      ...validateFlow(op.type, op.flow, {
        execution: op.execution,
        queuedStaleSeconds: op.policy.queuedStaleAfterSeconds,
        pools: Array.isArray(this.flowPools) ? this.flowPools : [],
      }),
      ...(op.policy.terminalTruth === 'reconcile_only' && !op.reconcile
        ? [
            `${op.type}: terminalTruth "reconcile_only" needs a reconcile(run) adapter: only it ` +
              'may end such a run, and without one the reconciler could only fail it',
          ]
        : []),
    ];
  }

  /** Throws with every problem when any type's policy is invalid: no process starts on one. */
  assertValid(): void {
    const problems = this.policyProblems();
    if (problems.length > 0) {
      throw new Error(
        `invalid lifecycle or flow policy:\n  - ${problems.join('\n  - ')}\nRun \`runwarden validate\` for details.`,
      );
    }
  }
}

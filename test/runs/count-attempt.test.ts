import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../src/catalog/index.js';
import { DEFAULT_RUN_LOG_CAPS } from '../../src/domain/run-log-lines.js';
import { contextFor, persistentRuns } from '../../src/execution/persistent-runs.js';
import { ProgressCoalescer } from '../../src/execution/progress-coalescer.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { RunLogBuffer } from '../../src/execution/run-log-buffer.js';
import { RunService } from '../../src/runs/run-service.js';
import { freshDatabase } from '../support/db.js';
import { seedScope } from '../support/fixtures.js';
import { queuedRuns } from '../support/operations.js';
import { quietLogger } from '../support/worker.js';

// A run's counts are its last attempt's (issue 25): a handler's `ctx.count` that lands after its
// attempt ended (a failed attempt requeued the run and reset its counts first; the count's write
// was retried through an outage, or raced the failure) must not be added to the next attempt's.

const t = await freshDatabase();
const runs = new RunService({ db: t.db });
const registry = new OperationRegistry(
  demoCatalog({ durationScale: 0, errorRate: 0, partialRate: 0 }),
);
const scope = await seedScope(t.db);
const queued = queuedRuns(() => ({ t, scope, runs, registry }));

describe("a handler's count after its attempt ended", () => {
  it('changes nothing; the running attempt’s own counts still add up', async () => {
    const run = await queued();
    const first = await runs.markRunning(run.id, { workerId: 'w-1' });
    if (!first.moved) throw new Error('the run did not start');
    const operation = registry.get(run.type);
    if (!operation) throw new Error('no such type');
    const writes = persistentRuns(runs, operation, quietLogger);
    const context = (row: typeof first.run) =>
      contextFor(
        row,
        new AbortController().signal,
        writes,
        new ProgressCoalescer(async () => undefined, { log: quietLogger }),
        new RunLogBuffer(async () => undefined, { caps: DEFAULT_RUN_LOG_CAPS, log: quietLogger }),
        quietLogger,
      );
    const attempt1 = context(first.run);
    await attempt1.count('rows', 25);
    expect((await runs.get(run.id))?.summary_counts).toEqual({ rows: 25 });

    await runs.recordAttemptFailure(run.id, new Error('boom'));
    await attempt1.count('rows', 100); // late: the attempt is over
    expect((await runs.get(run.id))?.summary_counts).toEqual({});

    const second = await runs.markRunning(run.id, { workerId: 'w-2' });
    if (!second.moved) throw new Error('the run did not start again');
    await attempt1.count('rows', 100); // still late: another attempt runs now
    await context(second.run).count('rows', 5);
    expect((await runs.get(run.id))?.summary_counts).toEqual({ rows: 5 });
  });
});

// A reconciler sweep in a process of its own that freezes (SIGSTOP) while it holds the sweep
// lock: `frozenProbe`'s adapter, asked about a stale run, stops the process mid-sweep.
// Usage: node --import tsx test/support/frozen-sweeper.ts <database url>
import pino from 'pino';
import { createDb } from '../../src/db/pool.js';
import { OperationRegistry } from '../../src/execution/registry.js';
import { reconcile } from '../../src/lifecycle/reconciler.js';
import { RunService } from '../../src/runs/run-service.js';
import { frozenProbe } from './frozen-probe.js';

const db = createDb(process.argv[2] ?? '', { max: 3 });
const runs = new RunService({ db });
const registry = new OperationRegistry([frozenProbe]);
await reconcile({ db, runs, registry, logger: pino({ level: 'silent' }) });
await db.destroy();

/**
 * Runwarden's public library API: define operation types, start runs, run workers.
 * See README "Defining an operation".
 */

export type {
  CallOptions as DirectoryCallOptions,
  Directory,
  DirectoryActor,
  DirectoryChange,
  DirectoryFileInput,
  DirectoryResult,
  Invite,
  MemberView,
  Outcome as DirectoryOutcome,
} from './access/directory.js';
export type { HostPrincipal } from './access/host-grants.js';
export { type DbTimeouts, DEFAULT_DB_TIMEOUTS } from './config.js';
export type { RunRow } from './db/schema.js';
export { RunwardenError } from './domain/errors.js';
export type { FlowLimits, FlowPool, FlowSpec, RateLimit } from './domain/flow.js';
export type { LifecyclePolicy } from './domain/lifecycle.js';
export type { RunOutcome, RunStatus, TerminalOutcome } from './domain/run.js';
export type { ExternalReport } from './execution/external.js';
export {
  defineOperation,
  type ExternalState,
  type OperationDefinition,
  type RunContext,
  type RunResult,
} from './execution/operation.js';
export { OperationRegistry } from './execution/registry.js';
export type { StartRequest } from './execution/start.js';
export type { WorkerHandle } from './execution/worker.js';
export { RunService } from './runs/run-service.js';
export {
  createRunwarden,
  type ReconcilerHandle,
  type Runwarden,
  type RunwardenOptions,
  type RunwardenReconcilerOptions,
  type RunwardenStartRequest,
  type RunwardenWorkerOptions,
} from './runwarden.js';

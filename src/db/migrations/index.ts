import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as completedIndex from './0002_completed_index.js';
import * as accessAndPush from './0003_access_and_push.js';
import * as summaryIndex from './0004_summary_index.js';
import * as runAutovacuum from './0005_run_autovacuum.js';
import * as workerSlots from './0006_worker_slots.js';
import * as loginThrottle from './0007_login_throttle.js';
import * as directory from './0008_directory.js';
import * as handedBackEvent from './0009_handed_back_event.js';
import * as completionTotals from './0010_completion_totals.js';
import * as deferredRunNotify from './0011_deferred_run_notify.js';
import * as notifyWhenNotDeferred from './0012_notify_when_not_deferred.js';
import * as ssoIdentity from './0013_sso_identity.js';
import * as pendingMemberships from './0014_pending_memberships.js';
import * as serviceTokens from './0015_service_tokens.js';
import * as workerBeat from './0016_worker_beat.js';
import * as offerPasswords from './0017_offer_passwords.js';
import * as flowControl from './0018_flow_control.js';
import * as fleet from './0019_fleet.js';
import * as runLogs from './0020_run_logs.js';
import * as workerFacts from './0021_worker_facts.js';
import * as operatorTools from './0022_operator_tools.js';
import * as failureCodeIndex from './0023_failure_code_index.js';
import * as runRollups from './0024_run_rollups.js';
import * as alerts from './0025_alerts.js';

/** Every migration in order. Append only; never edit or reorder a released entry. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_completed_index': completedIndex,
  '0003_access_and_push': accessAndPush,
  '0004_summary_index': summaryIndex,
  '0005_run_autovacuum': runAutovacuum,
  '0006_worker_slots': workerSlots,
  '0007_login_throttle': loginThrottle,
  '0008_directory': directory,
  '0009_handed_back_event': handedBackEvent,
  '0010_completion_totals': completionTotals,
  '0011_deferred_run_notify': deferredRunNotify,
  '0012_notify_when_not_deferred': notifyWhenNotDeferred,
  '0013_sso_identity': ssoIdentity,
  '0014_pending_memberships': pendingMemberships,
  '0015_service_tokens': serviceTokens,
  '0016_worker_beat': workerBeat,
  '0017_offer_passwords': offerPasswords,
  '0018_flow_control': flowControl,
  '0019_fleet': fleet,
  '0020_run_logs': runLogs,
  '0021_worker_facts': workerFacts,
  '0022_operator_tools': operatorTools,
  '0023_failure_code_index': failureCodeIndex,
  '0024_run_rollups': runRollups,
  '0025_alerts': alerts,
};

import { Button, Loader } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { useRetryFailed } from '../api/fleet-queries';
import { useCancelRun, useRun } from '../api/queries';
import { can, useShell } from '../app/workspace';
import { ConfirmButton } from '../components/ConfirmButton';
import { FleetChildren } from '../components/FleetChildren';
import { RunAgainButton } from '../components/RerunDialog';
import { RunDetailView } from '../components/RunDetailView';
import { NotFoundPage } from './NotFoundPage';

/** `/admin/operations/:id`, the canonical run page; a run you may not see is "not found". */
export function RunPage() {
  const { id = '' } = useParams();
  const { me } = useShell();
  const run = useRun(id);
  const cancel = useCancelRun();
  const retryFailed = useRetryFailed();
  const navigate = useNavigate();
  if (run.isPending) return <Loader aria-label="Loading" />;
  if (run.isError) {
    if (run.error instanceof ApiError && (run.error.status === 404 || run.error.status === 400)) {
      return <NotFoundPage what="run" />;
    }
    return <Button onClick={() => run.refetch()}>Could not load the run — try again</Button>;
  }
  const workspace = me.workspaces.find((w) => w.id === run.data.workspaceId);
  const active = run.data.truth.bucket === 'active' || run.data.truth.bucket === 'active_stale';
  const cancellable =
    active && !run.data.cancelRequestedAt && workspace?.capabilities.includes('operations.cancel');
  const fleet = run.data.fleet;
  // A finished fleet: its tenants that did not succeed can run again, as a new fleet.
  const notSucceeded = fleet ? fleet.total - (fleet.byOutcome.succeeded ?? 0) : 0;
  const retryable =
    !active && notSucceeded > 0 && workspace?.capabilities.includes('operations.start');
  return (
    <RunDetailView
      run={run.data}
      below={run.data.fleet && <FleetChildren run={run.data} workspace={workspace} />}
      actions={
        <>
          {cancellable && (
            <ConfirmButton
              label="Cancel run"
              color="red"
              question={
                fleet
                  ? "Cancel this fleet run? Its tenants' queued runs stop at once; running ones at their next check."
                  : 'Cancel this run? A queued run stops at once; a running one at its next check.'
              }
              onConfirm={() => cancel.mutateAsync(run.data.id)}
            />
          )}
          {!fleet && can(workspace, 'operations.start') && <RunAgainButton run={run.data} />}
          {retryable && (
            <ConfirmButton
              label="Retry tenants that did not succeed"
              question={`Start ${run.data.typeLabel} again on the ${notSucceeded} tenant${notSucceeded === 1 ? '' : 's'} that did not succeed, as a new fleet run?`}
              onConfirm={async () => {
                const retried = await retryFailed.mutateAsync(run.data.id);
                navigate(retried.run.links.view);
              }}
            />
          )}
        </>
      }
    />
  );
}

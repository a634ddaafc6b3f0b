import { Button, Loader } from '@mantine/core';
import { useParams } from 'react-router';
import { ApiError } from '../api/client';
import { useCancelRun, useRun } from '../api/queries';
import { useShell } from '../app/workspace';
import { ConfirmButton } from '../components/ConfirmButton';
import { FleetChildren } from '../components/FleetChildren';
import { RunDetailView } from '../components/RunDetailView';
import { NotFoundPage } from './NotFoundPage';

/** `/admin/operations/:id`, the canonical run page; a run you may not see is "not found". */
export function RunPage() {
  const { id = '' } = useParams();
  const { me } = useShell();
  const run = useRun(id);
  const cancel = useCancelRun();
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
  return (
    <RunDetailView
      run={run.data}
      below={run.data.fleet && <FleetChildren run={run.data} workspace={workspace} />}
      actions={
        cancellable && (
          <ConfirmButton
            label="Cancel run"
            color="red"
            question={
              run.data.fleet
                ? "Cancel this fleet run? Its tenants' queued runs stop at once; running ones at their next check."
                : 'Cancel this run? A queued run stops at once; a running one at its next check.'
            }
            onConfirm={() => cancel.mutateAsync(run.data.id)}
          />
        )
      }
    />
  );
}

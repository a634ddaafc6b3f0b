import { Loader } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';
import { useRun, useTriage } from '../../api/queries';
import { useShell } from '../../app/workspace';
import { ConfirmButton } from '../../components/ConfirmButton';
import { RunDetailView } from '../../components/RunDetailView';
import { NotFoundPage } from '../NotFoundPage';

/** `/system/ops/runs/:id`: a run across workspaces, with triage behind confirmations (audited). */
export function SystemRunPage() {
  const { id = '' } = useParams();
  const { me } = useShell();
  const navigate = useNavigate();
  const run = useRun(id, 'system');
  const triage = useTriage();
  if (!me.platform.capabilities.includes('system.ops.view')) return <NotFoundPage />;
  if (run.isPending) return <Loader aria-label="Loading" />;
  if (run.isError) return <NotFoundPage what="run" />;
  const mayTriage = me.platform.capabilities.includes('system.ops.triage');
  const bucket = run.data.truth.bucket;
  const active = bucket === 'active' || bucket === 'active_stale';
  const problem = run.data.truth.problemClass !== 'none';
  return (
    <RunDetailView
      run={run.data}
      plane="system"
      member={me.workspaces.some((w) => w.id === run.data.workspaceId)}
      actions={
        mayTriage && (
          <>
            {!active && (
              <ConfirmButton
                label="Retry"
                question="Start a new run with the same input? It is recorded in the audit log."
                onConfirm={async () => {
                  const result = await triage.mutateAsync({ id: run.data.id, action: 'retry' });
                  navigate(`/system/ops/runs/${result.run.id}`);
                }}
              />
            )}
            {active && (
              <ConfirmButton
                label="Cancel"
                color="red"
                question="Cancel this run? It is recorded in the audit log."
                onConfirm={() => triage.mutateAsync({ id: run.data.id, action: 'cancel' })}
              />
            )}
            {!active && problem && !run.data.reviewedAt && (
              <ConfirmButton
                label="Mark reviewed"
                question="Mark this run reviewed? It leaves the failures list; it is recorded in the audit log."
                onConfirm={() => triage.mutateAsync({ id: run.data.id, action: 'mark-reviewed' })}
              />
            )}
          </>
        )
      }
    />
  );
}

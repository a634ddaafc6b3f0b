import { Alert, Anchor, Button, Group, Modal, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { Link } from 'react-router';
import { type BulkTarget, type BulkVerb, useBulkAction, useBulkPreview } from '../api/bulk-queries';
import { ApiError } from '../api/client';
import { refusalText } from '../api/flow-queries';

const WORDS: Record<BulkVerb, { title: string; doing: string; note: string; keep: string }> = {
  cancel: {
    title: 'Cancel runs',
    doing: 'Cancelling',
    note: 'Queued runs are cancelled at once; running ones are asked to stop.',
    keep: 'Keep them',
  },
  retry: {
    title: 'Retry runs',
    doing: 'Retrying',
    note: 'Each run that did not succeed starts again as a new run.',
    keep: 'Not now',
  },
};

const runs = (n: number) => `${n.toLocaleString()} run${n === 1 ? '' : 's'}`;

/** A refusal in words: "You may not cancel runs here" rather than a status code. */
function refusal(action: BulkVerb, error: Error): string {
  if (error instanceof ApiError && error.status === 403) return `You may not ${action} runs here.`;
  return refusalText(error);
}

/**
 * The bulk action's confirmation: the server's preview count first (`dryRun`), then the action
 * itself, whose tracked run the toast links to.
 */
export function BulkConfirm(props: {
  ws: string;
  action: BulkVerb | null;
  target: BulkTarget;
  onClose: () => void;
  onDone: () => void;
}) {
  const { action, onClose } = props;
  return (
    <Modal opened={action !== null} onClose={onClose} title={WORDS[action ?? 'cancel'].title}>
      {/* Mounted per opening, so each one asks for a fresh count. */}
      {action && <BulkConfirmBody {...props} verb={action} />}
    </Modal>
  );
}

function BulkConfirmBody({
  ws,
  verb,
  target,
  onClose,
  onDone,
}: {
  ws: string;
  verb: BulkVerb;
  target: BulkTarget;
  onClose: () => void;
  onDone: () => void;
}) {
  const words = WORDS[verb];
  const preview = useBulkPreview(ws, verb, target);
  const act = useBulkAction(ws);
  const count = preview.data?.count;
  const confirm = () =>
    act.mutate(
      { action: verb, target },
      {
        onSuccess: ({ run, count: acted }) => {
          notifications.show({
            color: 'green',
            title: `${words.doing} ${runs(acted)}`,
            message: (
              <Anchor
                component={Link}
                to={run.links.view}
                size="sm"
                data-testid="toast-bulk-progress"
              >
                View progress
              </Anchor>
            ),
          });
          onDone();
        },
      },
    );
  return (
    <div data-testid="bulk-confirm">
      {preview.isPending ? (
        <Text size="sm">Counting the runs…</Text>
      ) : preview.isError ? (
        <Alert color="red" role="alert" data-testid="bulk-refusal">
          {refusal(verb, preview.error)}
        </Alert>
      ) : count === 0 ? (
        <Text size="sm" data-testid="bulk-preview">
          None of these runs can be {verb === 'cancel' ? 'cancelled' : 'retried'} now.
        </Text>
      ) : (
        <>
          <Text size="sm" data-testid="bulk-preview">
            This will {verb} {runs(count ?? 0)}.
          </Text>
          <Text size="xs" c="dimmed" mt={4}>
            {words.note} Runs that change meanwhile are left alone.
          </Text>
        </>
      )}
      {act.isError && (
        <Alert color="red" role="alert" mt="md" data-testid="bulk-refusal">
          {refusal(verb, act.error)}
        </Alert>
      )}
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onClose}>
          {words.keep}
        </Button>
        <Button
          color={verb === 'cancel' ? 'red' : 'blue'}
          loading={act.isPending}
          disabled={!count}
          onClick={confirm}
        >
          {verb === 'cancel' ? 'Cancel' : 'Retry'} {count ? runs(count) : 'runs'}
        </Button>
      </Group>
    </div>
  );
}

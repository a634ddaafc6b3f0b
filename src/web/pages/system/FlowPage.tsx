import { Alert, Badge, Code, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useFlowLimits, useRestoreLimit } from '../../api/flow-queries';
import { useOperationTypes } from '../../api/queries';
import type { FlowLimitView } from '../../api/types';
import { useShell } from '../../app/workspace';
import { ConfirmAction } from '../../components/ConfirmAction';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';
import { DataList } from '../settings/DataList';
import { concurrencyText, rateText } from './flow-format';
import { LimitOverrideForm } from './LimitOverrideForm';

/**
 * `/system/flow`: every type's and pool's limits in force, with the runs each counts now, for
 * platform staff (system.ops.view); with system.ops.triage, an override per limit and the way back
 * to the catalog's. Re-read every few seconds and on focus.
 */
export function FlowPage() {
  const { me } = useShell();
  const limits = useFlowLimits();
  const types = useOperationTypes();
  const platform = me.platform.capabilities;
  if (!platform.includes('system.ops.view')) return <NotFoundPage />;
  const triage = platform.includes('system.ops.triage');
  const label = (type: string) => types.data?.find((t) => t.type === type)?.label ?? type;
  const items = limits.data?.limits ?? [];

  return (
    <Stack>
      <Title order={1} size="h2">
        Flow limits
      </Title>
      <Text size="sm" c="dimmed">
        Each operation type&apos;s and shared pool&apos;s limits in force, with the runs they count
        now. An override replaces the catalog&apos;s limits at runtime until it is put back.
      </Text>
      {limits.isPending ? (
        <Loader aria-label="Loading" />
      ) : limits.isError ? (
        <Alert color="red" role="alert">
          {limits.error.message}
        </Alert>
      ) : items.length === 0 ? (
        <Text size="sm">No operation type or pool declares a flow limit.</Text>
      ) : (
        <DataList
          testId="flow-limits"
          minWidth={900}
          rows={items}
          rowKey={(l) => l.name}
          attrs={(l) => ({ 'data-limit': l.name })}
          columns={[
            { label: 'Limit', cell: (l) => <LimitName limit={l} /> },
            {
              label: 'Types',
              cell: (l) => (
                <Text size="sm" data-testid="limit-types">
                  {l.types.map(label).join(', ')}
                </Text>
              ),
            },
            {
              label: 'Running at once',
              cell: (l) => (
                <InForce
                  now={concurrencyText(l.concurrency)}
                  declared={l.override ? concurrencyText(l.declared.concurrency) : null}
                  testId="limit-concurrency"
                />
              ),
            },
            {
              label: 'Starts per window',
              cell: (l) => (
                <InForce
                  now={rateText(l.rate)}
                  declared={l.override ? rateText(l.declared.rate) : null}
                  testId="limit-rate"
                />
              ),
            },
            {
              label: 'Running',
              cell: (l) => <span data-testid="limit-running">{l.running.toLocaleString()}</span>,
            },
            {
              label: 'Waiting',
              cell: (l) => <span data-testid="limit-waiting">{l.waiting.toLocaleString()}</span>,
            },
            ...(triage
              ? [
                  {
                    label: 'Actions',
                    wide: true,
                    cell: (l: FlowLimitView) => <Actions limit={l} />,
                  },
                ]
              : []),
          ]}
        />
      )}
    </Stack>
  );
}

function LimitName({ limit }: { limit: FlowLimitView }) {
  return (
    <Stack gap={4} align="flex-start">
      <Code>{limit.name}</Code>
      <Group gap={4}>
        <Badge size="sm" variant="light" color="gray">
          {limit.kind === 'pool' ? 'Pool' : 'Type'}
        </Badge>
        {limit.override && (
          <Badge size="sm" variant="light" color="orange" data-testid="limit-overridden">
            Overridden
          </Badge>
        )}
      </Group>
      {limit.override && <Ago iso={limit.override.updatedAt} prefix="overridden" />}
    </Stack>
  );
}

/** The value in force; under an override, the catalog's own beneath it. */
function InForce({
  now,
  declared,
  testId,
}: {
  now: string;
  declared: string | null;
  testId: string;
}) {
  return (
    <Stack gap={0}>
      <Text size="sm" data-testid={testId}>
        {now}
      </Text>
      {declared !== null && (
        <Text size="xs" c="dimmed" data-testid={`${testId}-declared`}>
          Catalog: {declared}
        </Text>
      )}
    </Stack>
  );
}

function Actions({ limit }: { limit: FlowLimitView }) {
  const restore = useRestoreLimit();
  return (
    <Group gap="xs">
      <LimitOverrideForm limit={limit} />
      {limit.override && (
        <ConfirmAction
          label="Back to catalog limits"
          ariaLabel={`Back to catalog limits for ${limit.name}`}
          confirmLabel="Put them back"
          dismissLabel="Keep the override"
          color="indigo"
          question={`Put the catalog's limits of ${limit.name} back? Every worker applies them within a second.`}
          onConfirm={async () => {
            await restore.mutateAsync(limit.name);
            notifications.show({
              color: 'green',
              message: `${limit.name}: the catalog's limits again.`,
            });
          }}
        />
      )}
    </Group>
  );
}

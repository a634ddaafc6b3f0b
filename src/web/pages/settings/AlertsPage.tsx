import { Badge, Button, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import {
  type AlertDeliveryView,
  type AlertRuleView,
  useAlertDeliveries,
  useAlertRules,
  useDeleteAlertRule,
  useTestAlertRule,
} from '../../api/alert-queries';
import { useTenants } from '../../api/directory-queries';
import { ConfirmAction } from '../../components/ConfirmAction';
import { Ago } from '../../components/RunTime';
import { NotFoundPage } from '../NotFoundPage';
import { AlertRuleForm } from './AlertRuleForm';
import { FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { DataList } from './DataList';

/** `/settings/w/:workspace/alerts`: alert rules and their deliveries (workspace.manage). */
export function AlertsPage() {
  const workspace = useManagedWorkspace('workspace.manage');
  if (!workspace) return <NotFoundPage />;
  return <Alerts slug={workspace.slug} name={workspace.name} />;
}

function Alerts({ slug, name }: { slug: string; name: string }) {
  const rules = useAlertRules(slug);
  const tenants = useTenants(slug);
  const [shown, setShown] = useState<string | null>(null);
  if (isDenied(rules.error)) return <NotFoundPage what="workspace" />;
  if (rules.isPending) return <Loader aria-label="Loading" />;
  const items = rules.data?.items ?? [];
  const open = items.find((r) => r.id === shown);
  return (
    <Stack>
      <SettingsTitle title="Alerts" workspace={name} />
      <FormError error={rules.error} />
      <AlertRuleForm
        workspace={slug}
        tenants={(tenants.data?.items ?? []).map((t) => ({ id: t.id, name: t.name }))}
      />
      <DataList
        testId="alert-rules"
        minWidth={900}
        rows={items}
        rowKey={(r) => r.id}
        attrs={(r) => ({ 'data-rule': r.name })}
        columns={[
          { label: 'Name', cell: (r) => <Text fw={600}>{r.name}</Text> },
          { label: 'When', cell: (r) => <Text size="sm">{r.description}</Text> },
          { label: 'Tells', cell: (r) => <Destination rule={r} /> },
          {
            label: 'Last alert',
            cell: (r) => (
              <Stack gap={0}>
                {r.lastAlertAt ? (
                  <Ago iso={r.lastAlertAt} size="sm" />
                ) : (
                  <Text size="sm">Never</Text>
                )}
                {r.pendingCount > 0 && (
                  <Text size="xs" c="dimmed" data-testid="rule-held">
                    {r.pendingCount} held back (at most one per {r.throttleMinutes} min)
                  </Text>
                )}
              </Stack>
            ),
          },
          {
            label: 'Actions',
            wide: true,
            cell: (r) => <RuleActions slug={slug} rule={r} onShow={() => setShown(r.id)} />,
          },
        ]}
      />
      {items.length === 0 && (
        <Text c="dimmed" size="sm">
          No alert rules yet: nobody is told when runs fail, unless they started them.
        </Text>
      )}
      {open && <Deliveries slug={slug} rule={open} />}
    </Stack>
  );
}

function Destination({ rule }: { rule: AlertRuleView }) {
  const d = rule.destination;
  const text = d.kind === 'email' ? d.to.join(', ') : d.url;
  const label = { webhook: 'Webhook', slack: 'Slack', email: 'Email' }[d.kind];
  return (
    <Text size="sm" style={{ wordBreak: 'break-all' }}>
      {label}: {text}
    </Text>
  );
}

function RuleActions({
  slug,
  rule,
  onShow,
}: {
  slug: string;
  rule: AlertRuleView;
  onShow: () => void;
}) {
  const test = useTestAlertRule(slug, rule.id);
  const remove = useDeleteAlertRule(slug);
  return (
    <Group gap="xs" wrap="wrap">
      <Button
        size="xs"
        variant="light"
        loading={test.isPending}
        onClick={() => {
          test.mutate(undefined, { onSuccess: onShow });
        }}
        aria-label={`Send test: ${rule.name}`}
      >
        Send test
      </Button>
      <Button size="xs" variant="default" onClick={onShow} aria-label={`Deliveries: ${rule.name}`}>
        Deliveries
      </Button>
      <ConfirmAction
        label="Delete"
        ariaLabel={`Delete ${rule.name}`}
        question={`Delete ${rule.name}? Its deliveries go with it.`}
        onConfirm={() => remove.mutateAsync(rule.id)}
      />
    </Group>
  );
}

const STATUS_COLOR: Record<AlertDeliveryView['status'], string> = {
  pending: 'yellow',
  delivered: 'green',
  failed: 'red',
};

function Deliveries({ slug, rule }: { slug: string; rule: AlertRuleView }) {
  const deliveries = useAlertDeliveries(slug, rule.id);
  return (
    <Stack gap="xs" data-testid="deliveries">
      <Title order={2} size="h4">
        Deliveries of {rule.name}
      </Title>
      <FormError error={deliveries.error} />
      <DataList
        testId="deliveries-table"
        minWidth={760}
        rows={deliveries.data?.items ?? []}
        rowKey={(d) => d.id}
        attrs={(d) => ({ 'data-delivery': d.id })}
        columns={[
          { label: 'Created', cell: (d) => <Ago iso={d.createdAt} size="sm" /> },
          {
            label: 'Status',
            cell: (d) => (
              <Group gap={4}>
                <Badge color={STATUS_COLOR[d.status]} variant="light" data-testid="delivery-status">
                  {d.status}
                </Badge>
                {d.test && (
                  <Badge color="gray" variant="outline">
                    test
                  </Badge>
                )}
              </Group>
            ),
          },
          { label: 'Runs', cell: (d) => d.count.toLocaleString() },
          { label: 'Attempts', cell: (d) => d.attempts },
          {
            label: 'Last error',
            cell: (d) => (
              <Text size="sm" style={{ wordBreak: 'break-word' }}>
                {d.lastError ?? '—'}
              </Text>
            ),
          },
        ]}
      />
      {deliveries.data?.items.length === 0 && (
        <Text c="dimmed" size="sm">
          Nothing sent yet.
        </Text>
      )}
    </Stack>
  );
}

import {
  Button,
  Group,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import type { AlertCondition, AlertDestination, AlertEnding } from '../../../domain/alert-rules';
import { useCreateAlertRule } from '../../api/alert-queries';
import { useOperationTypes } from '../../api/queries';
import { FormError, ShownOnce } from './common';

type ConditionKind = AlertCondition['kind'];
type DestinationKind = AlertDestination['kind'];

const CONDITIONS: Array<{ value: ConditionKind; label: string }> = [
  { value: 'run_ended', label: 'A run ends failed, blocked or reconciled' },
  { value: 'failure_count', label: 'Many runs fail within a window' },
  { value: 'queue_wait', label: 'Runs wait too long in the queue' },
  { value: 'likely_stale', label: 'A run is likely stale' },
];
const ENDINGS: Array<{ value: AlertEnding; label: string }> = [
  { value: 'failed', label: 'Failed' },
  { value: 'blocked', label: 'Blocked' },
  { value: 'reconciled', label: 'Reconciled' },
];
const DESTINATIONS: Array<{ value: DestinationKind; label: string }> = [
  { value: 'webhook', label: 'Webhook (signed JSON)' },
  { value: 'slack', label: 'Slack incoming webhook' },
  { value: 'email', label: 'Email' },
];

/** Adds an alert rule; a webhook's signing secret is shown here once. */
export function AlertRuleForm({
  workspace,
  tenants,
}: {
  workspace: string;
  tenants: Array<{ id: string; name: string }>;
}) {
  const create = useCreateAlertRule(workspace);
  const types = useOperationTypes();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ConditionKind>('run_ended');
  const [outcomes, setOutcomes] = useState<string[]>(['failed', 'reconciled']);
  const [typeFilter, setTypeFilter] = useState<string[]>([]);
  const [tenantFilter, setTenantFilter] = useState<string[]>([]);
  const [threshold, setThreshold] = useState<number | string>(5);
  const [windowMinutes, setWindowMinutes] = useState<number | string>(15);
  const [p95Seconds, setP95Seconds] = useState<number | string>(300);
  const [destination, setDestination] = useState<DestinationKind>('webhook');
  const [target, setTarget] = useState('');
  const [throttle, setThrottle] = useState<number | string>(10);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);

  const scoped = {
    ...(typeFilter.length ? { types: typeFilter } : {}),
    ...(tenantFilter.length ? { tenantIds: tenantFilter } : {}),
  };
  const condition = (): AlertCondition => {
    switch (kind) {
      case 'run_ended':
        return { kind, outcomes: outcomes as AlertEnding[], ...scoped };
      case 'failure_count':
        return {
          kind,
          threshold: Number(threshold),
          windowMinutes: Number(windowMinutes),
          ...scoped,
        };
      case 'queue_wait':
        return {
          kind,
          p95Seconds: Number(p95Seconds),
          forMinutes: Number(windowMinutes),
          ...(typeFilter.length ? { types: typeFilter } : {}),
        };
      case 'likely_stale':
        return { kind };
    }
  };
  const where = (): AlertDestination =>
    destination === 'email'
      ? {
          kind: 'email',
          to: target
            .split(/[,\s]+/)
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : { kind: destination, url: target.trim() };

  return (
    <Paper withBorder p="md">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setSecret(null);
          const ruleName = name.trim();
          create.mutate(
            {
              name: ruleName,
              condition: condition(),
              destination: where(),
              throttleMinutes: Number(throttle),
            },
            {
              onSuccess: (result) => {
                setName('');
                setTarget('');
                if (result.secret) setSecret({ name: ruleName, secret: result.secret });
              },
            },
          );
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Add an alert rule
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Rule name"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <Select
              label="When"
              data={CONDITIONS}
              value={kind}
              onChange={(v) => v && setKind(v as ConditionKind)}
              allowDeselect={false}
            />
            {kind === 'run_ended' && (
              <MultiSelect
                label="Ends"
                data={ENDINGS}
                value={outcomes}
                onChange={setOutcomes}
                required
              />
            )}
            {kind === 'failure_count' && (
              <NumberInput
                label="At least this many runs"
                min={1}
                value={threshold}
                onChange={setThreshold}
              />
            )}
            {kind === 'queue_wait' && (
              <NumberInput
                label="Queue wait p95 above (seconds)"
                min={1}
                value={p95Seconds}
                onChange={setP95Seconds}
              />
            )}
            {(kind === 'failure_count' || kind === 'queue_wait') && (
              <NumberInput
                label={kind === 'failure_count' ? 'Within (minutes)' : 'For (minutes)'}
                min={1}
                max={1440}
                value={windowMinutes}
                onChange={setWindowMinutes}
              />
            )}
            {kind !== 'likely_stale' && (
              <MultiSelect
                label="Types"
                description="None: every type."
                data={(types.data ?? []).map((t) => ({ value: t.type, label: t.label }))}
                value={typeFilter}
                onChange={setTypeFilter}
                searchable
              />
            )}
            {(kind === 'run_ended' || kind === 'failure_count') && (
              <MultiSelect
                label="Tenants"
                description="None: every tenant."
                data={tenants.map((t) => ({ value: t.id, label: t.name }))}
                value={tenantFilter}
                onChange={setTenantFilter}
                searchable
              />
            )}
            <Select
              label="Tell"
              data={DESTINATIONS}
              value={destination}
              onChange={(v) => v && setDestination(v as DestinationKind)}
              allowDeselect={false}
            />
            <TextInput
              label={destination === 'email' ? 'Email addresses' : 'URL'}
              description={
                destination === 'email'
                  ? 'Separated by commas.'
                  : destination === 'slack'
                    ? 'The incoming webhook URL; afterwards shown by its host only.'
                    : 'Receives a signed JSON POST.'
              }
              required
              value={target}
              onChange={(e) => setTarget(e.currentTarget.value)}
            />
            <NumberInput
              label="At most one alert per (minutes)"
              min={1}
              max={1440}
              value={throttle}
              onChange={setThrottle}
            />
          </SimpleGrid>
          <FormError error={create.error} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Add rule
            </Button>
          </Group>
          {secret && (
            <ShownOnce
              title={`Signing secret of ${secret.name}`}
              value={secret.secret}
              testId="rule-secret"
            >
              <Text size="sm">
                Check each delivery's <code>runwarden-signature</code> header with it (see the
                README, "Alerts").
              </Text>
            </ShownOnce>
          )}
        </Stack>
      </form>
    </Paper>
  );
}

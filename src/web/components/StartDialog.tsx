import { Anchor, Button, Group, Modal, Select, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { type FleetStarted, useStartFleet } from '../api/fleet-queries';
import { fieldIssues, refusalText } from '../api/flow-queries';
import { useOperationTypes, useStartRun } from '../api/queries';
import type { WorkspaceAccess } from '../app/workspace';
import { FieldInput } from './FieldInput';
import { ALL_ACTIVE, FleetTargets, type FleetTargetValues } from './FleetTargets';
import {
  NO_OPTIONS,
  OPTION_FIELDS,
  optionsBody,
  StartOptions,
  type StartOptionValues,
} from './StartOptions';
import { type Field, fieldsOf, initialValues, inputOf, validateField } from './schema-form';
import { TagsField } from './TagsField';

export function StartButton({
  workspace,
  tenantId,
}: {
  workspace: WorkspaceAccess;
  tenantId?: string;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button onClick={open}>Start operation</Button>
      <Modal opened={opened} onClose={close} title="Start an operation" size="lg">
        {opened && <StartForm workspace={workspace} tenantId={tenantId} onDone={close} />}
      </Modal>
    </>
  );
}

/** A form generated from the chosen type's input schema, validated inline. */
function StartForm({
  workspace,
  tenantId,
  onDone,
}: {
  workspace: WorkspaceAccess;
  tenantId?: string;
  onDone: () => void;
}) {
  const types = useOperationTypes();
  const start = useStartRun(workspace.slug);
  const fleet = useStartFleet(workspace.slug);
  // "Run for all tenants…": one fleet run over many tenants instead of a run on one.
  const [fleetMode, setFleetMode] = useState(false);
  const [targets, setTargets] = useState<FleetTargetValues>(ALL_ACTIVE);
  const [type, setType] = useState<string | null>(null);
  const [tenant, setTenant] = useState<string | null>(tenantId ?? null);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [tags, setTags] = useState<string[]>([]);
  const [options, setOptions] = useState<StartOptionValues>(NO_OPTIONS);
  const [optionErrors, setOptionErrors] = useState<
    Partial<Record<keyof StartOptionValues, string>>
  >({});
  const [optionsOpen, { toggle: toggleOptions, open: openOptions }] = useDisclosure(false);
  const chosen = types.data?.find((t) => t.type === type);
  const asFleet = fleetMode && chosen?.scope === 'tenant';
  const sending = asFleet ? fleet : start;
  const fields = useMemo(() => (chosen ? fieldsOf(chosen.inputSchema) : []), [chosen]);

  const choose = (next: string | null) => {
    setType(next);
    const def = types.data?.find((t) => t.type === next);
    setValues(def ? initialValues(fieldsOf(def.inputSchema)) : {});
    setErrors({});
  };
  const set = (field: Field, value: unknown) => {
    setValues((v) => ({ ...v, [field.name]: value }));
    setErrors((e) => ({ ...e, [field.name]: validateField(field, value) }));
  };
  const showRefusal = (error: Error, onOptionsToo: boolean) => {
    const issues = error instanceof ApiError ? fieldIssues(error) : [];
    const onOptions = onOptionsToo ? issues.filter((i) => OPTION_FIELDS[i.path]) : [];
    setErrors((e) => ({
      ...e,
      ...Object.fromEntries(
        issues.filter((i) => !onOptions.includes(i)).map((i) => [i.path, i.message]),
      ),
    }));
    setOptionErrors(Object.fromEntries(onOptions.map((i) => [OPTION_FIELDS[i.path], i.message])));
    // A refused option is shown where it was set, not behind a closed disclosure.
    if (onOptions.length) openOptions();
  };
  const submit = () => {
    if (!chosen) return;
    const found = Object.fromEntries(fields.map((f) => [f.name, validateField(f, values[f.name])]));
    const tenantError = chosen.scope !== 'tenant' || asFleet || tenant ? null : 'Choose a tenant';
    const targetsError =
      asFleet && !(targets.all && !workspace.restricted) && !targets.slugs.length
        ? 'Choose at least one tenant'
        : null;
    setErrors({ ...found, tenant: tenantError, tenants: targetsError });
    if (tenantError || targetsError || Object.values(found).some(Boolean)) return;
    if (asFleet) {
      fleet.mutate(
        {
          type: chosen.type,
          tenants: targets.all && !workspace.restricted ? 'all' : targets.slugs,
          input: inputOf(fields, values),
        },
        {
          onSuccess: (result) => {
            showFleetStarted(chosen.label, result);
            onDone();
          },
          onError: (error) => showRefusal(error, false),
        },
      );
      return;
    }
    start.mutate(
      {
        type: chosen.type,
        tenantId: chosen.scope === 'tenant' ? tenant : null,
        input: inputOf(fields, values),
        ...(tags.length ? { tags } : {}),
        ...optionsBody(options),
      },
      {
        onSuccess: ({ run, reused }) => {
          notifications.show({
            color: reused ? 'yellow' : 'green',
            title: reused ? `${chosen.label} is already running` : `${chosen.label} started`,
            message: (
              <Anchor component={Link} to={run.links.view} size="sm" data-testid="toast-view-run">
                {reused ? 'Already running — view run' : 'View run'}
              </Anchor>
            ),
          });
          onDone();
        },
        onError: (error) => showRefusal(error, true),
      },
    );
  };

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <Stack>
        <Select
          label="Operation"
          placeholder="Choose an operation type"
          searchable
          data-autofocus
          value={type}
          data={(types.data ?? [])
            // A tenant-restricted member never starts a workspace-level run (DESIGN §10).
            .filter(
              (t) => t.execution === 'queue' && !(workspace.restricted && t.scope !== 'tenant'),
            )
            .map((t) => ({ value: t.type, label: t.label }))}
          onChange={choose}
        />
        {asFleet && (
          <FleetTargets
            workspace={workspace}
            values={targets}
            error={errors.tenants}
            onChange={(next) => {
              setTargets(next);
              setErrors((e) => ({ ...e, tenants: null }));
            }}
          />
        )}
        {chosen?.scope === 'tenant' && !asFleet && (
          <Select
            label="Tenant"
            placeholder="Choose a tenant"
            searchable
            value={tenant}
            error={errors.tenant}
            data={workspace.tenants.map((t) => ({
              value: t.id,
              label: t.status === 'active' ? t.name : `${t.name} (inactive)`,
              disabled: t.status !== 'active',
            }))}
            onChange={setTenant}
          />
        )}
        {fields.map((field) => (
          <FieldInput
            key={field.name}
            field={field}
            value={values[field.name]}
            error={errors[field.name]}
            onChange={(v) => set(field, v)}
          />
        ))}
        {/* After the fields: the usual start keeps its keyboard path (type, tenant, input). */}
        {chosen?.scope === 'tenant' && (
          <div>
            <Button
              variant="subtle"
              size="compact-sm"
              data-testid="fleet-toggle"
              onClick={() => {
                setFleetMode((on) => !on);
                setErrors((e) => ({ ...e, tenant: null, tenants: null }));
                start.reset();
                fleet.reset();
              }}
            >
              {fleetMode ? 'Run for one tenant' : 'Run for all tenants…'}
            </Button>
          </div>
        )}
        {asFleet ? (
          <Text size="sm" c="dimmed" data-testid="fleet-note">
            One run per tenant, under one fleet run that follows them. Inactive tenants are skipped;
            a tenant already running the same operation joins with that run.
          </Text>
        ) : (
          <TagsField value={tags} error={errors.tags} onChange={setTags} />
        )}
        {!asFleet && (
          <StartOptions
            values={options}
            errors={optionErrors}
            opened={optionsOpen}
            onToggle={toggleOptions}
            onChange={(patch) => {
              setOptions((o) => ({ ...o, ...patch }));
              setOptionErrors({});
            }}
          />
        )}
        {sending.error && !inputRefusal(sending.error) && (
          <Text c="red" size="sm" role="alert" data-testid="start-error">
            {refusalText(sending.error)}
          </Text>
        )}
        <Group justify="flex-end">
          <Button type="submit" disabled={!chosen} loading={sending.isPending}>
            {asFleet ? 'Start on tenants' : 'Start'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** "Started on 3 tenants": what the fleet start did, with the parent run to follow. */
function showFleetStarted(label: string, { run, children }: FleetStarted) {
  const tenants = (n: number) => `${n} tenant${n === 1 ? '' : 's'}`;
  const said = [
    `${children.started} started`,
    children.reused ? `${children.reused} joined a run already active` : null,
    children.skipped ? `${children.skipped} skipped (inactive)` : null,
  ].filter((part) => part !== null);
  notifications.show({
    color: 'green',
    title: `${label} started on ${tenants(children.started + children.reused)}`,
    message: (
      <Stack gap={2}>
        <Text size="sm" data-testid="toast-fleet-counts">
          {said.join(' · ')}
        </Text>
        <Anchor component={Link} to={run.links.view} size="sm" data-testid="toast-view-run">
          View run
        </Anchor>
      </Stack>
    ),
  });
}

/** A 422 naming input fields is shown on those fields; every other refusal in words. */
function inputRefusal(error: Error): boolean {
  return error instanceof ApiError && error.status === 422 && fieldIssues(error).length > 0;
}

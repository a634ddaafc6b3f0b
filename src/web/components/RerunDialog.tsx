import { Anchor, Button, Group, Loader, Modal, Select, Stack, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { fieldIssues, refusalText } from '../api/flow-queries';
import { useOperationTypes } from '../api/queries';
import { useRerun } from '../api/rerun-queries';
import type { OperationType, RunDetail } from '../api/types';
import { FieldInput } from './FieldInput';
import { type Field, fieldsOf, initialValues, inputOf, validateField } from './schema-form';

/**
 * "Run again…" (DESIGN §18): the start dialog for this run's type and tenant, its input filled in
 * and editable. The new run links back (`rerunOf`); the original stays as it is.
 */
export function RunAgainButton({ run }: { run: RunDetail }) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button variant="default" onClick={open}>
        Run again…
      </Button>
      <Modal opened={opened} onClose={close} title="Run again" size="lg">
        {opened && <RerunForm run={run} onDone={close} />}
      </Modal>
    </>
  );
}

function RerunForm({ run, onDone }: { run: RunDetail; onDone: () => void }) {
  const types = useOperationTypes();
  const type = types.data?.find((t) => t.type === run.type);
  if (types.isPending) return <Loader aria-label="Loading" />;
  if (!type) {
    return (
      <Text role="alert">{run.typeLabel} is no longer offered here: it cannot run again.</Text>
    );
  }
  return <RerunFields run={run} type={type} onDone={onDone} />;
}

function RerunFields({
  run,
  type,
  onDone,
}: {
  run: RunDetail;
  type: OperationType;
  onDone: () => void;
}) {
  const rerun = useRerun();
  const fields = useMemo(() => fieldsOf(type.inputSchema), [type]);
  const original = run.diagnostics.input;
  const [values, setValues] = useState<Record<string, unknown>>(() => ({
    ...initialValues(fields),
    ...Object.fromEntries(
      fields.filter((f) => f.name in original).map((f) => [f.name, original[f.name]]),
    ),
  }));
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const set = (field: Field, value: unknown) => {
    setValues((v) => ({ ...v, [field.name]: value }));
    setErrors((e) => ({ ...e, [field.name]: validateField(field, value) }));
  };
  const submit = () => {
    const found = Object.fromEntries(fields.map((f) => [f.name, validateField(f, values[f.name])]));
    setErrors(found);
    if (Object.values(found).some(Boolean)) return;
    // What the form has no field for (nested objects) goes again as it was.
    const unshown = Object.entries(original).filter(([key]) => !fields.some((f) => f.name === key));
    const input = { ...Object.fromEntries(unshown), ...inputOf(fields, values) };
    rerun.mutate(
      { id: run.id, input },
      {
        onSuccess: ({ run: started, reused }) => {
          notifications.show({
            color: reused ? 'yellow' : 'green',
            title: reused ? `${type.label} is already running` : `${type.label} started again`,
            message: (
              <Anchor
                component={Link}
                to={started.links.view}
                size="sm"
                data-testid="toast-view-run"
              >
                {reused ? 'Already running — view run' : 'View run'}
              </Anchor>
            ),
          });
          onDone();
        },
        onError: (error) => {
          const issues = error instanceof ApiError ? fieldIssues(error) : [];
          setErrors((e) => ({
            ...e,
            ...Object.fromEntries(issues.map((i) => [i.path, i.message])),
          }));
        },
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
          disabled
          value={type.type}
          data={[{ value: type.type, label: type.label }]}
        />
        {run.tenant && (
          <Select
            label="Tenant"
            disabled
            value={run.tenant.id}
            data={[{ value: run.tenant.id, label: run.tenant.name }]}
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
        <Text size="sm" c="dimmed" data-testid="rerun-note">
          A new run{run.tags.length ? `, tagged ${run.tags.join(', ')},` : ''} that links back to
          this one; this run stays as it is.
        </Text>
        {rerun.error && !onFields(rerun.error, fields) && (
          <Text c="red" size="sm" role="alert" data-testid="start-error">
            {refusalText(rerun.error)}
          </Text>
        )}
        <Group justify="flex-end">
          <Button type="submit" loading={rerun.isPending}>
            Run again
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** A refusal naming only this form's fields is shown on them; any other in words. */
function onFields(error: Error, fields: Field[]): boolean {
  const issues = error instanceof ApiError ? fieldIssues(error) : [];
  return issues.length > 0 && issues.every((i) => fields.some((f) => f.name === i.path));
}

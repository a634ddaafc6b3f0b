import { Button, Modal, NumberInput, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { type FlowLimits, refusalText, useOverrideLimit } from '../../api/flow-queries';
import type { FlowLimitView } from '../../api/types';
import { DialogFooter } from '../settings/common';

type Num = number | string;
interface Fields {
  perTenant: Num;
  total: Num;
  ratePerTenant: Num;
  ratePerTenantSeconds: Num;
  rateTotal: Num;
  rateTotalSeconds: Num;
}

const text = (n: number | undefined): Num => n ?? '';

function fieldsOf(limit: FlowLimitView): Fields {
  return {
    perTenant: text(limit.concurrency?.perTenant),
    total: text(limit.concurrency?.total),
    ratePerTenant: text(limit.rate?.perTenant?.limit),
    ratePerTenantSeconds: text(limit.rate?.perTenant?.intervalSeconds),
    rateTotal: text(limit.rate?.total?.limit),
    rateTotalSeconds: text(limit.rate?.total?.intervalSeconds),
  };
}

/**
 * The override as the API takes it: an empty field is no limit. A window with only one of its two
 * numbers goes as typed, so the server's refusal names what is missing.
 */
function limitsOf(f: Fields): FlowLimits {
  const num = (v: Num) => (v === '' ? undefined : Number(v));
  const window = (limit: Num, seconds: Num) =>
    limit === '' && seconds === ''
      ? undefined
      : ({ limit: num(limit), intervalSeconds: num(seconds) } as {
          limit: number;
          intervalSeconds: number;
        });
  const concurrency = { perTenant: num(f.perTenant), total: num(f.total) };
  const rate = {
    perTenant: window(f.ratePerTenant, f.ratePerTenantSeconds),
    total: window(f.rateTotal, f.rateTotalSeconds),
  };
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    ...(concurrency.perTenant !== undefined || concurrency.total !== undefined
      ? { concurrency: defined(concurrency) }
      : {}),
    ...(rate.perTenant || rate.total ? { rate: defined(rate) } : {}),
  };
}

/** "Edit": a limit's override, prefilled with the limits in force (system.ops.triage). */
export function LimitOverrideForm({ limit }: { limit: FlowLimitView }) {
  const [opened, { open, close }] = useDisclosure(false);
  const save = useOverrideLimit();
  const [fields, setFields] = useState<Fields>(() => fieldsOf(limit));
  const set = (key: keyof Fields) => (value: Num) => setFields((f) => ({ ...f, [key]: value }));
  const number = (key: keyof Fields, label: string) => (
    <NumberInput
      label={label}
      min={1}
      allowDecimal={false}
      clampBehavior="none"
      value={fields[key]}
      onChange={set(key)}
    />
  );
  return (
    <>
      <Button
        variant="light"
        size="xs"
        aria-label={`Edit limits of ${limit.name}`}
        onClick={() => {
          setFields(fieldsOf(limit));
          save.reset();
          open();
        }}
      >
        Edit
      </Button>
      <Modal opened={opened} onClose={close} title={`Limits of ${limit.name}`}>
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate(
              { name: limit.name, limits: limitsOf(fields) },
              {
                onSuccess: () => {
                  notifications.show({ color: 'green', message: `${limit.name}: overridden.` });
                  close();
                },
              },
            );
          }}
        >
          <Stack>
            <Text size="sm" c="dimmed">
              Replaces the catalog&apos;s limits as a whole: an empty field has no limit. Every
              worker applies it within a second.
            </Text>
            <Title order={2} size="h5">
              Running at once
            </Title>
            <SimpleGrid cols={{ base: 1, xs: 2 }}>
              {number('perTenant', 'Per tenant')}
              {number('total', 'In total')}
            </SimpleGrid>
            <Title order={2} size="h5">
              Starts per window, per tenant
            </Title>
            <SimpleGrid cols={{ base: 1, xs: 2 }}>
              {number('ratePerTenant', 'Starts (per tenant)')}
              {number('ratePerTenantSeconds', 'Window in seconds (per tenant)')}
            </SimpleGrid>
            <Title order={2} size="h5">
              Starts per window, in total
            </Title>
            <SimpleGrid cols={{ base: 1, xs: 2 }}>
              {number('rateTotal', 'Starts (in total)')}
              {number('rateTotalSeconds', 'Window in seconds (in total)')}
            </SimpleGrid>
            <DialogFooter
              error={save.error && new Error(refusalText(save.error))}
              pending={save.isPending}
              onCancel={close}
            />
          </Stack>
        </form>
      </Modal>
    </>
  );
}

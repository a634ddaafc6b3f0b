import {
  Button,
  Collapse,
  NumberInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useId } from 'react';

// When and how urgently a start runs (DESIGN §17): priority, a start time or a delay, and an
// expiry. Tucked under "Options", so the usual start stays one click; the server checks the
// timing (a 400 names the field), and its words land next to that field.

export type Priority = 'high' | 'normal' | 'low';
export type When = 'now' | 'at' | 'delay';

export interface StartOptionValues {
  priority: Priority;
  when: When;
  /** `datetime-local` text, in the reader's zone. */
  runAt: string;
  delayMinutes: number | string;
  expiresAt: string;
}

export const NO_OPTIONS: StartOptionValues = {
  priority: 'normal',
  when: 'now',
  runAt: '',
  delayMinutes: '',
  expiresAt: '',
};

/** The fields the start body takes; what is left at its default is left out. */
export function optionsBody(values: StartOptionValues): {
  priority?: Priority;
  runAt?: string;
  delaySeconds?: number;
  expiresAt?: string;
} {
  const instant = (local: string) => {
    const at = new Date(local);
    // An unreadable time goes as typed: the server refuses it by name.
    return Number.isNaN(at.getTime()) ? local : at.toISOString();
  };
  return {
    ...(values.priority !== 'normal' ? { priority: values.priority } : {}),
    ...(values.when === 'at' && values.runAt ? { runAt: instant(values.runAt) } : {}),
    ...(values.when === 'delay' && values.delayMinutes !== ''
      ? { delaySeconds: Math.round(Number(values.delayMinutes) * 60) }
      : {}),
    ...(values.expiresAt ? { expiresAt: instant(values.expiresAt) } : {}),
  };
}

/** Which option field a server issue's path names (`runAt`, `delaySeconds`, `expiresAt`). */
export const OPTION_FIELDS: Record<string, keyof StartOptionValues> = {
  priority: 'priority',
  runAt: 'runAt',
  delaySeconds: 'delayMinutes',
  expiresAt: 'expiresAt',
};

/** "High priority · starts after 5 min": what the collapsed options hold, so nothing hides. */
function summary(values: StartOptionValues): string {
  const parts = [
    values.priority !== 'normal' ? `${values.priority} priority` : null,
    values.when === 'at' && values.runAt ? 'starts at a set time' : null,
    values.when === 'delay' && values.delayMinutes !== ''
      ? `starts after ${values.delayMinutes} min`
      : null,
    values.expiresAt ? 'expires' : null,
  ].filter((p) => p !== null);
  return parts.join(' · ');
}

export function StartOptions({
  values,
  errors,
  opened,
  onToggle,
  onChange,
}: {
  values: StartOptionValues;
  errors: Partial<Record<keyof StartOptionValues, string>>;
  opened: boolean;
  onToggle: () => void;
  onChange: (patch: Partial<StartOptionValues>) => void;
}) {
  const panel = useId();
  const said = summary(values);
  return (
    <Stack gap="xs">
      <div>
        <Button
          variant="subtle"
          size="compact-sm"
          onClick={onToggle}
          aria-expanded={opened}
          aria-controls={panel}
          data-testid="start-options-toggle"
        >
          {opened ? 'Hide options' : 'Options'}
        </Button>
        {!opened && said && (
          <Text span size="sm" c="dimmed" ml="xs" data-testid="start-options-summary">
            {said}
          </Text>
        )}
      </div>
      <Collapse expanded={opened} id={panel}>
        <Stack gap="sm">
          <Stack gap={4}>
            <Text size="sm" fw={500} id={`${panel}-priority`}>
              Priority
            </Text>
            <SegmentedControl
              aria-labelledby={`${panel}-priority`}
              value={values.priority}
              data={[
                { value: 'high', label: 'High' },
                { value: 'normal', label: 'Normal' },
                { value: 'low', label: 'Low' },
              ]}
              onChange={(v) => onChange({ priority: v as Priority })}
            />
            <Text size="xs" c="dimmed">
              Reorders waiting runs; never interrupts a running one.
            </Text>
          </Stack>
          <Stack gap={4}>
            <Text size="sm" fw={500} id={`${panel}-when`}>
              Start
            </Text>
            <SegmentedControl
              aria-labelledby={`${panel}-when`}
              value={values.when}
              data={[
                { value: 'now', label: 'Now' },
                { value: 'at', label: 'At a time' },
                { value: 'delay', label: 'After a delay' },
              ]}
              onChange={(v) => onChange({ when: v as When })}
            />
          </Stack>
          {values.when === 'at' && (
            <TextInput
              type="datetime-local"
              label="Start at"
              description="In your own clock; at most 30 days ahead."
              value={values.runAt}
              error={errors.runAt}
              onChange={(e) => onChange({ runAt: e.currentTarget.value })}
            />
          )}
          {values.when === 'delay' && (
            <NumberInput
              label="Delay (minutes)"
              description="The run starts this long after you press Start."
              min={0}
              clampBehavior="none"
              value={values.delayMinutes}
              error={errors.delayMinutes}
              onChange={(v) => onChange({ delayMinutes: v })}
            />
          )}
          <TextInput
            type="datetime-local"
            label="Expires at"
            description="Still waiting then, it ends cancelled instead of starting late. Optional."
            value={values.expiresAt}
            error={errors.expiresAt}
            onChange={(e) => onChange({ expiresAt: e.currentTarget.value })}
          />
        </Stack>
      </Collapse>
    </Stack>
  );
}

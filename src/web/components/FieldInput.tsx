import { NumberInput, Select, Switch, TextInput } from '@mantine/core';
import { type Field, helpOf, labelOf } from './schema-form';

/** One input field of a start form, as its schema describes it. */
export function FieldInput({
  field,
  value,
  error,
  onChange,
}: {
  field: Field;
  value: unknown;
  error: string | null | undefined;
  onChange: (value: unknown) => void;
}) {
  const label = labelOf(field);
  const common = {
    label,
    error,
    required: field.required,
    description: helpOf(field),
    'data-field': field.name,
  };
  switch (field.kind) {
    case 'enum':
      return (
        <Select
          {...common}
          clearable={!field.required}
          value={value === '' || value === undefined ? null : String(value)}
          data={field.options}
          onChange={(v) => onChange(v ?? '')}
        />
      );
    case 'number':
    case 'integer':
      return (
        <NumberInput
          {...common}
          value={value as number | string}
          // Never clamp: an out-of-range number stays as typed and is refused with the range.
          clampBehavior="none"
          allowDecimal={field.kind === 'number'}
          onChange={onChange}
        />
      );
    case 'boolean':
      return (
        <Switch
          label={label}
          description={helpOf(field)}
          checked={Boolean(value)}
          onChange={(e) => onChange(e.currentTarget.checked)}
        />
      );
    default:
      return (
        <TextInput
          {...common}
          value={String(value ?? '')}
          onChange={(e) => onChange(e.currentTarget.value)}
        />
      );
  }
}

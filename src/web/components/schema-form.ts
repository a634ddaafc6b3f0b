/** The parts of a JSON Schema (from the type's zod input) the start form understands. */
export interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  title?: string;
  description?: string;
}

export interface Field {
  name: string;
  kind: 'number' | 'integer' | 'enum' | 'text' | 'boolean';
  required: boolean;
  schema: FieldSchema;
  options: string[];
}

/** One form field per top-level property of the input schema. */
export function fieldsOf(schema: Record<string, unknown>): Field[] {
  const properties = (schema.properties ?? {}) as Record<string, FieldSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, prop]) => {
    const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    const kind: Field['kind'] = prop.enum
      ? 'enum'
      : type === 'integer'
        ? 'integer'
        : type === 'number'
          ? 'number'
          : type === 'boolean'
            ? 'boolean'
            : 'text';
    return {
      name,
      kind,
      required: required.has(name),
      schema: prop,
      options: (prop.enum ?? []).map(String),
    };
  });
}

export function initialValues(fields: Field[]): Record<string, unknown> {
  return Object.fromEntries(
    fields.map((f) => [f.name, f.schema.default ?? (f.kind === 'boolean' ? false : '')]),
  );
}

/** The field's label: the schema's title, else its name in words ("policyId" → "Policy id"). */
export function labelOf(field: Field): string {
  if (field.schema.title) return field.schema.title;
  const words = field.name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** A bound worth showing: zod gives every integer the safe-integer range, which says nothing. */
const shown = (n: number | undefined) =>
  n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined;

/** The numeric range a field accepts, as schema bounds (exclusive ones kept apart). */
function range(field: Field) {
  const s = field.schema;
  return {
    min: shown(s.minimum),
    max: shown(s.maximum),
    above: shown(s.exclusiveMinimum),
    below: shown(s.exclusiveMaximum),
  };
}

/** The limits a person should see next to the field: "1–3600", "at most 200 characters". */
export function boundsOf(field: Field): string | null {
  if (field.kind === 'number' || field.kind === 'integer') {
    const { min, max, above, below } = range(field);
    if (min !== undefined && max !== undefined) return `${min}–${max}`;
    const parts = [
      min !== undefined ? `at least ${min}` : null,
      above !== undefined ? `more than ${above}` : null,
      max !== undefined ? `at most ${max}` : null,
      below !== undefined ? `less than ${below}` : null,
    ].filter(Boolean);
    return parts.length ? parts.join(', ') : null;
  }
  if (field.kind === 'text') {
    const { minLength: min, maxLength: max } = field.schema;
    if (min !== undefined && max !== undefined) return `${min}–${max} characters`;
    if (max !== undefined) return `at most ${max} characters`;
    if (min !== undefined) return `at least ${min} characters`;
  }
  return null;
}

/** The help under a field: the schema's description and the bounds it accepts. */
export function helpOf(field: Field): string | undefined {
  const bounds = boundsOf(field);
  const parts = [field.schema.description, bounds ? `Allowed: ${bounds}.` : null].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

/**
 * Inline validation from the schema's own limits; the server re-validates with zod. A value out
 * of range is refused with a message naming the range, never clamped into it.
 */
export function validateField(field: Field, value: unknown): string | null {
  const empty = value === '' || value === undefined || value === null;
  if (empty) return field.required ? 'Required' : null;
  const s = field.schema;
  if (field.kind === 'number' || field.kind === 'integer') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) return 'Enter a number';
    if (field.kind === 'integer' && !Number.isInteger(n)) return 'Enter a whole number';
    const { min, max, above, below } = range(field);
    const outside =
      (min !== undefined && n < min) ||
      (max !== undefined && n > max) ||
      (above !== undefined && n <= above) ||
      (below !== undefined && n >= below);
    if (outside) {
      return min !== undefined && max !== undefined
        ? `Must be between ${min} and ${max}`
        : `Must be ${boundsOf(field)}`;
    }
  }
  if (field.kind === 'text' && typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength)
      return `At least ${s.minLength} characters`;
    if (s.maxLength !== undefined && value.length > s.maxLength)
      return `At most ${s.maxLength} characters`;
  }
  return null;
}

/** The input object to send: empty optional fields left out, numbers as numbers. */
export function inputOf(fields: Field[], values: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value === '' || value === undefined || value === null) continue;
    input[field.name] = field.kind === 'number' || field.kind === 'integer' ? Number(value) : value;
  }
  return input;
}

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

/** Inline validation from the schema's own limits; the server re-validates with zod. */
export function validateField(field: Field, value: unknown): string | null {
  const empty = value === '' || value === undefined || value === null;
  if (empty) return field.required ? 'Required' : null;
  const s = field.schema;
  if (field.kind === 'number' || field.kind === 'integer') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) return 'Enter a number';
    if (field.kind === 'integer' && !Number.isInteger(n)) return 'Enter a whole number';
    if (s.minimum !== undefined && n < s.minimum) return `At least ${s.minimum}`;
    if (s.maximum !== undefined && n > s.maximum) return `At most ${s.maximum}`;
    if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum)
      return `More than ${s.exclusiveMinimum}`;
    if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum)
      return `Less than ${s.exclusiveMaximum}`;
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

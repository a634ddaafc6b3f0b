import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';

/**
 * Response serialization driven by the response's JSON Schema (the one the OpenAPI document shows,
 * from the route's zod schema), for the hot read routes: each response shape is compiled once into
 * a writer that emits exactly the schema's properties, in the schema's order, as zod's encode
 * followed by JSON.stringify does (`test/http/json-serializer.test.ts` holds them byte for byte
 * equal), without re-validating every value of every run on every request.
 */

type Write = (value: unknown) => string;
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
};

const plain: Write = (value) => JSON.stringify(value) ?? 'null';
/** A character JSON escapes: a short string without any is written between quotes as it is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are the characters JSON escapes.
const ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;
const string: Write = (value) =>
  typeof value === 'string' && value.length < 64 && !ESCAPED.test(value)
    ? `"${value}"`
    : plain(value);
const number: Write = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : plain(value);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The writer of one JSON Schema; anything it does not know is written as JSON.stringify does. */
export function compileWriter(schema: JsonSchema): Write {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return unionWriter(branches);
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== 'null');
    if (types.length !== 1 || types.length === schema.type.length) return plain;
    const inner = compileWriter({ ...schema, type: types[0] });
    return (value) => (value === null ? 'null' : inner(value));
  }
  switch (schema.type) {
    case 'string':
      return string;
    case 'boolean':
    case 'null':
      return plain;
    case 'number':
    case 'integer':
      return number;
    case 'array':
      return schema.items ? arrayWriter(compileWriter(schema.items)) : plain;
    case 'object':
      return objectWriter(schema);
    default:
      return plain;
  }
}

function arrayWriter(item: Write): Write {
  return (value) => {
    if (!Array.isArray(value)) return plain(value);
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + item(value[i]);
    return `${out}]`;
  };
}

function objectWriter(schema: JsonSchema): Write {
  const extra = schema.additionalProperties;
  if (!schema.properties) {
    // A record: every own key, each value by the record's value schema (unknown: as is).
    if (typeof extra !== 'object' || !Object.keys(extra).length) return plain;
    const value = compileWriter(extra);
    return (record) => {
      if (!isObject(record)) return plain(record);
      let out = '{';
      for (const key of Object.keys(record)) {
        const item = record[key];
        if (item === undefined) continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${value(item)}`;
      }
      return `${out}}`;
    };
  }
  if (extra !== undefined && extra !== false) return plain;
  return fieldsWriter(Object.entries(schema.properties));
}

/**
 * An object of known properties, written by generated code (as fast-json-stringify does): each
 * property read once, its key a literal, a plain string field inlined; other fields call theirs.
 */
function fieldsWriter(fields: Array<[string, JsonSchema]>): Write {
  const writers: Write[] = [];
  const lines = fields.map(([key, field]) => {
    const prefix = JSON.stringify(`${JSON.stringify(key)}:`);
    const value =
      field.type === 'string'
        ? `(typeof v === 'string' && v.length < 64 && !escaped.test(v) ? '"' + v + '"' : plain(v))`
        : `w[${writers.push(compileWriter(field)) - 1}](v)`;
    return `v = o[${JSON.stringify(key)}]; if (v !== undefined) s += (s ? ',' : '') + ${prefix} + ${value};`;
  });
  const source = `return function (o) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return plain(o);
    let s = '', v;
    ${lines.join('\n    ')}
    return '{' + s + '}';
  }`;
  return new Function('w', 'plain', 'escaped', source)(writers, plain, ESCAPED) as Write;
}

/** Nullable (`X | null`), or objects told apart by a `const` property (a discriminated union). */
function unionWriter(branches: JsonSchema[]): Write {
  const nullable = branches.some((b) => b.type === 'null');
  const rest = branches.filter((b) => b.type !== 'null');
  let inner: Write = plain;
  if (rest.length === 1 && rest[0]) inner = compileWriter(rest[0]);
  else if (rest.length > 1) inner = discriminatedWriter(rest) ?? plain;
  return nullable ? (value) => (value === null ? 'null' : inner(value)) : inner;
}

function discriminatedWriter(branches: JsonSchema[]): Write | undefined {
  const key = Object.keys(branches[0]?.properties ?? {}).find((k) =>
    branches.every((b) => b.type === 'object' && b.properties?.[k]?.const !== undefined),
  );
  if (!key) return undefined;
  const byTag = new Map(branches.map((b) => [b.properties?.[key]?.const, compileWriter(b)]));
  return (value) => {
    const write = isObject(value) ? byTag.get(value[key]) : undefined;
    return write ? write(value) : plain(value);
  };
}

/** A writer for a zod schema, through its JSON Schema (as the OpenAPI document shows it). */
export function zodWriter(schema: ZodType): Write {
  return compileWriter(
    z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema,
  );
}

/**
 * A route's `serializerCompiler`: its 2xx responses by their JSON Schema (`zodWriter`), anything
 * else (error bodies) by the app's zod serializer as before.
 */
export function jsonSchemaSerializer<T>(route: FastifyRouteSchemaDef<T>): Write {
  const schema: unknown = route.schema;
  if (/^2/.test(String(route.httpStatus)) && schema instanceof z.ZodType) return zodWriter(schema);
  return zodSerializerCompiler(route as FastifyRouteSchemaDef<ZodType>);
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { demoSleep } from '../../src/catalog/demo-sleep.js';
import {
  boundsOf,
  type Field,
  fieldsOf,
  helpOf,
  labelOf,
  validateField,
} from '../../src/web/components/schema-form.js';

// Issue #14 point 13: the start form's labels and help come from the input schema, required fields
// are marked, bounds are shown, and out-of-range input is refused with the range, never clamped.

const schemaOf = (input: z.ZodType) =>
  z.toJSONSchema(input, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
const sleep = fieldsOf(schemaOf(demoSleep.input));
const field = (name: string) => sleep.find((f) => f.name === name) as Field;

describe('the start form from demo.sleep’s input schema', () => {
  it('labels and help come from the schema’s titles and descriptions, with the bounds', () => {
    expect(labelOf(field('seconds'))).toBe('Duration (seconds)');
    expect(helpOf(field('seconds'))).toBe('How long the run sleeps. Allowed: 0–3600.');
    expect(boundsOf(field('total'))).toBe('1–1000000');
    expect(boundsOf(field('tag'))).toBe('at most 200 characters');
  });

  it('marks what is required', () => {
    expect(sleep.filter((f) => f.required).map((f) => f.name)).toEqual(['seconds']);
  });

  it('refuses an out-of-range value with the range instead of clamping it', () => {
    expect(validateField(field('seconds'), 99999)).toBe('Must be between 0 and 3600');
    expect(validateField(field('seconds'), -1)).toBe('Must be between 0 and 3600');
    expect(validateField(field('seconds'), 3600)).toBeNull();
    expect(validateField(field('seconds'), '')).toBe('Required');
    expect(validateField(field('total'), 2.5)).toBe('Enter a whole number');
  });
});

describe('fields without titles or useful bounds', () => {
  const fields = fieldsOf(
    schemaOf(
      z.object({
        policyId: z.string(),
        count: z.number().int(),
        ratio: z.number().gt(0),
      }),
    ),
  );
  const byName = (name: string) => fields.find((f) => f.name === name) as Field;

  it('reads the name in words', () => {
    expect(labelOf(byName('policyId'))).toBe('Policy id');
  });

  it('shows no safe-integer range zod gives every integer, and names one-sided bounds', () => {
    expect(boundsOf(byName('count'))).toBeNull();
    expect(helpOf(byName('count'))).toBeUndefined();
    expect(boundsOf(byName('ratio'))).toBe('more than 0');
    expect(validateField(byName('ratio'), 0)).toBe('Must be more than 0');
  });
});

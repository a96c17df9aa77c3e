import { z } from 'zod';

import { defineStep, invalid, transformColumnSchema } from './step';

/**
 * A row condition of `filter_rows`. A missing value satisfies only `missing`; every other
 * condition on a missing value is false.
 */
export const rowConditionSchema = z.union([
  z.object({
    column: transformColumnSchema,
    op: z.enum(['lt', 'le', 'gt', 'ge', 'eq', 'ne']),
    value: z.number(),
  }),
  z.object({
    column: transformColumnSchema,
    op: z.enum(['in', 'not_in']),
    values: z.array(z.union([z.string(), z.number()])).min(1),
  }),
  z.object({ column: transformColumnSchema, op: z.enum(['missing', 'not_missing']) }),
]);
type RowCondition = z.output<typeof rowConditionSchema>;

const where = z.array(rowConditionSchema).min(1);

/** Training only: keeps the rows that satisfy every condition. Never applied at inference. */
export const filterRowsStep = defineStep({
  type: 'filter_rows',
  spec: z.object({ type: z.literal('filter_rows'), where }),
  fitted: z.object({ type: z.literal('filter_rows'), where, rowsDropped: z.number().int().nonnegative() }),
  reads: (step) => step.where.map((c) => c.column),
  fit(step, frame, label) {
    step.where.forEach((c) => {
      const kind = frame.get(c.column, label).kind;
      if (kind === 'categorical' && 'value' in c)
        throw invalid(`${label}: '${c.op}' compares numbers, '${c.column}' is categorical (use in / not_in)`);
      if ('values' in c) {
        const wanted = kind === 'numeric' ? 'number' : 'string';
        if (c.values.some((v) => typeof v !== wanted))
          throw invalid(`${label}: values for ${kind} column '${c.column}' must all be ${wanted}s`);
      }
    });
    return { type: 'filter_rows' as const, where: step.where, rowsDropped: 0 };
  },
  writes: () => [],
  touches: (step) => step.where.map((c) => c.column),
  keepRows(step, frame, label) {
    const keep = new Uint8Array(frame.rows).fill(1);
    for (const c of step.where) {
      const column = frame.get(c.column, label);
      for (let i = 0; i < frame.rows; i += 1) {
        if (keep[i] && !satisfies(c, column.kind === 'numeric' ? column.values[i]! : column.values[i]!))
          keep[i] = 0;
      }
    }
    return keep;
  },
});

function satisfies(c: RowCondition, v: number | string | null): boolean {
  const missing = v === null || (typeof v === 'number' && Number.isNaN(v));
  if (c.op === 'missing') return missing;
  if (c.op === 'not_missing') return !missing;
  if (missing) return false;
  switch (c.op) {
    case 'in':
      return c.values.includes(v);
    case 'not_in':
      return !c.values.includes(v);
    default: {
      if (typeof v !== 'number') return false;
      switch (c.op) {
        case 'lt':
          return v < c.value;
        case 'le':
          return v <= c.value;
        case 'gt':
          return v > c.value;
        case 'ge':
          return v >= c.value;
        case 'eq':
          return v === c.value;
        case 'ne':
          return v !== c.value;
      }
    }
  }
}

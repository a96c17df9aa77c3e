import { z } from 'zod';

import { checkCategories, fitCategories } from './categories';
import { defineStep, transformColumnSchema } from './step';

const unseenSchema = z.enum(['error', 'value']);

/**
 * Category -> its index (0, 1, ...) in `categories` (given, or fitted: distinct values sorted).
 * Unseen categories: `error` rejects the row, `value` writes `unseenValue`.
 */
export const ordinalStep = defineStep({
  type: 'ordinal',
  spec: z.object({
    type: z.literal('ordinal'),
    column: transformColumnSchema,
    output: transformColumnSchema.optional(),
    categories: z.array(z.string()).min(1).optional(),
    unseen: unseenSchema.default('error'),
    unseenValue: z.number().default(-1),
  }),
  fitted: z.object({
    type: z.literal('ordinal'),
    column: transformColumnSchema,
    output: transformColumnSchema,
    categories: z.array(z.string()).min(1),
    unseen: unseenSchema,
    unseenValue: z.number(),
  }),
  check: checkCategories,
  // A stored artifact may repeat a category: it would have two codes, and one never given.
  checkFitted: checkCategories,
  reads: (step) => [step.column],
  categoricalReads: (step) => [step.column],
  fit(step, frame, where) {
    const categories = fitCategories(step, frame, where);
    return {
      type: 'ordinal' as const,
      column: step.column,
      output: step.output ?? step.column,
      categories,
      unseen: step.unseen,
      unseenValue: step.unseenValue,
    };
  },
  writes: (step) => [step.output],
  touches: (step) => [step.column, step.output],
  apply(step, frame, reject, where) {
    const n = frame.rows;
    const values = frame.categorical(step.column, where);
    const index = new Map(step.categories.map((c, k) => [c, k]));
    const out = frame.alloc();
    for (let i = 0; i < n; i += 1) {
      const v = values[i]!;
      if (v === null) {
        out[i] = NaN;
        reject(i, `${where}: missing value in categorical '${step.column}' (no imputer)`);
        continue;
      }
      const k = index.get(v);
      if (k !== undefined) out[i] = k;
      else if (step.unseen === 'value') out[i] = step.unseenValue;
      else {
        out[i] = NaN;
        reject(i, `${where}: unseen category ${JSON.stringify(v)} in '${step.column}'`);
      }
    }
    frame.setNumeric(step.output, out);
  },
});

import { z } from 'zod';

import { meanStd, quantileSorted, sortedPresent } from '../stats';
import { checkDistinctColumns, columnsSchema, defineStep, noData } from './step';

const methodSchema = z.enum(['iqr', 'zscore']);

/**
 * Training only: drops rows with a value outside [q1 - k*IQR, q3 + k*IQR] (`iqr`, k default 1.5)
 * or further than k std from the mean (`zscore`, k default 3) in any listed column. Missing
 * values are not outliers. Never applied at inference.
 */
export const dropOutliersStep = defineStep({
  type: 'drop_outliers',
  spec: z.object({
    type: z.literal('drop_outliers'),
    columns: columnsSchema,
    method: methodSchema,
    threshold: z.number().positive().optional(),
  }),
  fitted: z.object({
    type: z.literal('drop_outliers'),
    columns: columnsSchema,
    method: methodSchema,
    lower: z.array(z.number()),
    upper: z.array(z.number()),
    /** Training rows this step removed. */
    rowsDropped: z.number().int().nonnegative(),
  }),
  check: (step, issue) => checkDistinctColumns(step, issue),
  parameterLengths: (step) => [
    ['lower', step.lower.length, step.columns.length],
    ['upper', step.upper.length, step.columns.length],
  ],
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const threshold = step.threshold ?? (step.method === 'iqr' ? 1.5 : 3);
    const lower: number[] = [];
    const upper: number[] = [];
    for (const name of step.columns) {
      const values = frame.numeric(name, where);
      if (step.method === 'iqr') {
        const sorted = sortedPresent(values);
        if (sorted.length === 0) throw noData(where, name);
        const q1 = quantileSorted(sorted, 0.25);
        const q3 = quantileSorted(sorted, 0.75);
        lower.push(q1 - threshold * (q3 - q1));
        upper.push(q3 + threshold * (q3 - q1));
      } else {
        const s = meanStd(values);
        if (s.count === 0) throw noData(where, name);
        lower.push(s.mean - threshold * s.std);
        upper.push(s.mean + threshold * s.std);
      }
    }
    return {
      type: 'drop_outliers' as const,
      columns: step.columns,
      method: step.method,
      lower,
      upper,
      rowsDropped: 0,
    };
  },
  writes: () => [],
  touches: (step) => step.columns,
  keepRows(step, frame, where) {
    const keep = new Uint8Array(frame.rows).fill(1);
    step.columns.forEach((name, j) => {
      const values = frame.numeric(name, where);
      const lo = step.lower[j]!;
      const hi = step.upper[j]!;
      for (let i = 0; i < frame.rows; i += 1) {
        const v = values[i]!;
        if (v < lo || v > hi) keep[i] = 0;
      }
    });
    return keep;
  },
});

import { z } from 'zod';

import { quantileSorted, sortedPresent } from '../stats';
import {
  checkPerColumn,
  columnsSchema,
  defineStep,
  invalid,
  noData,
  outputsSchema,
  perColumnLengths,
} from './step';

/** A clip bound: a given value, or a quantile (0..1) of the training data at that point. */
export const clipBoundSchema = z.union([z.number(), z.object({ quantile: z.number().min(0).max(1) })]);

/** Clamps to [lower, upper]; at least one bound, each given or a fitted quantile. */
export const clipStep = defineStep({
  type: 'clip',
  spec: z.object({
    type: z.literal('clip'),
    columns: columnsSchema,
    outputs: outputsSchema,
    lower: clipBoundSchema.optional(),
    upper: clipBoundSchema.optional(),
  }),
  fitted: z.object({
    type: z.literal('clip'),
    columns: columnsSchema,
    outputs: columnsSchema,
    lower: z.array(z.number().nullable()),
    upper: z.array(z.number().nullable()),
  }),
  check(step, issue) {
    checkPerColumn(step, issue, step.columns.length, 'clip');
    if (step.lower === undefined && step.upper === undefined)
      issue([], 'clip needs a lower or an upper bound');
    if (typeof step.lower === 'number' && typeof step.upper === 'number' && step.lower > step.upper)
      issue([], 'clip lower bound is above the upper bound');
  },
  parameterLengths: (step) => perColumnLengths(step, { lower: step.lower, upper: step.upper }),
  // Fitting refuses crossed bounds; a stored artifact may have them (every value would become the upper bound).
  checkFitted(step, issue) {
    step.columns.forEach((name, j) => {
      const lo = step.lower[j];
      const hi = step.upper[j];
      if (typeof lo === 'number' && typeof hi === 'number' && lo > hi) issue(['lower', j], `lower bound ${lo} is above upper bound ${hi} for '${name}'`);
    });
  },
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const lower: (number | null)[] = [];
    const upper: (number | null)[] = [];
    for (const name of step.columns) {
      const values = frame.numeric(name, where);
      let sorted: Float64Array | undefined;
      const bound = (b: (typeof step)['lower']): number | null => {
        if (b === undefined) return null;
        if (typeof b === 'number') return b;
        sorted ??= sortedPresent(values);
        if (sorted.length === 0) throw noData(where, name);
        return quantileSorted(sorted, b.quantile);
      };
      const lo = bound(step.lower);
      const hi = bound(step.upper);
      if (lo !== null && hi !== null && lo > hi)
        throw invalid(`${where}: fitted lower bound ${lo} is above upper bound ${hi} for '${name}'`);
      lower.push(lo);
      upper.push(hi);
    }
    return {
      type: 'clip' as const,
      columns: step.columns,
      outputs: step.outputs ?? step.columns,
      lower,
      upper,
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply(step, frame, _reject, where) {
    const n = frame.rows;
    step.columns.forEach((name, j) => {
      const source = frame.numeric(name, where);
      const output = step.outputs[j]!;
      // Copy, then patch the values out of bounds: cheaper than a store per value.
      const out = frame.target(source, name, output);
      const lo = step.lower[j] ?? -Infinity;
      const hi = step.upper[j] ?? Infinity;
      for (let i = 0; i < n; i += 1) {
        const v = out[i]!;
        if (v < lo) out[i] = lo;
        else if (v > hi) out[i] = hi;
      }
      frame.setNumeric(output, out);
    });
  },
});

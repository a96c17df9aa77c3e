import { z } from 'zod';

import { meanStd } from '../stats';
import { checkScale, shiftAndScale } from './scale';
import { checkPerColumn, columnsSchema, defineStep, noData, outputsSchema, perColumnLengths } from './step';

/** (x - mean) / std with the population std (ddof 0); a constant column gets std 1. */
export const standardizeStep = defineStep({
  type: 'standardize',
  spec: z.object({ type: z.literal('standardize'), columns: columnsSchema, outputs: outputsSchema }),
  fitted: z.object({
    type: z.literal('standardize'),
    columns: columnsSchema,
    outputs: columnsSchema,
    mean: z.array(z.number()),
    scale: z.array(z.number()),
  }),
  check: (step, issue) => checkPerColumn(step, issue, step.columns.length, 'standardize'),
  parameterLengths: (step) => perColumnLengths(step, { mean: step.mean, scale: step.scale }),
  checkFitted: checkScale,
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const stats = step.columns.map((name) => {
      const s = meanStd(frame.numeric(name, where));
      if (s.count === 0) throw noData(where, name);
      return s;
    });
    return {
      type: 'standardize' as const,
      columns: step.columns,
      outputs: step.outputs ?? step.columns,
      mean: stats.map((s) => s.mean),
      // scikit-learn's StandardScaler: a zero variance column is centred, not scaled.
      scale: stats.map((s) => (s.std > 0 ? s.std : 1)),
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply: (step, frame, _reject, where) => shiftAndScale(frame, step, step.mean, step.scale, where),
});

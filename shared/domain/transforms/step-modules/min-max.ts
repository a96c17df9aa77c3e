import { z } from 'zod';

import { minMax } from '../stats';
import { checkScale, shiftAndScale } from './scale';
import { checkPerColumn, columnsSchema, defineStep, noData, outputsSchema, perColumnLengths } from './step';

/** (x - min) / (max - min) to [0, 1] on training data; a constant column gets range 1. */
export const minMaxStep = defineStep({
  type: 'min_max',
  spec: z.object({ type: z.literal('min_max'), columns: columnsSchema, outputs: outputsSchema }),
  fitted: z.object({
    type: z.literal('min_max'),
    columns: columnsSchema,
    outputs: columnsSchema,
    min: z.array(z.number()),
    scale: z.array(z.number()),
  }),
  check: (step, issue) => checkPerColumn(step, issue, step.columns.length, 'min_max'),
  parameterLengths: (step) => perColumnLengths(step, { min: step.min, scale: step.scale }),
  checkFitted: checkScale,
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const stats = step.columns.map((name) => {
      const s = minMax(frame.numeric(name, where));
      if (s.count === 0) throw noData(where, name);
      return s;
    });
    return {
      type: 'min_max' as const,
      columns: step.columns,
      outputs: step.outputs ?? step.columns,
      min: stats.map((s) => s.min),
      scale: stats.map((s) => (s.max > s.min ? s.max - s.min : 1)),
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply: (step, frame, _reject, where) => shiftAndScale(frame, step, step.min, step.scale, where),
});

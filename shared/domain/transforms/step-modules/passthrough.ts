import { z } from 'zod';

import { checkPerColumn, columnsSchema, defineStep, outputsSchema, perColumnLengths } from './step';

/**
 * Copies numeric columns unchanged, under `outputs` when given: a spec can keep a raw feature
 * beside its transformed form (`age` and `age_z`), and says in so many words that it is raw.
 */
export const passthroughStep = defineStep({
  type: 'passthrough',
  spec: z.object({ type: z.literal('passthrough'), columns: columnsSchema, outputs: outputsSchema }),
  fitted: z.object({ type: z.literal('passthrough'), columns: columnsSchema, outputs: columnsSchema }),
  check: (step, issue) => checkPerColumn(step, issue, step.columns.length, 'passthrough'),
  parameterLengths: (step) => perColumnLengths(step),
  reads: (step) => step.columns,
  fit(step, frame, where) {
    step.columns.forEach((name) => frame.numeric(name, where));
    return { type: 'passthrough' as const, columns: step.columns, outputs: step.outputs ?? step.columns };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply(step, frame, _reject, where) {
    step.columns.forEach((name, j) => {
      const output = step.outputs[j]!;
      if (output === name) return;
      // A copy, not the same array: a later step may overwrite either column in place.
      const copy = frame.alloc();
      copy.set(frame.numeric(name, where));
      frame.setNumeric(output, copy);
    });
  },
});

import { z } from 'zod';

import {
  checkPerColumn,
  columnsSchema,
  defineStep,
  formatValue,
  outputsSchema,
  perColumnLengths,
} from './step';

/** log(1 + x). x <= -1 gives a non-finite value: the row is rejected with the reason. */
export const log1pStep = defineStep({
  type: 'log1p',
  spec: z.object({ type: z.literal('log1p'), columns: columnsSchema, outputs: outputsSchema }),
  fitted: z.object({ type: z.literal('log1p'), columns: columnsSchema, outputs: columnsSchema }),
  check: (step, issue) => checkPerColumn(step, issue, step.columns.length, 'log1p'),
  parameterLengths: (step) => perColumnLengths(step),
  reads: (step) => step.columns,
  fit(step, frame, where) {
    step.columns.forEach((name) => frame.numeric(name, where));
    return { type: 'log1p' as const, columns: step.columns, outputs: step.outputs ?? step.columns };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply(step, frame, reject, where) {
    const n = frame.rows;
    step.columns.forEach((name, j) => {
      const source = frame.numeric(name, where);
      const output = step.outputs[j]!;
      const out = frame.output(source, name, output);
      for (let i = 0; i < n; i += 1) {
        const v = source[i]!;
        const r = Math.log1p(v);
        out[i] = r;
        if (!Number.isFinite(r) && v === v)
          reject(i, `${where}: log1p(${formatValue(v)}) of '${name}' is not finite`);
      }
      frame.setNumeric(output, out);
    });
  },
});

import { z } from 'zod';

import { datetimePart } from '../datetime';
import { columnsSchema, defineStep, transformColumnSchema } from './step';

/**
 * Calendar parts of a datetime column (epoch ms, read in UTC). hour 0-23; day_of_week 0 = Monday
 * .. 6 = Sunday; month 1-12; season by meteorological northern-hemisphere months:
 * 0 winter (Dec, Jan, Feb), 1 spring (Mar-May), 2 summer (Jun-Aug), 3 autumn (Sep-Nov).
 * Outputs are named `<prefix><part>` (prefix defaults to `<column>_`).
 */
export const datetimePartSchema = z.enum(['hour', 'day_of_week', 'month', 'season']);

export const datetimePartsStep = defineStep({
  type: 'datetime_parts',
  spec: z.object({
    type: z.literal('datetime_parts'),
    column: transformColumnSchema,
    parts: z.array(datetimePartSchema).min(1),
    prefix: z.string().max(100).optional(),
  }),
  fitted: z.object({
    type: z.literal('datetime_parts'),
    column: transformColumnSchema,
    parts: z.array(datetimePartSchema).min(1),
    outputs: columnsSchema,
  }),
  check(step, issue) {
    if (new Set(step.parts).size !== step.parts.length) issue(['parts'], 'parts must be distinct');
  },
  parameterLengths: (step) => [['outputs', step.outputs.length, step.parts.length]],
  reads: (step) => [step.column],
  fit(step, frame, where) {
    frame.numeric(step.column, where);
    const prefix = step.prefix ?? `${step.column}_`;
    return {
      type: 'datetime_parts' as const,
      column: step.column,
      parts: step.parts,
      outputs: step.parts.map((p) => `${prefix}${p}`),
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [step.column, ...step.outputs],
  apply(step, frame, _reject, where) {
    const source = frame.numeric(step.column, where);
    const outs = step.parts.map((part) => {
      const out = frame.alloc();
      datetimePart(part, source, out);
      return out;
    });
    step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
  },
});

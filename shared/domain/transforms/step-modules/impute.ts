import { z } from 'zod';

import { meanStd, medianSorted, modeCategorical, modeNumeric, sortedPresent } from '../stats';
import {
  checkPerColumn,
  columnsSchema,
  defineStep,
  invalid,
  noData,
  outputsSchema,
  perColumnLengths,
} from './step';

const strategySchema = z.enum(['mean', 'median', 'constant', 'most_frequent']);

/** Fills missing values (NaN / null). mean and median need numeric columns. */
export const imputeStep = defineStep({
  type: 'impute',
  spec: z.object({
    type: z.literal('impute'),
    columns: columnsSchema,
    outputs: outputsSchema,
    strategy: strategySchema,
    /** The fill value for `constant`: a number for numeric columns, a string for categorical ones. */
    fillValue: z.union([z.number(), z.string()]).optional(),
  }),
  fitted: z.object({
    type: z.literal('impute'),
    columns: columnsSchema,
    outputs: columnsSchema,
    strategy: strategySchema,
    /** One fill value per column: a number for numeric columns, a string for categorical ones. */
    fill: z.array(z.union([z.number(), z.string()])),
  }),
  check(step, issue) {
    checkPerColumn(step, issue, step.columns.length, 'impute');
    if (step.strategy === 'constant' && step.fillValue === undefined)
      issue(['fillValue'], "strategy 'constant' needs a fillValue");
  },
  parameterLengths: (step) => perColumnLengths(step, { fill: step.fill }),
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const fill = step.columns.map((name): number | string => {
      const column = frame.get(name, where);
      if (step.strategy === 'constant') {
        const value = step.fillValue!;
        const wanted = column.kind === 'numeric' ? 'number' : 'string';
        if (typeof value !== wanted)
          throw invalid(`${where}: fillValue for ${column.kind} column '${name}' must be a ${wanted}`);
        return value;
      }
      if (column.kind === 'categorical') {
        if (step.strategy !== 'most_frequent')
          throw invalid(
            `${where}: strategy '${step.strategy}' needs a numeric column, '${name}' is categorical`,
          );
        const mode = modeCategorical(column.values);
        if (mode === null) throw noData(where, name);
        return mode;
      }
      const value =
        step.strategy === 'mean'
          ? meanStd(column.values).mean
          : step.strategy === 'median'
            ? medianSorted(sortedPresent(column.values))
            : modeNumeric(column.values);
      if (Number.isNaN(value)) throw noData(where, name);
      return value;
    });
    return {
      type: 'impute' as const,
      columns: step.columns,
      outputs: step.outputs ?? step.columns,
      strategy: step.strategy,
      fill,
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply(step, frame, _reject, where) {
    const n = frame.rows;
    step.columns.forEach((name, j) => {
      const column = frame.get(name, where);
      const fill = step.fill[j]!;
      const output = step.outputs[j]!;
      if (column.kind === 'numeric') {
        if (typeof fill !== 'number')
          throw invalid(`${where}: fill value for numeric '${name}' is not a number`);
        // Copy, then patch the few missing values: cheaper than a store per value.
        const out = frame.target(column.values, name, output);
        for (let i = 0; i < n; i += 1) if (out[i] !== out[i]) out[i] = fill;
        frame.setNumeric(output, out);
      } else {
        if (typeof fill !== 'string')
          throw invalid(`${where}: fill value for categorical '${name}' is not a string`);
        frame.setCategorical(
          output,
          column.values.map((v) => v ?? fill),
        );
      }
    });
  },
});

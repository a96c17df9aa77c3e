import { z } from 'zod';

import { errors } from '../../errors';
import { fitPca, projectOnComponents } from '../pca';
import {
  checkPerColumn,
  columnsSchema,
  defineStep,
  outputsSchema,
  type ParameterLength,
  transformColumnSchema,
} from './step';

/**
 * Principal components of the listed columns (fitted on training rows where all are present):
 * outputs default to `<prefix>0 .. <prefix>(n-1)` with prefix `pca_`. Sign convention: in each
 * component the loading with the largest magnitude is positive.
 */
export const pcaStep = defineStep({
  type: 'pca',
  spec: z.object({
    type: z.literal('pca'),
    columns: z.array(transformColumnSchema).min(2),
    nComponents: z.number().int().min(1),
    prefix: z.string().max(100).default('pca_'),
    outputs: outputsSchema,
  }),
  fitted: z.object({
    type: z.literal('pca'),
    columns: z.array(transformColumnSchema).min(2),
    outputs: columnsSchema,
    mean: z.array(z.number()),
    /** nComponents rows of `columns.length` loadings each (unit vectors). */
    components: z.array(z.array(z.number())),
    /** Variance along each component (eigenvalue / (n - 1)), for information. */
    explainedVariance: z.array(z.number()),
  }),
  check(step, issue) {
    checkPerColumn(step, issue, step.nComponents, 'pca');
    if (step.nComponents > step.columns.length)
      issue(
        ['nComponents'],
        `nComponents ${step.nComponents} exceeds the ${step.columns.length} input columns`,
      );
  },
  parameterLengths: (step) => [
    ['mean', step.mean.length, step.columns.length],
    ['components', step.components.length, step.outputs.length],
    ['explainedVariance', step.explainedVariance.length, step.outputs.length],
    ...step.components.map((c, k): ParameterLength => [`components.${k}`, c.length, step.columns.length]),
  ],
  reads: (step) => step.columns,
  fit(step, frame, where) {
    const columns = step.columns.map((name) => frame.numeric(name, where));
    const fit = fitPca(columns, step.nComponents);
    if (fit.rowsUsed < 2)
      throw errors.insufficientData(`${where}: PCA needs at least 2 rows with every column present`);
    const outputs = step.outputs ?? Array.from({ length: step.nComponents }, (_, k) => `${step.prefix}${k}`);
    return {
      type: 'pca' as const,
      columns: step.columns,
      outputs,
      mean: fit.mean,
      components: fit.components,
      explainedVariance: fit.explainedVariance,
    };
  },
  writes: (step) => step.outputs,
  touches: (step) => [...step.columns, ...step.outputs],
  apply(step, frame, _reject, where) {
    const inputs = step.columns.map((name) => frame.numeric(name, where));
    const outs = step.outputs.map(() => frame.alloc(true));
    projectOnComponents(inputs, step.mean, step.components, outs, frame.rows);
    step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
  },
});

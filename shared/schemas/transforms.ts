import { z } from 'zod';

import { ExpressionSyntaxError, parseExpression } from '../domain/transforms/expression';
import { sha256Schema } from './common';

/**
 * Feature transform specs and their fitted parameters. Semantics of every step are documented in
 * docs/transforms.md; the implementation lives in shared/domain/transforms.
 *
 * A spec is an ordered list of steps over named columns. Each step reads columns from the
 * "frame" (the raw input columns plus whatever earlier steps wrote) and writes output columns
 * (by default in place, under the input's name). `output` lists the columns, in order, that form
 * the model's input vector.
 */

/** A column in the transform frame: a raw input column or one written by a step. */
export const transformColumnSchema = z.string().min(1).max(200);

const columns = z.array(transformColumnSchema).min(1);
/** Output names for a per-column step; omitted means "replace the input columns in place". */
const outputs = columns.optional();

/** A clip bound: a given value, or a quantile (0..1) of the training data at that point. */
export const clipBoundSchema = z.union([z.number(), z.object({ quantile: z.number().min(0).max(1) })]);

/** Fills missing values (NaN / null). mean and median need numeric columns. */
export const imputeStepSchema = z.object({
  type: z.literal('impute'),
  columns,
  outputs,
  strategy: z.enum(['mean', 'median', 'constant', 'most_frequent']),
  /** The fill value for `constant`: a number for numeric columns, a string for categorical ones. */
  fillValue: z.union([z.number(), z.string()]).optional(),
});

/** (x - mean) / std with the population std (ddof 0); a constant column gets std 1. */
export const standardizeStepSchema = z.object({ type: z.literal('standardize'), columns, outputs });

/** (x - min) / (max - min) to [0, 1] on training data; a constant column gets range 1. */
export const minMaxStepSchema = z.object({ type: z.literal('min_max'), columns, outputs });

/** Clamps to [lower, upper]; at least one bound, each given or a fitted quantile. */
export const clipStepSchema = z.object({
  type: z.literal('clip'),
  columns,
  outputs,
  lower: clipBoundSchema.optional(),
  upper: clipBoundSchema.optional(),
});

/** log(1 + x). x <= -1 gives a non-finite value: the row is rejected with the reason. */
export const log1pStepSchema = z.object({ type: z.literal('log1p'), columns, outputs });

/** How a category not seen in training is handled at inference. */
export const unseenCategoryPolicySchema = z.enum(['error', 'ignore', 'other']);

/**
 * One output column per category, named `<prefix><category>` (prefix defaults to `<column>_`).
 * Unseen categories: `error` rejects the row, `ignore` writes all zeros, `other` sets an extra
 * last column `<prefix>__other__`. A missing value (null) rejects the row: impute first.
 */
export const oneHotStepSchema = z.object({
  type: z.literal('one_hot'),
  column: transformColumnSchema,
  /** Given categories in output order; omitted means fitted: the distinct values, sorted. */
  categories: z.array(z.string()).min(1).optional(),
  unseen: unseenCategoryPolicySchema.default('error'),
  prefix: z.string().max(100).optional(),
});

/**
 * Category -> its index (0, 1, ...) in `categories` (given, or fitted: distinct values sorted).
 * Unseen categories: `error` rejects the row, `value` writes `unseenValue`.
 */
export const ordinalStepSchema = z.object({
  type: z.literal('ordinal'),
  column: transformColumnSchema,
  output: transformColumnSchema.optional(),
  categories: z.array(z.string()).min(1).optional(),
  unseen: z.enum(['error', 'value']).default('error'),
  unseenValue: z.number().default(-1),
});

/**
 * x -> number of edges <= x (0 .. edges.length), like numpy.digitize(x, edges). Edges are given
 * (strictly increasing) or fitted as the 1/q .. (q-1)/q quantiles for `quantiles: q` buckets
 * (duplicates removed).
 */
export const bucketizeStepSchema = z.object({
  type: z.literal('bucketize'),
  column: transformColumnSchema,
  output: transformColumnSchema.optional(),
  edges: z.array(z.number()).min(1).optional(),
  quantiles: z.number().int().min(2).max(1000).optional(),
});

/**
 * Principal components of the listed columns (fitted on training rows where all are present):
 * outputs default to `<prefix>0 .. <prefix>(n-1)` with prefix `pca_`. Sign convention: in each
 * component the loading with the largest magnitude is positive.
 */
export const pcaStepSchema = z.object({
  type: z.literal('pca'),
  columns: z.array(transformColumnSchema).min(2),
  nComponents: z.number().int().min(1),
  prefix: z.string().max(100).default('pca_'),
  outputs,
});

/**
 * Calendar parts of a datetime column (epoch ms, read in UTC). hour 0-23; day_of_week 0 = Monday
 * .. 6 = Sunday; month 1-12; season by meteorological northern-hemisphere months:
 * 0 winter (Dec, Jan, Feb), 1 spring (Mar-May), 2 summer (Jun-Aug), 3 autumn (Sep-Nov).
 * Outputs are named `<prefix><part>` (prefix defaults to `<column>_`).
 */
export const datetimePartSchema = z.enum(['hour', 'day_of_week', 'month', 'season']);
export const datetimePartsStepSchema = z.object({
  type: z.literal('datetime_parts'),
  column: transformColumnSchema,
  parts: z.array(datetimePartSchema).min(1),
  prefix: z.string().max(100).optional(),
});

/** A new column computed by an expression (grammar in docs/transforms.md). */
export const derivedStepSchema = z.object({
  type: z.literal('derived'),
  output: transformColumnSchema,
  expression: z.string().min(1).max(2000),
});

/**
 * Training only: drops rows with a value outside [q1 - k*IQR, q3 + k*IQR] (`iqr`, k default 1.5)
 * or further than k std from the mean (`zscore`, k default 3) in any listed column. Missing
 * values are not outliers. Never applied at inference.
 */
export const dropOutliersStepSchema = z.object({
  type: z.literal('drop_outliers'),
  columns,
  method: z.enum(['iqr', 'zscore']),
  threshold: z.number().positive().optional(),
});

/**
 * A row condition of `filter_rows`. A missing value satisfies only `missing`; every other
 * condition on a missing value is false.
 */
export const rowConditionSchema = z.union([
  z.object({
    column: transformColumnSchema,
    op: z.enum(['lt', 'le', 'gt', 'ge', 'eq', 'ne']),
    value: z.number(),
  }),
  z.object({
    column: transformColumnSchema,
    op: z.enum(['in', 'not_in']),
    values: z.array(z.union([z.string(), z.number()])).min(1),
  }),
  z.object({ column: transformColumnSchema, op: z.enum(['missing', 'not_missing']) }),
]);

/** Training only: keeps the rows that satisfy every condition. Never applied at inference. */
export const filterRowsStepSchema = z.object({
  type: z.literal('filter_rows'),
  where: z.array(rowConditionSchema).min(1),
});

/** One step of a transform spec. */
export const transformStepSchema = z.discriminatedUnion('type', [
  imputeStepSchema,
  standardizeStepSchema,
  minMaxStepSchema,
  clipStepSchema,
  log1pStepSchema,
  oneHotStepSchema,
  ordinalStepSchema,
  bucketizeStepSchema,
  pcaStepSchema,
  datetimePartsStepSchema,
  derivedStepSchema,
  dropOutliersStepSchema,
  filterRowsStepSchema,
]);
export type TransformStep = z.infer<typeof transformStepSchema>;
export type TransformStepType = TransformStep['type'];

/** Steps that `fitTransforms` honours and `applyTransforms` never applies. */
export const trainingOnlyStepTypes: ReadonlySet<TransformStepType> = new Set([
  'drop_outliers',
  'filter_rows',
]);

/** The version of the spec format. Bump with a migration when the format changes incompatibly. */
export const TRANSFORM_SPEC_VERSION = 1;

/** A feature transform spec, written by the data science team and stored with a model version. */
export const transformSpecSchema = z
  .object({
    specVersion: z.literal(TRANSFORM_SPEC_VERSION),
    steps: z.array(transformStepSchema).default([]),
    /** The model input: these columns, in this order, form each row's feature vector. */
    output: z.array(transformColumnSchema).min(1),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const seen = new Set<string>();
    spec.output.forEach((name, i) => {
      if (seen.has(name)) issue(['output', i], `'${name}' appears twice in output`);
      seen.add(name);
    });
    spec.steps.forEach((step, i) => {
      const at = ['steps', i];
      if ('outputs' in step && step.outputs !== undefined) {
        const wanted = step.type === 'pca' ? step.nComponents : step.columns.length;
        if (step.outputs.length !== wanted)
          issue(
            [...at, 'outputs'],
            `${step.type} needs ${wanted} output name(s), got ${step.outputs.length}`,
          );
        if (new Set(step.outputs).size !== step.outputs.length)
          issue([...at, 'outputs'], 'output names must be distinct');
      }
      if ('columns' in step && new Set(step.columns).size !== step.columns.length)
        issue([...at, 'columns'], 'columns must be distinct');
      switch (step.type) {
        case 'impute':
          if (step.strategy === 'constant' && step.fillValue === undefined)
            issue([...at, 'fillValue'], "strategy 'constant' needs a fillValue");
          break;
        case 'clip':
          if (step.lower === undefined && step.upper === undefined)
            issue(at, 'clip needs a lower or an upper bound');
          if (typeof step.lower === 'number' && typeof step.upper === 'number' && step.lower > step.upper)
            issue(at, 'clip lower bound is above the upper bound');
          break;
        case 'one_hot':
        case 'ordinal':
          if (step.categories && new Set(step.categories).size !== step.categories.length)
            issue([...at, 'categories'], 'categories must be distinct');
          break;
        case 'bucketize':
          if ((step.edges === undefined) === (step.quantiles === undefined))
            issue(at, 'bucketize needs exactly one of edges or quantiles');
          if (step.edges?.some((e, j) => j > 0 && !(e > step.edges![j - 1]!)))
            issue([...at, 'edges'], 'edges must be strictly increasing');
          break;
        case 'pca':
          if (step.nComponents > step.columns.length)
            issue(
              [...at, 'nComponents'],
              `nComponents ${step.nComponents} exceeds the ${step.columns.length} input columns`,
            );
          break;
        case 'datetime_parts':
          if (new Set(step.parts).size !== step.parts.length)
            issue([...at, 'parts'], 'parts must be distinct');
          break;
        case 'derived':
          try {
            parseExpression(step.expression);
          } catch (e) {
            if (!(e instanceof ExpressionSyntaxError)) throw e;
            issue([...at, 'expression'], e.message);
          }
          break;
        default:
          break;
      }
    });
  });
/** What a data science team writes (defaults may be omitted). */
export type TransformSpecInput = z.input<typeof transformSpecSchema>;
export type TransformSpec = z.infer<typeof transformSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Fitted parameters: plain JSON data, stored with the model version next to the spec.

const fittedColumns = { columns, outputs: columns };

/** Per-step fitted parameters. Every number is finite; every output name is resolved. */
export const fittedStepSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('impute'),
    ...fittedColumns,
    strategy: imputeStepSchema.shape.strategy,
    /** One fill value per column: a number for numeric columns, a string for categorical ones. */
    fill: z.array(z.union([z.number(), z.string()])),
  }),
  z.object({
    type: z.literal('standardize'),
    ...fittedColumns,
    mean: z.array(z.number()),
    scale: z.array(z.number()),
  }),
  z.object({
    type: z.literal('min_max'),
    ...fittedColumns,
    min: z.array(z.number()),
    scale: z.array(z.number()),
  }),
  z.object({
    type: z.literal('clip'),
    ...fittedColumns,
    lower: z.array(z.number().nullable()),
    upper: z.array(z.number().nullable()),
  }),
  z.object({ type: z.literal('log1p'), ...fittedColumns }),
  z.object({
    type: z.literal('one_hot'),
    column: transformColumnSchema,
    categories: z.array(z.string()).min(1),
    unseen: unseenCategoryPolicySchema,
    /** One name per category, plus the `other` bucket last when unseen is `other`. */
    outputs: columns,
  }),
  z.object({
    type: z.literal('ordinal'),
    column: transformColumnSchema,
    output: transformColumnSchema,
    categories: z.array(z.string()).min(1),
    unseen: z.enum(['error', 'value']),
    unseenValue: z.number(),
  }),
  z.object({
    type: z.literal('bucketize'),
    column: transformColumnSchema,
    output: transformColumnSchema,
    edges: z.array(z.number()).min(1),
  }),
  z.object({
    type: z.literal('pca'),
    columns: z.array(transformColumnSchema).min(2),
    outputs: columns,
    mean: z.array(z.number()),
    /** nComponents rows of `columns.length` loadings each (unit vectors). */
    components: z.array(z.array(z.number())),
    /** Variance along each component (eigenvalue / (n - 1)), for information. */
    explainedVariance: z.array(z.number()),
  }),
  z.object({
    type: z.literal('datetime_parts'),
    column: transformColumnSchema,
    parts: z.array(datetimePartSchema).min(1),
    outputs: columns,
  }),
  z.object({
    type: z.literal('derived'),
    output: transformColumnSchema,
    expression: z.string().min(1).max(2000),
    /** The columns the expression reads. */
    inputs: z.array(transformColumnSchema),
  }),
  z.object({
    type: z.literal('drop_outliers'),
    columns,
    method: dropOutliersStepSchema.shape.method,
    lower: z.array(z.number()),
    upper: z.array(z.number()),
    /** Training rows this step removed. */
    rowsDropped: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('filter_rows'),
    where: filterRowsStepSchema.shape.where,
    rowsDropped: z.number().int().nonnegative(),
  }),
]);
export type FittedStep = z.infer<typeof fittedStepSchema>;

/** The kind of a raw input column: numeric (incl. boolean and datetime) or categorical. */
export const inputKindSchema = z.enum(['numeric', 'categorical']);
export type InputKind = z.infer<typeof inputKindSchema>;

/**
 * Fitted transforms: everything `applyTransforms` needs, as JSON data. Stored with the model
 * version; `fittedTransformsHash` identifies it.
 */
export const fittedTransformsSchema = z
  .object({
    specVersion: z.literal(TRANSFORM_SPEC_VERSION),
    /** transformSpecHash of the spec this was fitted from. */
    specHash: sha256Schema,
    /** Raw input columns the transforms read, with their kind. */
    inputs: z.array(z.object({ name: transformColumnSchema, kind: inputKindSchema })),
    steps: z.array(fittedStepSchema),
    /** The model input columns, in order. */
    output: z.array(transformColumnSchema).min(1),
    /** Rows in the training batch, and rows left after training-only steps. */
    trainingRows: z.number().int().nonnegative(),
    fittedRows: z.number().int().nonnegative(),
  })
  .superRefine((fitted, ctx) => {
    // Parameter arrays must line up with their columns: a stored artifact is read back from
    // storage, and a short array would silently turn into NaN features.
    fitted.steps.forEach((step, i) => {
      const lengths = fittedParameterLengths(step);
      for (const [field, actual, expected] of lengths) {
        if (actual !== expected)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, field],
            message: `${step.type} has ${actual} ${field} for ${expected} expected`,
          });
      }
      if (step.type === 'derived') {
        try {
          parseExpression(step.expression);
        } catch (e) {
          if (!(e instanceof ExpressionSyntaxError)) throw e;
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'expression'], message: e.message });
        }
      }
    });
  });

/** [field, actual length, expected length] of each per-column parameter array of a fitted step. */
function fittedParameterLengths(step: FittedStep): Array<[string, number, number]> {
  switch (step.type) {
    case 'impute':
      return [
        ['outputs', step.outputs.length, step.columns.length],
        ['fill', step.fill.length, step.columns.length],
      ];
    case 'standardize':
      return [
        ['outputs', step.outputs.length, step.columns.length],
        ['mean', step.mean.length, step.columns.length],
        ['scale', step.scale.length, step.columns.length],
      ];
    case 'min_max':
      return [
        ['outputs', step.outputs.length, step.columns.length],
        ['min', step.min.length, step.columns.length],
        ['scale', step.scale.length, step.columns.length],
      ];
    case 'clip':
      return [
        ['outputs', step.outputs.length, step.columns.length],
        ['lower', step.lower.length, step.columns.length],
        ['upper', step.upper.length, step.columns.length],
      ];
    case 'log1p':
      return [['outputs', step.outputs.length, step.columns.length]];
    case 'one_hot':
      return [['outputs', step.outputs.length, step.categories.length + (step.unseen === 'other' ? 1 : 0)]];
    case 'pca':
      return [
        ['mean', step.mean.length, step.columns.length],
        ['components', step.components.length, step.outputs.length],
        ['explainedVariance', step.explainedVariance.length, step.outputs.length],
        ...step.components.map((c, k): [string, number, number] => [
          `components.${k}`,
          c.length,
          step.columns.length,
        ]),
      ];
    case 'datetime_parts':
      return [['outputs', step.outputs.length, step.parts.length]];
    case 'drop_outliers':
      return [
        ['lower', step.lower.length, step.columns.length],
        ['upper', step.upper.length, step.columns.length],
      ];
    default:
      return [];
  }
}
export type FittedTransforms = z.infer<typeof fittedTransformsSchema>;

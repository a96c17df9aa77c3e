import { z } from 'zod';

import { scheduleProblem } from '../domain/schedule';
import { columnNameSchema, isoDateTimeSchema, modelNameSchema } from './common';
import { modelPoliciesSchema } from './policies';

export const modelTaskSchema = z.enum(['regression', 'binary', 'multiclass']);
export type ModelTask = z.infer<typeof modelTaskSchema>;

const featureBase = {
  name: columnNameSchema,
  nullable: z.boolean().default(false),
  description: z.string().max(500).optional(),
};

/** One input column of the model, with what its training data looked like. */
export const featureSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...featureBase,
    type: z.literal('numeric'),
    /** Fitted range: values outside it are flagged as a new data flavour, and rejected if `strictRange`. */
    range: z.strictObject({ min: z.number(), max: z.number() }).optional(),
    strictRange: z.boolean().default(false),
  }),
  z.strictObject({
    ...featureBase,
    type: z.literal('categorical'),
    /** Values seen in training. Unseen values are a new flavour; rejected only if `strictValues`. */
    allowedValues: z.array(z.string()).optional(),
    strictValues: z.boolean().default(false),
  }),
  z.strictObject({ ...featureBase, type: z.literal('boolean') }),
  z.strictObject({
    ...featureBase,
    type: z.literal('datetime'),
    range: z.strictObject({ min: isoDateTimeSchema, max: isoDateTimeSchema }).optional(),
  }),
]);
export type Feature = z.infer<typeof featureSchema>;
export type FeatureType = Feature['type'];

/** Where predictions go in output files. */
export const predictionColumnsSchema = z.strictObject({
  prediction: columnNameSchema.default('prediction'),
  /** Prefix of per-class probability columns (`probability_<class>`) for classifiers. */
  probabilityPrefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default('probability_'),
});

const modelFieldsSchema = z.strictObject({
  name: modelNameSchema,
  description: z.string().max(2000).default(''),
  task: modelTaskSchema,
  /** Joins predictions to actuals. */
  idColumn: columnNameSchema,
  timestampColumn: columnNameSchema.optional(),
  /** Actuals column name in actuals files. */
  targetColumn: columnNameSchema.default('actual'),
  features: z.array(featureSchema).min(1),
  /** Columns that split monitoring and validation into segments (region, season, ...). */
  segmentKeys: z.array(columnNameSchema).default([]),
  /** Class labels in the order of the model's probability output (classifiers only). */
  classLabels: z.array(z.string().min(1)).optional(),
  predictionColumns: predictionColumnsSchema.default(() => predictionColumnsSchema.parse({})),
  policies: modelPoliciesSchema.default(() => modelPoliciesSchema.parse({})),
  owners: z.array(z.string().min(1)).default([]),
  /** NCRONTAB (six fields, UTC) for scheduled scoring of the drops accumulated in `drops/{model}/scheduled/`. */
  schedule: z
    .string()
    .superRefine((expression, ctx) => {
      const problem = scheduleProblem(expression);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

/** Feature names are unique; a classifier has enough class labels (unless its graph may name them), all distinct. */
function checkModel(
  m: z.output<typeof modelFieldsSchema>,
  ctx: z.RefinementCtx,
  classLabelsFromGraph: boolean,
): void {
  const names = new Set<string>();
  for (const [i, f] of m.features.entries()) {
    if (names.has(f.name))
      ctx.addIssue({
        code: 'custom',
        path: ['features', i, 'name'],
        message: `duplicate feature '${f.name}'`,
      });
    names.add(f.name);
  }
  if (m.task !== 'regression') {
    const min = m.task === 'binary' ? 2 : 3;
    if (!m.classLabels) {
      if (!classLabelsFromGraph)
        ctx.addIssue({
          code: 'custom',
          path: ['classLabels'],
          message: `a ${m.task} model needs at least ${min} class labels`,
        });
    } else if (m.classLabels.length < min) {
      ctx.addIssue({
        code: 'custom',
        path: ['classLabels'],
        message: `a ${m.task} model needs at least ${min} class labels`,
      });
    } else if (m.task === 'binary' && m.classLabels.length !== 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['classLabels'],
        message: 'a binary model has exactly 2 class labels',
      });
    }
    // Each class gets its own probability column, named after it: a repeated label would
    // overwrite one class's probabilities with another's.
    const repeated = m.classLabels?.find((label, i) => m.classLabels!.indexOf(label) !== i);
    if (repeated !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['classLabels'],
        message: `class label '${repeated}' appears twice: class labels must be distinct`,
      });
  }
}

export const modelInputSchema = modelFieldsSchema.superRefine((m, ctx) => checkModel(m, ctx, false));

/**
 * A model definition as stored (registry documents, plans written from them): read back with
 * today's rules except the schedule's, which tightened after definitions were stored (a schedule
 * stored then is kept as text, so the model still reads and lists). What runs on the schedule
 * checks it ({@link scheduleProblem}) and reports a model whose schedule it cannot use.
 */
export const storedModelDefinitionSchema = modelFieldsSchema
  .extend({ schedule: z.string().optional() })
  .superRefine((m, ctx) => checkModel(m, ctx, false));

/**
 * A model definition in a registration package (version manifest): a classifier may leave out
 * `classLabels` when its ONNX graph names them (a ZipMap's or the classifier node's labels).
 */
export const modelDraftSchema = modelFieldsSchema.superRefine((m, ctx) => checkModel(m, ctx, true));
export type ModelDraft = z.infer<typeof modelDraftSchema>;

/** What a caller sends to create a model. */
export type ModelInput = z.input<typeof modelInputSchema>;
export type ModelDefinition = z.infer<typeof modelInputSchema>;

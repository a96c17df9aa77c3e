import { z } from 'zod';

import {
  fittedStepSchemas,
  stepModule,
  stepSpecSchemas,
  trainingOnlyStepTypes as trainingOnlyTypes,
  transformColumnSchema,
} from '../domain/transforms/step-modules';
import { sha256Schema } from './common';

/**
 * Feature transform specs and their fitted parameters. Semantics of every step are documented in
 * docs/transforms.md; each step type is one module in shared/domain/transforms/step-modules (its spec
 * and fitted schemas, checks, fit and apply), and the schemas here are the union of that table.
 *
 * A spec is an ordered list of steps over named columns. Each step reads columns from the
 * "frame" (the raw input columns plus whatever earlier steps wrote) and writes output columns
 * (by default in place, under the input's name). `output` lists the columns, in order, that form
 * the model's input vector.
 */

export { transformColumnSchema };

/** One step of a transform spec. */
export const transformStepSchema = z.discriminatedUnion('type', stepSpecSchemas);
export type TransformStep = z.infer<typeof transformStepSchema>;
export type TransformStepType = TransformStep['type'];

/** Steps that `fitTransforms` honours and `applyTransforms` never applies. */
export const trainingOnlyStepTypes = trainingOnlyTypes as ReadonlySet<TransformStepType>;

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
      stepModule(step.type).check?.(step, (path, message) => issue(['steps', i, ...path], message));
    });
  });
/** What a data science team writes (defaults may be omitted). */
export type TransformSpecInput = z.input<typeof transformSpecSchema>;
export type TransformSpec = z.infer<typeof transformSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Fitted parameters: plain JSON data, stored with the model version next to the spec.

/** Per-step fitted parameters. Every number is finite; every output name is resolved. */
export const fittedStepSchema = z.discriminatedUnion('type', fittedStepSchemas);
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
      const module = stepModule(step.type);
      for (const [field, actual, expected] of module.parameterLengths?.(step) ?? []) {
        if (actual !== expected)
          ctx.addIssue({ code: 'custom', path: ['steps', i, field], message: `${step.type} has ${actual} ${field} for ${expected} expected` });
      }
      module.checkFitted?.(step, (path, message) => ctx.addIssue({ code: 'custom', path: ['steps', i, ...path], message }));
    });
  });

export type FittedTransforms = z.infer<typeof fittedTransformsSchema>;

/**
 * Feature transforms: fit a spec on training data, apply the fitted parameters to production
 * batches. Pure computation over typed arrays (no I/O). Spec and fitted formats are the zod
 * schemas in shared/schemas/transforms.ts; semantics are documented in docs/transforms.md.
 *
 *   const fitted = fitTransforms(spec, trainingBatch);         // JSON data, store with the version
 *   const { matrix, keptRows, rejected } = applyTransforms(fitted, batch);
 *   // matrix.values: Float32Array, row-major, matrix.width = fitted.output.length
 *   // keptRows[k]: batch row of matrix row k; rejected: [{ row, reason }] for every other row
 */
export {
  type FittedStep,
  type FittedTransforms,
  fittedTransformsSchema,
  type InputKind,
  trainingOnlyStepTypes,
  TRANSFORM_SPEC_VERSION,
  type TransformSpec,
  type TransformSpecInput,
  transformSpecSchema,
  type TransformStep,
} from '../../schemas/transforms';
export { applyTransforms, type RejectedRow, type TransformResult } from './apply';
export { ExpressionSyntaxError, parseExpression } from './expression';
export { fitTransforms, fitTransformsWithRows } from './fit';
export { fittedTransformsHash, parseTransformSpec, transformSpecHash } from './hash';
export { assertInputsMatchFeatures, assertTransformsApply, categoricalColumns } from './inputs';

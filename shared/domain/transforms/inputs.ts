import type { Feature } from '../../schemas/model';
import type { FittedTransforms, TransformSpec } from '../../schemas/transforms';
import { errors, isDomainError } from '../errors';
import { applyTransforms } from './apply';
import { stepModule } from './step-modules';

/**
 * Checks at registration that every raw column the fitted transforms read is a feature of the
 * model, of a compatible type (numeric, boolean and datetime features feed numeric inputs;
 * categorical features feed categorical ones). Throws VALIDATION_ERROR listing every problem.
 */
export function assertInputsMatchFeatures(fitted: FittedTransforms, features: readonly Feature[]): void {
  const byName = new Map(features.map((f) => [f.name, f]));
  const problems: string[] = [];
  for (const input of fitted.inputs) {
    const feature = byName.get(input.name);
    if (!feature) {
      problems.push(`the transforms read '${input.name}', which is not a feature of the model`);
      continue;
    }
    const kind = feature.type === 'categorical' ? 'categorical' : 'numeric';
    if (kind !== input.kind)
      problems.push(
        `the transforms read '${input.name}' as ${input.kind}, the model declares it ${feature.type}`,
      );
  }
  if (problems.length > 0)
    throw errors.validation(
      `transforms do not match the feature schema: ${problems.join('; ')}`,
      {
        problems,
      },
    );
}

/**
 * Checks at registration that fitted transforms hang together: every column a step or the output
 * reads is an input or written by an earlier step, of the kind it needs (a stored artifact is
 * hand-editable, and these problems would otherwise only show when the first batch is scored, and
 * fail it). It applies them to one row with every input missing: whatever the values, such
 * problems throw. VALIDATION_ERROR with the reason.
 */
export function assertTransformsApply(fitted: FittedTransforms): void {
  const numeric = Object.create(null) as Record<string, Float64Array>;
  const categorical = Object.create(null) as Record<string, (string | null)[]>;
  for (const input of fitted.inputs) {
    if (input.kind === 'numeric') numeric[input.name] = Float64Array.of(NaN);
    else categorical[input.name] = [null];
  }
  try {
    applyTransforms(fitted, { rowCount: 1, numeric, categorical });
  } catch (e) {
    if (!isDomainError(e)) throw e;
    throw errors.validation(`the fitted transforms cannot be applied: ${e.message}`, e.details);
  }
}

/** Columns the spec's steps read as categories (one_hot, ordinal): a training file must give them as text. */
export function categoricalColumns(spec: TransformSpec): Set<string> {
  return new Set(spec.steps.flatMap((step) => stepModule(step.type).categoricalReads?.(step) ?? []));
}

import type { FittedStep, FittedTransforms, TransformSpec, TransformStep } from '../../schemas/transforms';
import { errors } from '../errors';
import { transformSpecHash } from '../transforms/hash';

/**
 * Recovers the transform spec a version's fitted transforms were fitted from, so that a retraining
 * can fit the same steps on new data. The fitted parameters name every step and column, but some
 * spec choices leave no trace in them (were one-hot categories listed or learnt? an output name
 * given or the default? a clip bound a number or a quantile?). Each step therefore gives its
 * possible specs, and the combination whose hash is the fitted transforms' `specHash` is the spec,
 * exactly. A spec no combination reproduces (a quantile clip bound, a custom outlier threshold) is
 * not guessed: VALIDATION_ERROR, and the version should carry `transformSpec` in its manifest.
 */

/** Combinations tried at most (the candidates of each step multiply). */
const MAX_COMBINATIONS = 20_000;

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** `omitted` when the value equals the default the spec would fill in, `given` always. */
function optional<T>(value: T, isDefault: boolean): (T | undefined)[] {
  return isDefault ? [undefined, value] : [value];
}

const prefixOf = (name: string, suffix: string) => (name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) : undefined);

/** Drops undefined members, so an omitted option is absent (as in a spec someone wrote). */
function clean<T extends object>(step: T): TransformStep {
  return Object.fromEntries(Object.entries(step).filter(([, v]) => v !== undefined)) as TransformStep;
}

function perColumn(step: Extract<FittedStep, { columns: string[]; outputs: string[] }>): { columns: string[]; outputs?: string[] }[] {
  return optional(step.outputs, same(step.outputs, step.columns)).map((outputs) => ({ columns: step.columns, outputs }));
}

function candidates(step: FittedStep): TransformStep[] {
  switch (step.type) {
    case 'impute': {
      const fills = step.strategy === 'constant' ? (new Set(step.fill).size === 1 ? [step.fill[0]] : []) : [undefined];
      return perColumn(step).flatMap((c) => fills.map((fillValue) => clean({ type: 'impute', ...c, strategy: step.strategy, fillValue })));
    }
    case 'standardize':
    case 'min_max':
    case 'log1p':
    case 'passthrough':
      return perColumn(step).map((c) => clean({ type: step.type, ...c }));
    case 'clip': {
      // A given bound is one number for every column; per-column values were quantiles.
      const bound = (values: (number | null)[]) => {
        const distinct = new Set(values);
        if (distinct.size !== 1) return [];
        const only = values[0];
        return [only === null ? undefined : only];
      };
      return perColumn(step).flatMap((c) =>
        bound(step.lower).flatMap((lower) => bound(step.upper).map((upper) => clean({ type: 'clip', ...c, lower, upper }))),
      );
    }
    case 'one_hot': {
      const first = step.outputs[0]!;
      const prefix = prefixOf(first, step.categories[0]!);
      if (prefix === undefined) return [];
      return optional(step.categories, true).flatMap((categories) =>
        optional(prefix, prefix === `${step.column}_`).map((p) => clean({ type: 'one_hot', column: step.column, categories, unseen: step.unseen, prefix: p })),
      );
    }
    case 'ordinal':
      return optional(step.categories, true).flatMap((categories) =>
        optional(step.output, step.output === step.column).map((output) =>
          clean({ type: 'ordinal', column: step.column, output, categories, unseen: step.unseen, unseenValue: step.unseenValue }),
        ),
      );
    case 'bucketize': {
      // Fitted quantile edges lose duplicates, so q may be above edges + 1.
      const quantiles = Array.from({ length: 8 }, (_, k) => step.edges.length + 1 + k).filter((q) => q >= 2 && q <= 1000);
      return optional(step.output, step.output === step.column).flatMap((output) => [
        clean({ type: 'bucketize', column: step.column, output, edges: step.edges }),
        ...quantiles.map((q) => clean({ type: 'bucketize', column: step.column, output, quantiles: q })),
      ]);
    }
    case 'pca': {
      const nComponents = step.outputs.length;
      const prefix = prefixOf(step.outputs[0]!, '0');
      const numbered = prefix !== undefined && step.outputs.every((o, k) => o === `${prefix}${k}`);
      const forms: TransformStep[] = [clean({ type: 'pca', columns: step.columns, nComponents, prefix: 'pca_', outputs: step.outputs })];
      if (numbered) forms.push(clean({ type: 'pca', columns: step.columns, nComponents, prefix }));
      return forms;
    }
    case 'datetime_parts': {
      const prefix = prefixOf(step.outputs[0]!, step.parts[0]!);
      if (prefix === undefined) return [];
      return optional(prefix, prefix === `${step.column}_`).map((p) => clean({ type: 'datetime_parts', column: step.column, parts: step.parts, prefix: p }));
    }
    case 'derived':
      return [{ type: 'derived', output: step.output, expression: step.expression }];
    case 'drop_outliers': {
      const threshold = step.method === 'iqr' ? 1.5 : 3;
      return optional(threshold, true).map((t) => clean({ type: 'drop_outliers', columns: step.columns, method: step.method, threshold: t }));
    }
    case 'filter_rows':
      return [{ type: 'filter_rows', where: step.where }];
  }
}

/** The spec the fitted transforms were fitted from (its hash is their specHash), or VALIDATION_ERROR. */
export function recoverTransformSpec(fitted: FittedTransforms): TransformSpec {
  const options = fitted.steps.map(candidates);
  const unrecoverable = options.findIndex((o) => o.length === 0);
  const combinations = options.reduce((n, o) => n * o.length, 1);
  if (unrecoverable < 0 && combinations <= MAX_COMBINATIONS) {
    const choice = options.map(() => 0);
    for (let tried = 0; tried < combinations; tried += 1) {
      const spec: TransformSpec = { specVersion: fitted.specVersion, steps: choice.map((c, i) => options[i]![c]!), output: fitted.output };
      if (transformSpecHash(spec) === fitted.specHash) return spec;
      for (let i = choice.length - 1; i >= 0; i -= 1) {
        choice[i] = choice[i]! + 1;
        if (choice[i]! < options[i]!.length) break;
        choice[i] = 0;
      }
    }
  }
  const step = unrecoverable >= 0 ? `step ${unrecoverable + 1} (${fitted.steps[unrecoverable]!.type})` : 'a step';
  throw errors.validation(
    `the transform spec cannot be recovered from the fitted transforms: ${step} was fitted from options its parameters do not show (a quantile clip bound, a custom outlier threshold, ...); register the version with its spec as \`transformSpec\` in the manifest`,
    { specHash: fitted.specHash },
  );
}

import { assertParity, checkTransformParity, compareModelOutputs, type GoldenRecord } from '../domain/parity';
import type { LoadedModel } from '../ports/model-runtime';
import type { FittedTransforms } from '../schemas/transforms';

/**
 * Golden-record parity before scoring: the fitted transforms must reproduce the expected feature
 * vectors, and the loaded model the expected outputs from those vectors (relative tolerance 1e-6).
 * Throws PARITY_MISMATCH naming the first difference.
 */
export async function checkParity(fitted: FittedTransforms, model: LoadedModel, golden: readonly GoldenRecord[]): Promise<void> {
  assertParity(checkTransformParity(fitted, golden), 'transforms');
  const withOutputs = golden.filter((g) => g.expectedOutput);
  if (withOutputs.length === 0) return;
  const width = withOutputs[0]!.expectedFeatures.length;
  const values = new Float32Array(withOutputs.length * width);
  withOutputs.forEach((g, i) => values.set(g.expectedFeatures, i * width));
  const out = await model.predict({ rows: withOutputs.length, width, values, names: fitted.output });
  const actual = withOutputs.map((_, i) =>
    out.kind === 'regression'
      ? { prediction: out.values[i]! }
      : {
          prediction: out.labels[i]!,
          probabilities: Array.from(out.probabilities.subarray(i * out.classCount, (i + 1) * out.classCount)),
        },
  );
  assertParity(
    compareModelOutputs(
      withOutputs.map((g) => g.expectedOutput),
      actual,
    ),
    'model outputs',
  );
}

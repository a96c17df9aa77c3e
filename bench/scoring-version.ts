import { fitTransforms } from '../shared/domain/transforms';
import type { ModelRuntime } from '../shared/ports/model-runtime';
import type { ModelDefinition } from '../shared/schemas/model';
import { type ScoringVersion, scoringVersion } from '../shared/usecases/score-chunk';
import { linearRegressor, sklearnLinearRegressionPipeline } from '../test/fixtures/onnx-models';
import { artifactOf } from '../test/support/scoring-fixtures';
import { CATEGORICAL, CATEGORIES, NUMERIC, sampleBatch } from './scoring-data';

export const PCA_COMPONENTS = 5;

/** standardize the 13 numeric columns, PCA on them (5 components), one-hot the 5 categorical ones. */
export const benchTransformSpec = {
  specVersion: 1 as const,
  steps: [
    { type: 'standardize' as const, columns: NUMERIC },
    { type: 'pca' as const, columns: NUMERIC, nComponents: PCA_COMPONENTS },
    ...CATEGORICAL.map((column) => ({ type: 'one_hot' as const, column, unseen: 'ignore' as const })),
  ],
  output: [
    ...NUMERIC,
    ...Array.from({ length: PCA_COMPONENTS }, (_, i) => `pca_${i}`),
    ...CATEGORICAL.flatMap((c) => [...CATEGORIES[c]!].sort().map((v) => `${c}_${v}`)),
  ],
};

/** The models the benchmark scores with. */
export type BenchModel = 'transforms' | 'columns';

const weights = (n: number) => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 10);

/**
 * `transforms`: fitted transforms (on a 20k-row sample) feeding a linear ONNX model one float32
 * matrix. `columns`: no transforms, the graph skl2onnx writes for a scikit-learn Pipeline
 * (StandardScaler + OneHotEncoder in a ColumnTransformer, then LinearRegression) with one input
 * per column: 13 float [N, 1] and 5 string [N, 1].
 */
export async function benchVersion(runtime: ModelRuntime, definition: ModelDefinition, kind: BenchModel = 'transforms'): Promise<ScoringVersion> {
  const sample = sampleBatch(20_000);
  if (kind === 'columns') {
    const numeric = NUMERIC.map((name) => {
      const values = sample.numeric[name]!;
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      return { name, mean, std };
    });
    const categorical = CATEGORICAL.map((name) => ({ name, categories: [...CATEGORIES[name]!].sort() }));
    const width = numeric.length + categorical.reduce((s, c) => s + c.categories.length, 0);
    const fx = sklearnLinearRegressionPipeline({ numeric, categorical }, weights(width), 0.5);
    const model = await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 2));
    return scoringVersion(definition, 2, fx.signature, undefined, model);
  }
  const fitted = fitTransforms(benchTransformSpec, sample);
  const fx = linearRegressor(weights(fitted.output.length), 0.5);
  const model = await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 1));
  return scoringVersion(definition, 1, fx.signature, fitted, model);
}

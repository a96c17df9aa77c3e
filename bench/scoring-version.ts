import { applyTransforms, fitTransforms } from '../shared/domain/transforms';
import type { ModelRuntime } from '../shared/ports/model-runtime';
import type { ModelDefinition } from '../shared/schemas/model';
import type { ScoringVersion } from '../shared/usecases/score-chunk';
import { linearRegressor } from '../test/fixtures/onnx-models';
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

/** The benchmark's version: transforms fitted on a 20k-row sample, a linear ONNX model over them. */
export async function benchVersion(runtime: ModelRuntime, definition: ModelDefinition): Promise<ScoringVersion> {
  const fitted = fitTransforms(benchTransformSpec, sampleBatch(20_000));
  const width = fitted.output.length;
  const fx = linearRegressor(
    Array.from({ length: width }, (_, i) => ((i % 7) - 3) / 10),
    0.5,
  );
  return {
    definition,
    version: 1,
    transform: (batch) => applyTransforms(fitted, batch),
    model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 1)),
  };
}

import type { ModelRuntime } from '../shared/ports/model-runtime';
import type { ModelDefinition } from '../shared/schemas/model';
import type { ApplyTransform, ScoringVersion } from '../shared/usecases/score-chunk';
import { linearRegressor } from '../test/fixtures/onnx-models';
import { artifactOf } from '../test/support/scoring-fixtures';
import { CATEGORICAL, CATEGORIES, NUMERIC } from './scoring-data';

/** Placeholder until the transforms branch is merged: numeric pass-through plus one-hot by hand. */
function placeholderTransform(): { apply: ApplyTransform; width: number } {
  const width = NUMERIC.length + CATEGORICAL.reduce((s, c) => s + CATEGORIES[c]!.length, 0);
  const names = Array.from({ length: width }, (_, i) => `f${i}`);
  const index = CATEGORICAL.map((c) => new Map(CATEGORIES[c]!.map((v, i) => [v, i])));
  return {
    width,
    apply: (batch) => {
      const n = batch.rowCount;
      const values = new Float32Array(n * width);
      NUMERIC.forEach((name, j) => {
        const col = batch.numeric[name]!;
        for (let r = 0; r < n; r += 1) values[r * width + j] = col[r]!;
      });
      let offset = NUMERIC.length;
      CATEGORICAL.forEach((name, c) => {
        const col = batch.categorical[name]!;
        for (let r = 0; r < n; r += 1) {
          const k = index[c]!.get(col[r] ?? '');
          if (k !== undefined) values[r * width + offset + k] = 1;
        }
        offset += CATEGORIES[name]!.length;
      });
      return { matrix: { rows: n, width, values, names }, keptRows: Int32Array.from({ length: n }, (_, i) => i), rejected: [] };
    },
  };
}

export async function benchVersion(runtime: ModelRuntime, definition: ModelDefinition): Promise<ScoringVersion> {
  const t = placeholderTransform();
  const fx = linearRegressor(
    Array.from({ length: t.width }, (_, i) => ((i % 7) - 3) / 10),
    0.5,
  );
  return { definition, version: 1, transform: t.apply, model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 1)) };
}

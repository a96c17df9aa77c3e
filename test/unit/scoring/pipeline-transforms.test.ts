/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { seededRandom } from '../../../shared/domain/random';
import { type FittedStep, fitTransforms } from '../../../shared/domain/transforms';
import { modelInputSchema } from '../../../shared/schemas/model';
import type { ModelSignature } from '../../../shared/schemas/signature';
import { planChunks } from '../../../shared/usecases/plan-chunks';
import { scoreChunk, scoringVersion } from '../../../shared/usecases/score-chunk';
import { linearRegressor, treeEnsembleClassifier } from '../../fixtures/onnx-models';
import { MemoryLake } from '../../support/memory-lake';
import { artifactOf, readParquetRows } from '../../support/scoring-fixtures';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const random = seededRandom(42);
const n = 300;
const rows = Array.from({ length: n }, (_, i) => ({
  id: `c${i}`,
  a: Number((random.next() * 10 - 5).toFixed(3)),
  b: Number((random.next() * 100).toFixed(2)),
  c: Number((random.next() * 3 + 1).toFixed(4)),
  color: ['red', 'green', 'blue'][random.int(3)]!,
}));
const csv = 'id,color,a,b,c\n' + rows.map((r) => `${r.id},${r.color},${r.a},${r.b},${r.c}`).join('\n') + '\n';

const spec = {
  specVersion: 1 as const,
  steps: [
    { type: 'standardize' as const, columns: ['a', 'b', 'c'] },
    { type: 'pca' as const, columns: ['a', 'b', 'c'], nComponents: 2 },
    { type: 'one_hot' as const, column: 'color' },
  ],
  output: ['a', 'b', 'c', 'pca_0', 'pca_1', 'color_blue', 'color_green', 'color_red'],
};
const fitted = fitTransforms(spec, {
  rowCount: n,
  numeric: { a: Float64Array.from(rows, (r) => r.a), b: Float64Array.from(rows, (r) => r.b), c: Float64Array.from(rows, (r) => r.c) },
  categorical: { color: rows.map((r) => r.color) },
});

/** The feature vector computed by hand from the fitted parameters (float64, then float32). */
function features(r: (typeof rows)[number]): number[] {
  const step = <T extends FittedStep['type']>(type: T) => fitted.steps.find((s) => s.type === type) as Extract<FittedStep, { type: T }>;
  const std = step('standardize');
  const z = [r.a, r.b, r.c].map((x, j) => (x - std.mean[j]!) / std.scale[j]!);
  const pca = step('pca');
  const pcs = pca.components.map((component) => component.reduce((s, w, j) => s + (z[j]! - pca.mean[j]!) * w, 0));
  const oneHot = ['blue', 'green', 'red'].map((c) => (r.color === c ? 1 : 0));
  return [...z, ...pcs, ...oneHot].map(Math.fround);
}

const definition = (task: 'regression' | 'multiclass') =>
  modelInputSchema.parse({
    name: 'shop',
    task,
    idColumn: 'id',
    ...(task === 'multiclass' ? { classLabels: ['low', 'mid', 'high'] } : {}),
    features: [
      { name: 'a', type: 'numeric' },
      { name: 'b', type: 'numeric' },
      { name: 'c', type: 'numeric' },
      { name: 'color', type: 'categorical' },
    ],
  });

async function score(def: ReturnType<typeof definition>, signature: ModelSignature, model: Awaited<ReturnType<typeof runtime.load>>) {
  const lake = new MemoryLake();
  await lake.write('drops/shop/d.csv', Buffer.from(csv));
  const files = new LakeTabularFiles(lake, { csvWindowBytes: 1024 });
  const plan = await planChunks({ files }, def, 'drops/shop/d.csv', { targetChunkBytes: 2500, targetChunkRows: 1 });
  expect(plan.chunks.length).toBeGreaterThan(2);
  const version = scoringVersion(def, 1, signature, fitted, model);
  const out = [];
  for (const chunk of plan.chunks) {
    const s = await scoreChunk({ lake, files }, version, { source: 'drops/shop/d.csv', runId: 'run', chunk });
    expect(s.rowsRejected).toBe(0);
    out.push(...(await readParquetRows(lake.body(s.partPath))));
  }
  return out;
}

const close = (actual: unknown, expected: number) => expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));

describe('the whole pipeline with fitted transforms (standardize, PCA, one-hot)', () => {
  it('when a linear regressor scores a CSV in chunks, then each prediction equals w . features(row) + b computed by hand', async () => {
    const def = definition('regression');
    const fx = linearRegressor([0.3, -1.1, 0.7, 2.5, -0.4, 1, -2, 0.5], 0.25);
    const out = await score(def, fx.signature, await runtime.load(artifactOf(fx.bytes, fx.signature, def, 1)));
    expect(out).toHaveLength(n);
    out.forEach((o, i) => {
      expect(o.id).toBe(rows[i]!.id);
      close(o.prediction, fx.predict(features(rows[i]!)));
    });
  });

  it('when a tree-ensemble classifier scores the same file, then labels and class scores match the trees applied to features(row)', async () => {
    const def = definition('multiclass');
    const fx = treeEnsembleClassifier(
      8,
      [
        { feature: 3, threshold: 0, left: [0.7, 0.2, 0.1], right: [0.1, 0.3, 0.6] },
        { feature: 5, threshold: 0.5, left: [0.2, 0.5, 0.3], right: [0.5, 0.3, 0.2] },
        { feature: 1, threshold: -0.5, left: [0.6, 0.3, 0.1], right: [0.2, 0.2, 0.6] },
      ],
      ['low', 'mid', 'high'],
    );
    const out = await score(def, fx.signature, await runtime.load(artifactOf(fx.bytes, fx.signature, def, 2)));
    let agreeing = 0;
    out.forEach((o, i) => {
      const expected = fx.predict(features(rows[i]!));
      expected.probabilities.forEach((p, c) => close(o[`probability_${['low', 'mid', 'high'][c]!}`], p));
      if (o.prediction === expected.label) agreeing += 1;
    });
    // A feature within float32 rounding of a threshold could flip a branch; none does here.
    expect(agreeing).toBe(n);
  });
});

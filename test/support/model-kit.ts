/**
 * A small regression model family for end-to-end tests, built from real parts: the data follow
 * y = 2·x1 + 3·x2 + 10·[region = north] + noise; transforms are fitted by the product's own
 * fitTransforms (one-hot region); the ONNX graph is a MatMul + Add run by onnxruntime. Versions
 * differ by their weights, so a test can make one that is worse on one region only.
 */
import type { GoldenRecord } from '../../shared/domain/parity';
import { seededRandom } from '../../shared/domain/random';
import { fitTransforms } from '../../shared/domain/transforms';
import type { ModelInput } from '../../shared/schemas/model';
import type { FittedTransforms } from '../../shared/schemas/transforms';
import { linearRegressor } from '../fixtures/onnx-models';

export const REGIONS = ['north', 'south'] as const;
export const FEATURES = ['x1', 'x2', 'region_north', 'region_south'] as const;
/** The weights that fit the data (x1, x2, north, south). */
export const TRUE_WEIGHTS: [number, number, number, number] = [2, 3, 10, 0];

export interface Row {
  id: string;
  x1: number;
  x2: number;
  region: string;
  actual: number;
}

export function aRegionalModel(name: string, policies: Record<string, unknown> = {}): ModelInput {
  return {
    name,
    description: 'test model: y = 2 x1 + 3 x2 + 10 [north]',
    task: 'regression',
    idColumn: 'id',
    targetColumn: 'actual',
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
      { name: 'region', type: 'categorical', allowedValues: [...REGIONS] },
    ],
    segmentKeys: ['region'],
    policies: policies,
  };
}

/** `n` rows from the data-generating process, reproducible by seed. */
export function regionalRows(n: number, seed: number, options: { noise?: number; regions?: readonly string[]; idPrefix?: string } = {}): Row[] {
  const random = seededRandom(seed);
  const regions = options.regions ?? REGIONS;
  const noise = options.noise ?? 1;
  return Array.from({ length: n }, (_, i) => {
    const x1 = Math.round((random.next() * 10 - 5) * 1000) / 1000;
    const x2 = Math.round((random.next() * 4 - 2) * 1000) / 1000;
    const region = regions[i % regions.length]!;
    const actual = 2 * x1 + 3 * x2 + (region === 'north' ? 10 : 0) + (random.next() * 2 - 1) * noise;
    return { id: `${options.idPrefix ?? 'r'}${seed}-${i}`, x1, x2, region, actual: Math.round(actual * 1e6) / 1e6 };
  });
}

export function toCsv(rows: readonly Row[], columns: readonly (keyof Row)[] = ['id', 'x1', 'x2', 'region', 'actual']): string {
  return `${columns.join(',')}\n${rows.map((r) => columns.map((c) => String(r[c])).join(',')).join('\n')}\n`;
}

/** The one-hot region transforms, fitted on `rows` by the product's own fitTransforms. */
export function fittedTransforms(rows: readonly Row[]): FittedTransforms {
  return fitTransforms(
    // A region the model never saw scores as neither north nor south.
    { specVersion: 1, steps: [{ type: 'one_hot', column: 'region', unseen: 'ignore' }], output: [...FEATURES] },
    {
      rowCount: rows.length,
      numeric: { x1: Float64Array.from(rows, (r) => r.x1), x2: Float64Array.from(rows, (r) => r.x2) },
      categorical: { region: rows.map((r) => r.region) },
    },
  );
}

export interface ModelPackage {
  onnx: Buffer;
  manifest: Record<string, unknown>;
  /** What the model predicts for a row, in float32 as onnxruntime computes it. */
  predict(row: Pick<Row, 'x1' | 'x2' | 'region'>): number;
}

const featuresOf = (row: Pick<Row, 'x1' | 'x2' | 'region'>) => [row.x1, row.x2, row.region === 'north' ? 1 : 0, row.region === 'south' ? 1 : 0];

/**
 * A registration package: the ONNX bytes and the manifest (signature, fitted transforms, golden
 * records computed by the model itself, training metrics, lineage and the datasets named).
 */
export function regionalPackage(
  weights: readonly number[],
  bias: number,
  options: { datasets?: { role: string; uri: string }[]; description?: string; trainingRows?: readonly Row[] } = {},
): ModelPackage {
  const model = linearRegressor([...weights], bias);
  const training = options.trainingRows ?? regionalRows(200, 7);
  const goldenInputs = [
    { x1: 1.5, x2: -0.5, region: 'north' },
    { x1: -2, x2: 1.25, region: 'south' },
  ];
  const goldenRecords: GoldenRecord[] = goldenInputs.map((input) => ({
    input,
    expectedFeatures: featuresOf(input),
    expectedOutput: { prediction: model.predict(featuresOf(input)) },
  }));
  return {
    onnx: model.bytes,
    manifest: {
      signature: model.signature,
      transforms: fittedTransforms(training),
      goldenRecords,
      metrics: { rmse: 1.0 },
      lineage: { source: 'manual', trainingRun: `run-${weights.join('_')}-${bias}` },
      environment: { runtime: 'python 3.12', packages: [{ name: 'scikit-learn', version: '1.5.2' }], onnxOpset: 13 },
      datasets: options.datasets ?? [],
      description: options.description ?? '',
    },
    predict: (row) => model.predict(featuresOf(row)),
  };
}

import type { RowBatch } from '../../../shared/domain/tabular';
import {
  applyTransforms,
  type FittedStep,
  fitTransforms,
  type TransformSpecInput,
} from '../../../shared/domain/transforms';
import { aBatch, rowsOf } from './builders';

type Step = NonNullable<TransformSpecInput['steps']>[number];

/** Fits one step on `training` and applies it to `scoring` (default: the training batch). */
function run(step: Step, output: string[], training: RowBatch, scoring: RowBatch = training) {
  const fitted = fitTransforms({ specVersion: 1, steps: [step], output }, training);
  return { fitted, step: fitted.steps[0]!, ...applyTransforms(fitted, scoring) };
}

const column = (matrix: { rows: number; width: number; values: Float32Array }, j = 0): number[] =>
  rowsOf(matrix).map((r) => r[j]!);

// The numbers used with numpy for the reference values below (see each test).
const V = [7.0, 1.0, 3.5, 3.5, 10.0, -2.0, 4.25, 8.0, 0.0, 6.5];

describe('impute', () => {
  it('when the strategy is mean, then missing values get the mean of the present ones', () => {
    const { step, matrix } = run(
      { type: 'impute', columns: ['x'], strategy: 'mean' },
      ['x'],
      aBatch({ x: [1, null, 4, 7] }),
    );
    expect(step).toMatchObject({ fill: [4] });
    expect(column(matrix)).toEqual([1, 4, 4, 7]);
  });

  it('when the strategy is median, then the fill is numpy.median of the present values', () => {
    // numpy.median(V) == 3.875 (even count: mean of 3.5 and 4.25)
    const { step } = run(
      { type: 'impute', columns: ['x'], strategy: 'median' },
      ['x'],
      aBatch({ x: [...V, null] }),
    );
    expect(step).toMatchObject({ fill: [3.875] });
  });

  it('when the strategy is most_frequent with a tie, then the smallest value wins', () => {
    const numeric = run(
      { type: 'impute', columns: ['x'], strategy: 'most_frequent' },
      ['x'],
      aBatch({ x: [5, 2, 5, 2, null, 9] }),
    );
    expect(numeric.step).toMatchObject({ fill: [2] });
    const categorical = run(
      { type: 'impute', columns: ['c'], strategy: 'most_frequent' },
      ['x'],
      aBatch({ c: ['b', 'a', null, 'b', 'a'], x: [1, 2, 3, 4, 5] }),
    );
    expect(categorical.step).toMatchObject({ fill: ['a'] });
  });

  it('when the strategy is constant, then missing numbers and categories get the given value', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'impute', columns: ['x'], strategy: 'constant', fillValue: -1 },
          { type: 'impute', columns: ['c'], strategy: 'constant', fillValue: 'none' },
          { type: 'one_hot', column: 'c', categories: ['none', 'a'] },
        ],
        output: ['x', 'c_none', 'c_a'],
      },
      aBatch({ x: [1, 2], c: ['a', 'a'] }),
    );
    const { matrix, rejected } = applyTransforms(fitted, aBatch({ x: [null, 3], c: [null, 'a'] }));
    expect(rejected).toEqual([]);
    expect(rowsOf(matrix)).toEqual([
      [-1, 1, 0],
      [3, 0, 1],
    ]);
  });

  it('when mean imputation targets a categorical column, then fitting fails naming the step', () => {
    expect(() =>
      run({ type: 'impute', columns: ['c'], strategy: 'mean' }, ['c'], aBatch({ c: ['a', 'b'] })),
    ).toThrow(/step 1 \(impute\).*'c' is categorical/);
  });

  it('when a column has no value at all, then fitting fails with INSUFFICIENT_DATA', () => {
    expect(() =>
      run({ type: 'impute', columns: ['x'], strategy: 'mean' }, ['x'], aBatch({ x: [null, null] })),
    ).toThrow(expect.objectContaining({ code: 'INSUFFICIENT_DATA' }));
  });
});

describe('standardize and min_max', () => {
  it('when standardizing, then values become (x - mean) / population std', () => {
    // numpy: V.mean() == 4.175, V.std() == 3.584776841032089
    const { step, matrix } = run(
      { type: 'standardize', columns: ['x'], outputs: ['z'] },
      ['z'],
      aBatch({ x: V }),
    );
    expect(step).toMatchObject({ type: 'standardize', outputs: ['z'] });
    const s = step as Extract<FittedStep, { type: 'standardize' }>;
    expect(s.mean[0]).toBeCloseTo(4.175, 12);
    expect(s.scale[0]).toBeCloseTo(3.584776841032089, 12);
    expect(column(matrix)[4]).toBeCloseTo((10 - 4.175) / 3.584776841032089, 6);
  });

  it('when a column is constant, then standardize centres it without dividing by zero', () => {
    const { matrix } = run(
      { type: 'standardize', columns: ['x'] },
      ['x'],
      aBatch({ x: [3, 3, 3] }),
      aBatch({ x: [5] }),
    );
    expect(column(matrix)).toEqual([2]);
  });

  it('when scaling to min-max, then training values map into [0, 1] and others extrapolate', () => {
    const { matrix } = run(
      { type: 'min_max', columns: ['x'] },
      ['x'],
      aBatch({ x: [2, 4, 10] }),
      aBatch({ x: [2, 6, 10, 14] }),
    );
    expect(column(matrix)).toEqual([0, 0.5, 1, 1.5]);
  });

  it('when a column is constant, then min_max shifts it to 0', () => {
    const { matrix } = run(
      { type: 'min_max', columns: ['x'] },
      ['x'],
      aBatch({ x: [7, 7] }),
      aBatch({ x: [7, 8] }),
    );
    expect(column(matrix)).toEqual([0, 1]);
  });
});

describe('clip', () => {
  it('when bounds are given, then values are clamped to them', () => {
    const { matrix } = run(
      { type: 'clip', columns: ['x'], lower: 0, upper: 5 },
      ['x'],
      aBatch({ x: [-3, 2, 9] }),
    );
    expect(column(matrix)).toEqual([0, 2, 5]);
  });

  it('when bounds are quantiles, then they are numpy linear quantiles of the training data', () => {
    // numpy.quantile(V, 0.1) == -0.19999999999999996, numpy.quantile(V, 0.9) == 8.2
    const { step, matrix } = run(
      { type: 'clip', columns: ['x'], lower: { quantile: 0.1 }, upper: { quantile: 0.9 } },
      ['x'],
      aBatch({ x: V }),
      aBatch({ x: [-5, 1, 20] }),
    );
    expect(step).toMatchObject({ lower: [-0.19999999999999996], upper: [8.2] });
    expect(column(matrix)).toEqual([Math.fround(-0.19999999999999996), 1, Math.fround(8.2)]);
  });

  it('when only an upper bound is set, then low values pass through', () => {
    const { matrix } = run({ type: 'clip', columns: ['x'], upper: 1 }, ['x'], aBatch({ x: [-100, 3] }));
    expect(column(matrix)).toEqual([-100, 1]);
  });
});

describe('log1p', () => {
  it('when values are above -1, then they become log(1 + x)', () => {
    const { matrix } = run({ type: 'log1p', columns: ['x'] }, ['x'], aBatch({ x: [0, Math.E - 1, 9] }));
    expect(column(matrix)[0]).toBe(0);
    expect(column(matrix)[1]).toBeCloseTo(1, 6);
    expect(column(matrix)[2]).toBeCloseTo(Math.log(10), 6);
  });

  it('when a value is -1 or below, then the row is rejected with the reason', () => {
    const { matrix, keptRows, rejected } = run(
      { type: 'log1p', columns: ['x'] },
      ['x'],
      aBatch({ x: [1, 2] }),
      aBatch({ x: [1, -1, -3] }),
    );
    expect(Array.from(keptRows)).toEqual([0]);
    expect(matrix.rows).toBe(1);
    expect(rejected.map((r) => r.row)).toEqual([1, 2]);
    expect(rejected[0]!.reason).toMatch(/log1p\(-1\) of 'x' is not finite/);
    expect(rejected[1]!.reason).toMatch(/log1p\(-3\)/);
  });
});

describe('one_hot', () => {
  const training = aBatch({ c: ['b', 'a', 'b', 'c'] });

  it('when categories are fitted, then they are the distinct values in sorted order', () => {
    const { step } = run({ type: 'one_hot', column: 'c' }, ['c_a'], training);
    expect(step).toMatchObject({ categories: ['a', 'b', 'c'], outputs: ['c_a', 'c_b', 'c_c'] });
  });

  it('when an unseen category meets the error policy, then that row alone is rejected', () => {
    const { rejected, keptRows, matrix } = run(
      { type: 'one_hot', column: 'c', unseen: 'error' },
      ['c_a', 'c_b', 'c_c'],
      training,
      aBatch({ c: ['a', 'zebra', 'c'] }),
    );
    expect(rejected).toEqual([{ row: 1, reason: expect.stringMatching(/unseen category "zebra" in 'c'/) }]);
    expect(Array.from(keptRows)).toEqual([0, 2]);
    expect(rowsOf(matrix)).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });

  it('when an unseen category meets the ignore policy, then its row is all zeros', () => {
    const { rejected, matrix } = run(
      { type: 'one_hot', column: 'c', unseen: 'ignore' },
      ['c_a', 'c_b', 'c_c'],
      training,
      aBatch({ c: ['zebra', 'b'] }),
    );
    expect(rejected).toEqual([]);
    expect(rowsOf(matrix)).toEqual([
      [0, 0, 0],
      [0, 1, 0],
    ]);
  });

  it('when an unseen category meets the other policy, then the other bucket is set', () => {
    const { step, matrix } = run(
      { type: 'one_hot', column: 'c', unseen: 'other', prefix: 'is_' },
      ['is_a', 'is_b', 'is_c', 'is___other__'],
      training,
      aBatch({ c: ['zebra', 'a'] }),
    );
    expect(step).toMatchObject({ outputs: ['is_a', 'is_b', 'is_c', 'is___other__'] });
    expect(rowsOf(matrix)).toEqual([
      [0, 0, 0, 1],
      [1, 0, 0, 0],
    ]);
  });

  it('when a category is missing and nothing imputed it, then the row is rejected', () => {
    const { rejected } = run(
      { type: 'one_hot', column: 'c', unseen: 'ignore' },
      ['c_a'],
      training,
      aBatch({ c: [null, 'a'] }),
    );
    expect(rejected).toEqual([{ row: 0, reason: expect.stringMatching(/missing value in categorical 'c'/) }]);
  });

  it('when categories are given, then their order is the output order', () => {
    const { step, matrix } = run(
      { type: 'one_hot', column: 'c', categories: ['c', 'a'], unseen: 'ignore' },
      ['c_c', 'c_a'],
      training,
      aBatch({ c: ['a', 'b'] }),
    );
    expect(step).toMatchObject({ outputs: ['c_c', 'c_a'] });
    expect(rowsOf(matrix)).toEqual([
      [0, 1],
      [0, 0],
    ]);
  });
});

describe('ordinal', () => {
  it('when categories are fitted, then each maps to its sorted index', () => {
    const { matrix } = run(
      { type: 'ordinal', column: 'size', output: 'size_code' },
      ['size_code'],
      aBatch({ size: ['M', 'L', 'S'] }),
      aBatch({ size: ['S', 'M', 'L'] }),
    );
    expect(column(matrix)).toEqual([2, 1, 0]);
  });

  it('when categories are given, then their order defines the codes', () => {
    const { matrix } = run(
      { type: 'ordinal', column: 'size', categories: ['S', 'M', 'L'] },
      ['size'],
      aBatch({ size: ['M'] }),
      aBatch({ size: ['S', 'M', 'L'] }),
    );
    expect(column(matrix)).toEqual([0, 1, 2]);
  });

  it('when an unseen category meets the value policy, then it gets unseenValue; under error it is rejected', () => {
    const lenient = run(
      { type: 'ordinal', column: 'c', unseen: 'value', unseenValue: -1 },
      ['c'],
      aBatch({ c: ['a'] }),
      aBatch({ c: ['x', 'a'] }),
    );
    expect(column(lenient.matrix)).toEqual([-1, 0]);
    const strict = run(
      { type: 'ordinal', column: 'c' },
      ['c'],
      aBatch({ c: ['a'] }),
      aBatch({ c: ['x', 'a'] }),
    );
    expect(strict.rejected).toEqual([{ row: 0, reason: expect.stringMatching(/unseen category "x"/) }]);
  });
});

describe('bucketize', () => {
  it('when edges are given, then the bucket is the count of edges <= x (numpy.digitize)', () => {
    const { matrix } = run(
      { type: 'bucketize', column: 'x', edges: [0, 10, 20] },
      ['x'],
      aBatch({ x: [1] }),
      aBatch({ x: [-5, 0, 9.99, 10, 25] }),
    );
    expect(column(matrix)).toEqual([0, 1, 1, 2, 3]);
  });

  it('when quartile edges are fitted, then they are numpy linear quantiles at 1/4, 2/4, 3/4', () => {
    // numpy.quantile(V, [0.25, 0.5, 0.75]) == [1.625, 3.875, 6.875]
    const { step, matrix } = run(
      { type: 'bucketize', column: 'x', quantiles: 4, output: 'x_q' },
      ['x_q'],
      aBatch({ x: V }),
      aBatch({ x: [1.625, 3, 7, 100] }),
    );
    expect(step).toMatchObject({ edges: [1.625, 3.875, 6.875] });
    expect(column(matrix)).toEqual([1, 1, 3, 3]);
  });

  it('when fitted quantile edges repeat, then duplicates are dropped', () => {
    const { step } = run(
      { type: 'bucketize', column: 'x', quantiles: 4 },
      ['x'],
      aBatch({ x: [1, 1, 1, 1, 1, 5] }),
    );
    // numpy.quantile([1,1,1,1,1,5], [0.25,0.5,0.75]) == [1, 1, 1]
    expect(step).toMatchObject({ edges: [1] });
  });
});

describe('datetime_parts', () => {
  // Reference parts from Python's datetime (weekday(): Monday = 0).
  const stamps = [
    { iso: '2024-02-29T23:59:59Z', ms: 1709251199000, hour: 23, dow: 3, month: 2, season: 0 },
    { iso: '1969-12-31T23:00:00Z', ms: -3600000, hour: 23, dow: 2, month: 12, season: 0 },
    { iso: '2023-06-15T12:30:00Z', ms: 1686832200000, hour: 12, dow: 3, month: 6, season: 2 },
    { iso: '2000-03-01T00:00:00Z', ms: 951868800000, hour: 0, dow: 2, month: 3, season: 1 },
    { iso: '1900-11-05T07:00:00Z', ms: -2182352400000, hour: 7, dow: 0, month: 11, season: 3 },
    { iso: '2021-12-01T05:00:00Z', ms: 1638334800000, hour: 5, dow: 2, month: 12, season: 0 },
  ];

  it('when parts are extracted, then hour, weekday (Monday 0), month and season match UTC calendar values', () => {
    stamps.forEach((s) => expect(Date.parse(s.iso)).toBe(s.ms));
    const { matrix } = run(
      { type: 'datetime_parts', column: 'ts', parts: ['hour', 'day_of_week', 'month', 'season'] },
      ['ts_hour', 'ts_day_of_week', 'ts_month', 'ts_season'],
      aBatch({ ts: stamps.map((s) => s.ms) }),
    );
    expect(rowsOf(matrix)).toEqual(stamps.map((s) => [s.hour, s.dow, s.month, s.season]));
  });

  it('when months run through the year, then seasons are meteorological northern-hemisphere ones', () => {
    const months = Array.from({ length: 12 }, (_, m) => Date.UTC(2022, m, 15));
    const { matrix } = run(
      { type: 'datetime_parts', column: 'ts', parts: ['season', 'month'], prefix: 'd_' },
      ['d_month', 'd_season'],
      aBatch({ ts: months }),
    );
    expect(rowsOf(matrix)).toEqual([
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 2],
      [7, 2],
      [8, 2],
      [9, 3],
      [10, 3],
      [11, 3],
      [12, 0],
    ]);
  });
});

describe('derived', () => {
  it('when an expression combines columns, then it is evaluated with the usual precedence', () => {
    const { matrix } = run(
      {
        type: 'derived',
        output: 'd',
        expression: 'a + b * 2 - -c / (a - 1) + max(a, b, 10) + sqrt(abs(-b))',
      },
      ['d'],
      aBatch({ a: [3, 5], b: [4, 9], c: [2, 8] }),
    );
    expect(column(matrix)).toEqual([3 + 8 + 1 + 10 + 2, 5 + 18 + 2 + 10 + 3]);
  });

  it('when the result is not finite for present inputs, then the row is rejected naming the expression', () => {
    const { rejected, keptRows } = run(
      { type: 'derived', output: 'ratio', expression: 'log(a / b)' },
      ['ratio'],
      aBatch({ a: [1, 1, -1], b: [2, 0, 1] }),
    );
    expect(Array.from(keptRows)).toEqual([0]);
    expect(rejected).toEqual([
      { row: 1, reason: expect.stringMatching(/'ratio' = log\(a \/ b\) is Infinity/) },
      { row: 2, reason: expect.stringMatching(/is NaN/) },
    ]);
  });

  it('when an input is missing, then the rejection names the missing input', () => {
    const { rejected } = run(
      { type: 'derived', output: 's', expression: 'a + b' },
      ['s'],
      aBatch({ a: [1, 1], b: [2, 2] }),
      aBatch({ a: [1, 1], b: [null, 2] }),
    );
    expect(rejected).toEqual([
      { row: 0, reason: expect.stringMatching(/missing value in 'b'.*feature 's'/) },
    ]);
  });

  it('when an expression names a column that does not exist, then fitting fails', () => {
    expect(() =>
      run({ type: 'derived', output: 'd', expression: 'a + constructor' }, ['d'], aBatch({ a: [1] })),
    ).toThrow(/'constructor' is neither an input column nor written by an earlier step/);
  });

  it('when an expression reads a categorical column, then fitting fails', () => {
    expect(() =>
      run({ type: 'derived', output: 'd', expression: 'c * 2' }, ['d'], aBatch({ c: ['x'] })),
    ).toThrow(/'c' is categorical/);
  });
});

describe('pca', () => {
  // Reference: numpy.linalg.svd of the centred data; each row of Vt flipped so that its
  // largest-magnitude loading is positive (the convention the implementation documents).
  const X = [
    [2.5, 2.4, 1.2, 10.0],
    [0.5, 0.7, 3.1, 12.5],
    [2.2, 2.9, 0.8, 9.1],
    [1.9, 2.2, 1.9, 11.0],
    [3.1, 3.0, 0.4, 8.7],
    [2.3, 2.7, 1.1, 10.4],
    [2.0, 1.6, 2.2, 11.9],
    [1.0, 1.1, 2.8, 12.2],
    [1.5, 1.6, 2.0, 11.1],
    [1.1, 0.9, 3.3, 13.0],
    [2.8, 2.6, 0.9, 9.4],
    [0.7, 1.2, 2.6, 12.8],
  ];
  const numpy = {
    mean: [1.8, 1.9083333333333332, 1.8583333333333334, 11.008333333333333],
    components: [
      [-0.3777136742668161, -0.38355228116683016, 0.4589787269624654, 0.7067945642684988],
      [0.8226088989475118, 0.17551902028789548, -0.009100954675479486, 0.5407632065086662],
      [-0.42467529257657866, 0.6556731128003496, -0.4568188224526017, 0.4255117254303525],
    ],
    explainedVariance: [4.3919673969187585, 0.10333606613907728, 0.049533748473923916],
    projected: [
      [-0.05156966234287727, 0.1748153613492945, -0.09309362073465488],
      [4.509303395254843, -0.2173527669464805, -0.1921917297963427],
    ],
  };
  const batchOf = (rows: number[][]) =>
    aBatch({
      a: rows.map((r) => r[0]!),
      b: rows.map((r) => r[1]!),
      c: rows.map((r) => r[2]!),
      d: rows.map((r) => r[3]!),
    });

  it('when fitted, then mean, components and explained variance match numpy SVD', () => {
    const { step } = run(
      { type: 'pca', columns: ['a', 'b', 'c', 'd'], nComponents: 3 },
      ['pca_0', 'pca_1', 'pca_2'],
      batchOf(X),
    );
    const pca = step as Extract<FittedStep, { type: 'pca' }>;
    pca.mean.forEach((m, j) => expect(m).toBeCloseTo(numpy.mean[j]!, 12));
    pca.components.forEach((row, k) =>
      row.forEach((v, j) => expect(v).toBeCloseTo(numpy.components[k]![j]!, 10)),
    );
    pca.explainedVariance.forEach((v, k) => expect(v).toBeCloseTo(numpy.explainedVariance[k]!, 10));
  });

  it('when applied to new rows, then the projections match numpy', () => {
    const { matrix } = run(
      { type: 'pca', columns: ['a', 'b', 'c', 'd'], nComponents: 3, prefix: 'pc' },
      ['pc0', 'pc1', 'pc2'],
      batchOf(X),
      batchOf([
        [2.0, 2.0, 2.0, 11.0],
        [0.0, 0.0, 4.0, 14.0],
      ]),
    );
    rowsOf(matrix).forEach((row, i) =>
      row.forEach((v, k) => expect(v).toBeCloseTo(numpy.projected[i]![k]!, 6)),
    );
  });

  it('when a training row has a missing input, then PCA is fitted on complete rows only', () => {
    const withGap = [...X, [NaN, 1, 1, 1]];
    const { step } = run(
      { type: 'pca', columns: ['a', 'b', 'c', 'd'], nComponents: 1 },
      ['pca_0'],
      batchOf(withGap),
    );
    const pca = step as Extract<FittedStep, { type: 'pca' }>;
    expect(pca.mean[1]).toBeCloseTo(numpy.mean[1]!, 12);
  });
});

describe('passthrough', () => {
  it('when a column is passed through under another name and then standardized in place, then the matrix holds both the raw and the scaled values', () => {
    const { step, matrix } = run(
      { type: 'passthrough', columns: ['age'], outputs: ['age_raw'] },
      ['age_raw'],
      aBatch({ age: [20, 40, 60] }),
    );
    expect(step).toEqual({ type: 'passthrough', columns: ['age'], outputs: ['age_raw'] });
    expect(column(matrix)).toEqual([20, 40, 60]);

    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'log1p', columns: ['age'], outputs: ['age_log'] },
          { type: 'passthrough', columns: ['age_log'], outputs: ['age_log_raw'] },
          { type: 'standardize', columns: ['age_log'] },
        ],
        output: ['age', 'age_log_raw', 'age_log'],
      },
      aBatch({ age: [20, 40, 60] }),
    );
    const rows = rowsOf(applyTransforms(fitted, aBatch({ age: [20, 40, 60] })).matrix);
    expect(rows.map((r) => r[0])).toEqual([20, 40, 60]);
    expect(rows.map((r) => r[1])).toEqual([20, 40, 60].map((a) => Math.fround(Math.log1p(a))));
    // The scaled column has mean 0: the copy taken before it was not scaled with it.
    expect(Math.abs(rows.reduce((s, r) => s + r[2]!, 0))).toBeLessThan(1e-6);
  });

  it('when a passthrough has no outputs, then its columns keep their names; a categorical column is refused', () => {
    const { step, matrix } = run({ type: 'passthrough', columns: ['a', 'b'] }, ['b', 'a'], aBatch({ a: [1, 2], b: [3, 4] }));
    expect(step).toEqual({ type: 'passthrough', columns: ['a', 'b'], outputs: ['a', 'b'] });
    expect(rowsOf(matrix)).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(() => run({ type: 'passthrough', columns: ['c'] }, ['c'], aBatch({ c: ['x', 'y'] }))).toThrow(
      /step 1 \(passthrough\): column 'c' is categorical, a numeric column is needed/,
    );
  });
});

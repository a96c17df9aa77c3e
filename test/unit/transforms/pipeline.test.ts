import type { RowBatch } from '../../../shared/domain/tabular';
import {
  applyTransforms,
  type FittedStep,
  fitTransforms,
  type TransformSpecInput,
} from '../../../shared/domain/transforms';
import { aBatch, rowsOf } from './builders';

describe('fitTransforms and applyTransforms', () => {
  it('when a spec imputes, standardizes and one-hot encodes, then the matrix follows the output order', () => {
    const spec: TransformSpecInput = {
      specVersion: 1,
      steps: [
        { type: 'impute', columns: ['x'], strategy: 'mean' },
        { type: 'standardize', columns: ['x'], outputs: ['x_std'] },
        { type: 'one_hot', column: 'color' },
      ],
      output: ['color_blue', 'x_std', 'color_red'],
    };
    const training = aBatch({ x: [1, 2, 3, null], color: ['red', 'blue', 'red', 'blue'] });
    const fitted = fitTransforms(spec, training);

    // x imputed with 2 -> [1, 2, 3, 2]: mean 2, population std sqrt(0.5).
    const s = Math.sqrt(0.5);
    const { matrix, keptRows, rejected } = applyTransforms(
      fitted,
      aBatch({ x: [4, null], color: ['blue', 'red'] }),
    );
    expect(rejected).toEqual([]);
    expect(Array.from(keptRows)).toEqual([0, 1]);
    expect(matrix.names).toEqual(['color_blue', 'x_std', 'color_red']);
    expect(matrix.values).toBeInstanceOf(Float32Array);
    const rows = rowsOf(matrix);
    expect(rows[0]![0]).toBe(1);
    expect(rows[0]![1]).toBeCloseTo(2 / s, 6);
    expect(rows[0]![2]).toBe(0);
    expect(rows[1]).toEqual([0, 0, 1]);
  });

  it('when a step writes in place, then the caller batch is left untouched', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'impute', columns: ['x'], strategy: 'constant', fillValue: 0 },
          { type: 'standardize', columns: ['x'] },
          { type: 'clip', columns: ['x'], lower: -1, upper: 1 },
        ],
        output: ['x'],
      },
      aBatch({ x: [1, 3] }),
    );
    const batch = aBatch({ x: [5, null, 2] });
    applyTransforms(fitted, batch);
    expect(Array.from(batch.numeric.x!)).toEqual([5, NaN, 2]);
  });

  it('when element-wise steps read the caller columns directly, then the batch is left untouched and a column kept under its name reads as before', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'standardize', columns: ['x'] },
          { type: 'log1p', columns: ['y'], outputs: ['ly'] },
          { type: 'min_max', columns: ['y'] },
          { type: 'bucketize', column: 'z', edges: [0, 10], output: 'zb' },
        ],
        output: ['x', 'ly', 'y', 'zb', 'z'],
      },
      aBatch({ x: [1, 3], y: [0, 4], z: [0, 1] }),
    );
    const batch = aBatch({ x: [5, 2], y: [1, 3], z: [5, 20] });
    const { matrix } = applyTransforms(fitted, batch);

    expect(rowsOf(matrix)).toEqual([
      [3, Math.fround(Math.log1p(1)), 0.25, 1, 5],
      [0, Math.fround(Math.log1p(3)), 0.75, 2, 20],
    ]);
    expect(Array.from(batch.numeric.x!)).toEqual([5, 2]);
    expect(Array.from(batch.numeric.y!)).toEqual([1, 3]);
    expect(Array.from(batch.numeric.z!)).toEqual([5, 20]);
  });

  it('when a value is missing and no imputer covers it, then the row is rejected naming the input', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [{ type: 'standardize', columns: ['age'], outputs: ['age_z'] }],
        output: ['age_z', 'income'],
      },
      aBatch({ age: [20, 40], income: [1, 2] }),
    );
    const { rejected, keptRows } = applyTransforms(
      fitted,
      aBatch({ age: [30, null, 25], income: [1, 2, null] }),
    );
    expect(Array.from(keptRows)).toEqual([0]);
    expect(rejected).toEqual([
      { row: 1, reason: "missing value in 'age' and no imputer covers it: feature 'age_z' is undefined" },
      { row: 2, reason: "missing value in 'income' and no imputer covers it: feature 'income' is undefined" },
    ]);
  });

  it('when the batch is empty, then the result is an empty matrix of the right width', () => {
    const fitted = fitTransforms({ specVersion: 1, output: ['x', 'y'] }, aBatch({ x: [1], y: [2] }));
    const { matrix, keptRows, rejected } = applyTransforms(fitted, aBatch({ x: [], y: [] }));
    expect(matrix).toMatchObject({ rows: 0, width: 2, names: ['x', 'y'] });
    expect(matrix.values.length).toBe(0);
    expect(keptRows.length).toBe(0);
    expect(rejected).toEqual([]);
  });

  it('when a value overflows float32, then the row is rejected rather than given Infinity', () => {
    const fitted = fitTransforms({ specVersion: 1, output: ['x'] }, aBatch({ x: [1] }));
    const { rejected } = applyTransforms(fitted, aBatch({ x: [1e39, 1] }));
    expect(rejected).toEqual([{ row: 0, reason: expect.stringMatching(/outside the float32 range/) }]);
  });

  it('when several outputs of a row are out of float32 range, then the reason names the first in output order', () => {
    const fitted = fitTransforms(
      { specVersion: 1, output: ['a', 'b', 'c', 'd', 'e'] },
      aBatch({ a: [1], b: [1], c: [1], d: [1], e: [1] }),
    );
    const { rejected, keptRows, matrix } = applyTransforms(
      fitted,
      aBatch({
        a: [1, 1, 1, 1, 1],
        b: [1, -1e39, 1, 1, 1],
        c: [1, 1e39, 1e39, 1, 1],
        d: [2e39, 1, 6e39, 1, 1],
        e: [3e39, 1, 4e39, 5e39, 1],
      }),
    );
    expect(rejected).toEqual([
      { row: 0, reason: "feature 'd' = 2e+39 is outside the float32 range" },
      { row: 1, reason: "feature 'b' = -1e+39 is outside the float32 range" },
      { row: 2, reason: "feature 'c' = 1e+39 is outside the float32 range" },
      { row: 3, reason: "feature 'e' = 5e+39 is outside the float32 range" },
    ]);
    expect(Array.from(keptRows)).toEqual([4]);
    expect(rowsOf(matrix)).toEqual([[1, 1, 1, 1, 1]]);
  });

  it('when the batch lacks an input column or has it with the other kind, then the whole batch is refused', () => {
    const fitted = fitTransforms(
      { specVersion: 1, steps: [{ type: 'one_hot', column: 'c' }], output: ['x', 'c_a'] },
      aBatch({ x: [1], c: ['a'] }),
    );
    expect(fitted.inputs).toEqual([
      { name: 'c', kind: 'categorical' },
      { name: 'x', kind: 'numeric' },
    ]);
    expect(() => applyTransforms(fitted, aBatch({ c: ['a'] }))).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        message: "input column 'x' is missing from the batch",
      }),
    );
    expect(() => applyTransforms(fitted, aBatch({ x: [1], c: [1] }))).toThrow(/'c' must be categorical/);
  });

  it('when an output column is categorical or never produced, then fitting fails', () => {
    expect(() => fitTransforms({ specVersion: 1, output: ['c'] }, aBatch({ c: ['a'] }))).toThrow(
      /'c' is categorical/,
    );
    expect(() => fitTransforms({ specVersion: 1, output: ['nope'] }, aBatch({ c: ['a'] }))).toThrow(
      /'nope' is neither an input column/,
    );
  });

  it('when the batch spans several internal blocks with rejections, then rows stay aligned', () => {
    const n = 40_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const c = Array.from({ length: n }, (_, i) =>
      i % 9_999 === 5 ? 'unseen' : i % 2 === 0 ? 'even' : 'odd',
    );
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'one_hot', column: 'c', categories: ['even', 'odd'] },
          { type: 'derived', output: 'y', expression: 'x * 2 + 1' },
        ],
        output: ['y', 'c_odd'],
      },
      aBatch({ x: [0, 1], c: ['even', 'odd'] }),
    );
    const { matrix, keptRows, rejected } = applyTransforms(fitted, aBatch({ x, c }));
    const rejectedRows = [5, 10_004, 20_003, 30_002];
    expect(rejected.map((r) => r.row)).toEqual(rejectedRows);
    expect(matrix.rows).toBe(n - rejectedRows.length);
    expect(matrix.values.length).toBe(matrix.rows * 2);
    for (let k = 0; k < matrix.rows; k += 1) {
      const row = keptRows[k]!;
      expect(matrix.values[2 * k]).toBe(row * 2 + 1);
      expect(matrix.values[2 * k + 1]).toBe(row % 2);
    }
  });
});

describe('training-only steps', () => {
  // Outlier 1000 would dominate the mean if it were kept.
  const training = aBatch({ x: [1, 2, 3, 4, 1000], group: ['a', 'a', 'b', 'b', 'b'] });

  it('when drop_outliers is in the spec, then later steps are fitted without the outliers', () => {
    // numpy.quantile([1,2,3,4,1000], [0.25, 0.75]) == [2, 4]: bounds [2 - 3, 4 + 3] = [-1, 7]
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'drop_outliers', columns: ['x'], method: 'iqr' },
          { type: 'standardize', columns: ['x'] },
        ],
        output: ['x'],
      },
      training,
    );
    expect(fitted.steps[0]).toMatchObject({ lower: [-1], upper: [7], rowsDropped: 1 });
    expect(fitted.steps[1]).toMatchObject({ mean: [2.5] });
    expect(fitted).toMatchObject({ trainingRows: 5, fittedRows: 4 });
  });

  it('when a zscore rule is fitted, then its bounds are mean +- k std', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [{ type: 'drop_outliers', columns: ['x'], method: 'zscore', threshold: 1 }],
        output: ['x'],
      },
      aBatch({ x: [2, 4, 4, 4, 5, 5, 7, 9] }),
    );
    // mean 5, population std 2
    expect(fitted.steps[0]).toMatchObject({ lower: [3], upper: [7], rowsDropped: 2 });
  });

  it('when training-only steps are fitted, then applying never drops the rows they would drop', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'drop_outliers', columns: ['x'], method: 'iqr' },
          { type: 'filter_rows', where: [{ column: 'group', op: 'in', values: ['b'] }] },
          { type: 'min_max', columns: ['x'] },
        ],
        output: ['x'],
      },
      training,
    );
    // Fitted on rows x = 3, 4 only (group b, not the outlier).
    expect(fitted.steps[1]).toMatchObject({ rowsDropped: 2 });
    expect(fitted.steps[2]).toMatchObject({ min: [3], scale: [1] });
    const { matrix, rejected } = applyTransforms(fitted, aBatch({ x: [1000, 1], group: ['b', 'a'] }));
    expect(rejected).toEqual([]);
    expect(rowsOf(matrix)).toEqual([[997], [-2]]);
  });

  it('when filter conditions meet missing values, then only missing/not_missing match them', () => {
    const batch: RowBatch = aBatch({ x: [1, null, 5, 7], c: ['a', 'b', null, 'a'] });
    const fit = (where: Extract<FittedStep, { type: 'filter_rows' }>['where']) =>
      fitTransforms({ specVersion: 1, steps: [{ type: 'filter_rows', where }], output: ['x'] }, batch)
        .fittedRows;
    expect(fit([{ column: 'x', op: 'ne', value: 5 }])).toBe(2);
    expect(fit([{ column: 'x', op: 'missing' }])).toBe(1);
    expect(
      fit([
        { column: 'x', op: 'not_missing' },
        { column: 'c', op: 'not_in', values: ['b'] },
      ]),
    ).toBe(2);
    expect(fit([{ column: 'x', op: 'ge', value: 5 }])).toBe(2);
    expect(fit([{ column: 'x', op: 'lt', value: 5 }])).toBe(1);
    expect(() => fit([{ column: 'x', op: 'gt', value: 100 }])).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_DATA' }),
    );
  });

  it('when a filter condition does not suit the column kind, then fitting fails instead of dropping every row', () => {
    const batch = aBatch({ x: [1, 2], c: ['a', 'b'] });
    const fit = (where: Extract<FittedStep, { type: 'filter_rows' }>['where']) =>
      fitTransforms({ specVersion: 1, steps: [{ type: 'filter_rows', where }], output: ['x'] }, batch);
    expect(() => fit([{ column: 'c', op: 'gt', value: 1 }])).toThrow(
      /'gt' compares numbers, 'c' is categorical/,
    );
    expect(() => fit([{ column: 'x', op: 'in', values: ['1'] }])).toThrow(
      /numeric column 'x' must all be numbers/,
    );
    expect(() => fit([{ column: 'c', op: 'in', values: [1] }])).toThrow(
      /categorical column 'c' must all be strings/,
    );
    expect(fit([{ column: 'x', op: 'in', values: [2] }]).fittedRows).toBe(1);
  });

  it('when a column is first read after rows were dropped, then it is aligned with the kept rows', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'filter_rows', where: [{ column: 'keep', op: 'eq', value: 1 }] },
          { type: 'standardize', columns: ['x'] },
        ],
        output: ['x'],
      },
      aBatch({ keep: [1, 0, 1, 0], x: [10, 1000, 20, -1000] }),
    );
    expect(fitted.steps[1]).toMatchObject({ mean: [15], scale: [5] });
  });

  it('when a fitted step would reject a training row, then later steps are fitted without it', () => {
    const fitted = fitTransforms(
      {
        specVersion: 1,
        steps: [
          { type: 'log1p', columns: ['x'] },
          { type: 'min_max', columns: ['x'] },
        ],
        output: ['x'],
      },
      aBatch({ x: [0, Math.E - 1, -5] }),
    );
    expect(fitted.steps[1]).toMatchObject({ min: [0] });
    expect((fitted.steps[1] as { scale: number[] }).scale[0]).toBeCloseTo(1, 12);
    expect(fitted.fittedRows).toBe(2);
  });
});

describe('fitted parameters', () => {
  it('when training data hold an infinite value, then fitting fails instead of storing Infinity', () => {
    expect(() =>
      fitTransforms(
        { specVersion: 1, steps: [{ type: 'standardize', columns: ['x'] }], output: ['x'] },
        aBatch({ x: [1, Infinity] }),
      ),
    ).toThrow(/step 1 \(standardize\): fitted parameters are invalid at steps\.0\.mean\.0/);
  });
});

import { recoverTransformSpec } from '../../../shared/domain/training/spec-recovery';
import { fitTransforms, fitTransformsWithRows, transformSpecHash, type TransformSpecInput } from '../../../shared/domain/transforms';
import { aBatch } from '../transforms/builders';

const batch = aBatch({
  x: [1, 2, null, 4, 5, 6, 7, 8, 9, 10],
  y: [0.5, 3, 2, 8, 1, 0, 4, 4, 9, 2],
  t: [0, 3_600_000, 7_200_000, 86_400_000, 1e9, 2e9, 3e9, 4e9, 5e9, 6e9],
  region: ['north', 'south', 'north', 'east', 'south', 'north', 'east', 'north', 'south', 'north'],
  size: ['s', 'm', 'l', 's', 'm', 'l', 's', 'm', 'l', 's'],
});

const specs: Record<string, TransformSpecInput> = {
  'one-hot region (the model kit)': { specVersion: 1, steps: [{ type: 'one_hot', column: 'region', unseen: 'ignore' }], output: ['x', 'region_east', 'region_north', 'region_south'] },
  'every option given': {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['x'], outputs: ['xi'], strategy: 'constant', fillValue: 0 },
      { type: 'clip', columns: ['y'], lower: 0, upper: 5 },
      { type: 'log1p', columns: ['y'], outputs: ['ly'] },
      { type: 'standardize', columns: ['xi', 'ly'] },
      { type: 'min_max', columns: ['y'], outputs: ['y01'] },
      { type: 'one_hot', column: 'region', categories: ['north', 'south'], unseen: 'other', prefix: 'r:' },
      { type: 'ordinal', column: 'size', output: 'size_i', categories: ['s', 'm', 'l'] },
      { type: 'bucketize', column: 'y', output: 'y_bucket', edges: [1, 4] },
      { type: 'datetime_parts', column: 't', parts: ['hour', 'day_of_week'], prefix: 'when_' },
      { type: 'derived', output: 'xy', expression: 'xi * ly' },
      { type: 'pca', columns: ['xi', 'ly', 'y01'], nComponents: 2, outputs: ['c1', 'c2'] },
    ],
    output: ['xi', 'ly', 'y01', 'r:north', 'r:south', 'r:__other__', 'size_i', 'y_bucket', 'when_hour', 'when_day_of_week', 'xy', 'c1', 'c2'],
  },
  'learnt options and training-only steps': {
    specVersion: 1,
    steps: [
      { type: 'filter_rows', where: [{ column: 'y', op: 'lt', value: 9 }] },
      { type: 'drop_outliers', columns: ['y'], method: 'iqr' },
      { type: 'impute', columns: ['x'], strategy: 'median' },
      { type: 'ordinal', column: 'size' },
      { type: 'bucketize', column: 'x', output: 'xq', quantiles: 4 },
      { type: 'pca', columns: ['x', 'y'], nComponents: 1, prefix: 'p' },
      { type: 'datetime_parts', column: 't', parts: ['month'] },
      { type: 'passthrough', columns: ['y'], outputs: ['y_raw'] },
    ],
    output: ['x', 'size', 'xq', 'p0', 't_month', 'y_raw'],
  },
};

describe('recovering the transform spec from fitted transforms', () => {
  it.each(Object.entries(specs))('when the spec is %s, then exactly that spec comes back (its hash is the specHash)', (_name, spec) => {
    const fitted = fitTransforms(spec, batch);
    const recovered = recoverTransformSpec(fitted);
    expect(transformSpecHash(recovered)).toBe(fitted.specHash);
    expect(transformSpecHash(recovered)).toBe(transformSpecHash(spec));
  });

  it('when a clip bound was a quantile, then it refuses and asks for transformSpec in the manifest', () => {
    const fitted = fitTransforms({ specVersion: 1, steps: [{ type: 'clip', columns: ['x', 'y'], upper: { quantile: 0.9 } }], output: ['x', 'y'] }, batch);
    expect(() => recoverTransformSpec(fitted)).toThrow(/step 1 \(clip\).*`transformSpec` in the manifest/);
  });

  it('when an outlier threshold was not the default, then it refuses instead of guessing', () => {
    const fitted = fitTransforms({ specVersion: 1, steps: [{ type: 'drop_outliers', columns: ['y'], method: 'zscore', threshold: 2 }], output: ['x', 'y'] }, batch);
    expect(() => recoverTransformSpec(fitted)).toThrow(/cannot be recovered/);
  });
});

describe('fitting transforms for a model fit', () => {
  it('when training-only steps drop rows and a step rejects some, then the rows kept are the others, in order', () => {
    const { fitted, rows } = fitTransformsWithRows(
      {
        specVersion: 1,
        steps: [
          { type: 'filter_rows', where: [{ column: 'y', op: 'lt', value: 9 }] },
          { type: 'one_hot', column: 'region', categories: ['north', 'south'], unseen: 'error' },
        ],
        output: ['y', 'region_north', 'region_south'],
      },
      batch,
    );
    // y = 9 (row 8) is filtered out; 'east' (rows 3 and 6) is rejected by the one-hot.
    expect(Array.from(rows)).toEqual([0, 1, 2, 4, 5, 7, 9]);
    expect(fitted.fittedRows).toBe(7);
  });
});

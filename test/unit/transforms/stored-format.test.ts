import { fittedTransformsHash, fittedTransformsSchema, fitTransforms, transformSpecHash, type TransformSpecInput } from '../../../shared/domain/transforms';
import { aBatch } from './builders';

/**
 * Stored model versions carry their transform spec hash and fitted transforms: both must read
 * and hash the same forever. These values were computed before the steps were reorganised into
 * one module each, and pin the format of every step type.
 */
const training = aBatch({
  x: [1, 2, null, 4, 5, 6, 7, 8],
  y: [10, 20, 30, 40, 50, 60, 70, 800],
  m: [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
  c: ['a', 'b', 'a', null, 'c', 'b', 'a', 'c'],
  ts: [0, 3.6e6, 8.64e7, 1e12, 1.2e12, 1.4e12, 1.6e12, 1.7e12],
});

const specs: Record<string, TransformSpecInput> = {
  numeric: {
    specVersion: 1,
    steps: [
      { type: 'filter_rows', where: [{ column: 'y', op: 'lt', value: 500 }] },
      { type: 'impute', columns: ['x'], strategy: 'median' },
      { type: 'drop_outliers', columns: ['m'], method: 'zscore' },
      { type: 'clip', columns: ['y'], lower: { quantile: 0.1 }, upper: 65, outputs: ['y_clipped'] },
      { type: 'log1p', columns: ['y'] },
      { type: 'standardize', columns: ['x', 'y'] },
      { type: 'min_max', columns: ['m'], outputs: ['m01'] },
      { type: 'bucketize', column: 'm', quantiles: 3, output: 'm_bucket' },
      { type: 'pca', columns: ['x', 'y', 'm'], nComponents: 2 },
      { type: 'derived', output: 'ratio', expression: 'x / (abs(y) + 1)' },
    ],
    output: ['x', 'y', 'y_clipped', 'm01', 'm_bucket', 'pca_0', 'pca_1', 'ratio'],
  },
  categorical: {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['c'], strategy: 'most_frequent' },
      { type: 'one_hot', column: 'c', unseen: 'other', prefix: 'c=' },
      { type: 'ordinal', column: 'c', output: 'c_code', categories: ['c', 'b', 'a'], unseen: 'value' },
      { type: 'datetime_parts', column: 'ts', parts: ['hour', 'day_of_week', 'month', 'season'] },
      { type: 'drop_outliers', columns: ['y'], method: 'iqr', threshold: 3 },
      { type: 'filter_rows', where: [{ column: 'c', op: 'in', values: ['a', 'b', 'c'] }, { column: 'x', op: 'not_missing' }] },
    ],
    output: ['c=a', 'c=b', 'c=c', 'c=__other__', 'c_code', 'ts_hour', 'ts_day_of_week', 'ts_month', 'ts_season'],
  },
};

describe('stored transform formats', () => {
  it.each(Object.keys(specs))('when the %s spec is hashed and fitted, then the spec hash, fitted JSON and fitted hash are the stored ones', (name) => {
    const spec = specs[name]!;
    const fitted = fitTransforms(spec, training);
    const pinned = PINNED[name]!;
    expect(transformSpecHash(spec)).toBe(pinned.specHash);
    expect(JSON.stringify(fitted)).toBe(pinned.fitted);
    expect(fittedTransformsSchema.parse(JSON.parse(pinned.fitted))).toEqual(fitted);
    expect(fittedTransformsHash(fitted)).toBe(pinned.fittedHash);
  });
});

const PINNED: Record<string, { specHash: string; fitted: string; fittedHash: string }> = {
  numeric: {
    specHash: "4a44b9f5eb6fe2e25ad8a282cfdf06b196d5506d216ab0cb8bca16a317385301",
    fitted: "{\"specVersion\":1,\"specHash\":\"4a44b9f5eb6fe2e25ad8a282cfdf06b196d5506d216ab0cb8bca16a317385301\",\"inputs\":[{\"name\":\"y\",\"kind\":\"numeric\"},{\"name\":\"x\",\"kind\":\"numeric\"},{\"name\":\"m\",\"kind\":\"numeric\"}],\"steps\":[{\"type\":\"filter_rows\",\"where\":[{\"column\":\"y\",\"op\":\"lt\",\"value\":500}],\"rowsDropped\":1},{\"type\":\"impute\",\"columns\":[\"x\"],\"outputs\":[\"x\"],\"strategy\":\"median\",\"fill\":[4.5]},{\"type\":\"drop_outliers\",\"columns\":[\"m\"],\"method\":\"zscore\",\"lower\":[-2.5],\"upper\":[9.5],\"rowsDropped\":0},{\"type\":\"clip\",\"columns\":[\"y\"],\"outputs\":[\"y_clipped\"],\"lower\":[16],\"upper\":[65]},{\"type\":\"log1p\",\"columns\":[\"y\"],\"outputs\":[\"y\"]},{\"type\":\"standardize\",\"columns\":[\"x\",\"y\"],\"outputs\":[\"x\",\"y\"],\"mean\":[4.214285714285714,3.5564794793786],\"scale\":[1.9613614596779974,0.6084003246243423]},{\"type\":\"min_max\",\"columns\":[\"m\"],\"outputs\":[\"m01\"],\"min\":[0.5],\"scale\":[6]},{\"type\":\"bucketize\",\"column\":\"m\",\"output\":\"m_bucket\",\"edges\":[2.5,4.5]},{\"type\":\"pca\",\"columns\":[\"x\",\"y\",\"m\"],\"outputs\":[\"pca_0\",\"pca_1\"],\"mean\":[-9.516197353929913e-17,2.5376526277146434e-16,3.5],\"components\":[[0.4031749770421086,0.4033324973923283,0.8214455760635412],[0.5915556917680973,0.5700103346834531,-0.5702193278825488]],\"explainedVariance\":[6.878197393153794,0.07824866118162278]},{\"type\":\"derived\",\"output\":\"ratio\",\"expression\":\"x / (abs(y) + 1)\",\"inputs\":[\"x\",\"y\"]}],\"output\":[\"x\",\"y\",\"y_clipped\",\"m01\",\"m_bucket\",\"pca_0\",\"pca_1\",\"ratio\"],\"trainingRows\":8,\"fittedRows\":7}",
    fittedHash: "7e0a9524f71e9c5e24cf705be7c498c15006aee6a90a9faba6ca8782604b049d",
  },
  categorical: {
    specHash: "ccd1389c16fc73d4043fb04fcc2ee04223459f3ebae43e74bec6f890be64ce31",
    fitted: "{\"specVersion\":1,\"specHash\":\"ccd1389c16fc73d4043fb04fcc2ee04223459f3ebae43e74bec6f890be64ce31\",\"inputs\":[{\"name\":\"c\",\"kind\":\"categorical\"},{\"name\":\"ts\",\"kind\":\"numeric\"},{\"name\":\"y\",\"kind\":\"numeric\"},{\"name\":\"x\",\"kind\":\"numeric\"}],\"steps\":[{\"type\":\"impute\",\"columns\":[\"c\"],\"outputs\":[\"c\"],\"strategy\":\"most_frequent\",\"fill\":[\"a\"]},{\"type\":\"one_hot\",\"column\":\"c\",\"categories\":[\"a\",\"b\",\"c\"],\"unseen\":\"other\",\"outputs\":[\"c=a\",\"c=b\",\"c=c\",\"c=__other__\"]},{\"type\":\"ordinal\",\"column\":\"c\",\"output\":\"c_code\",\"categories\":[\"c\",\"b\",\"a\"],\"unseen\":\"value\",\"unseenValue\":-1},{\"type\":\"datetime_parts\",\"column\":\"ts\",\"parts\":[\"hour\",\"day_of_week\",\"month\",\"season\"],\"outputs\":[\"ts_hour\",\"ts_day_of_week\",\"ts_month\",\"ts_season\"]},{\"type\":\"drop_outliers\",\"columns\":[\"y\"],\"method\":\"iqr\",\"lower\":[-77.5],\"upper\":[167.5],\"rowsDropped\":1},{\"type\":\"filter_rows\",\"where\":[{\"column\":\"c\",\"op\":\"in\",\"values\":[\"a\",\"b\",\"c\"]},{\"column\":\"x\",\"op\":\"not_missing\"}],\"rowsDropped\":1}],\"output\":[\"c=a\",\"c=b\",\"c=c\",\"c=__other__\",\"c_code\",\"ts_hour\",\"ts_day_of_week\",\"ts_month\",\"ts_season\"],\"trainingRows\":8,\"fittedRows\":6}",
    fittedHash: "3496ebe4d7c12233f3865c2651d38329252ac40df1ed5dbd7e708c9983a31f03",
  },
};

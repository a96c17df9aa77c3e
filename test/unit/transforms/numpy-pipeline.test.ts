import { checkTransformParity, goldenRecordsSchema } from '../../../shared/domain/parity';
import { applyTransforms, fitTransforms } from '../../../shared/domain/transforms';
import { aBatch, rowsOf } from './builders';

/**
 * A whole pipeline against the same pipeline written in numpy (median imputation, log1p, a derived
 * feature, standardization, PCA by SVD with the largest-loading-positive sign convention):
 *
 *   a1 = where(isnan(a), nanmedian(a), a); lb = log1p(b); d = a1 * c - lb / 2
 *   X = [a1, lb, d]; Z = (X - X.mean(0)) / X.std(0); Vt = svd(Z - Z.mean(0)).Vt (flipped)
 *   output = [Z[:, 0], (Z - Z.mean(0)) @ Vt[:2].T]
 */
const training = aBatch({
  a: [3.0, null, 7.5, 1.2, 9.9, 4.4, null, 6.1, 2.8, 5.0],
  b: [10.0, 200.0, 35.0, 0.5, 80.0, 12.0, 44.0, 150.0, 7.0, 60.0],
  c: [0.3, -1.2, 0.8, 2.2, -0.4, 1.1, 0.0, -2.5, 0.9, 1.7],
});
const scoring = { a: [null, 8.0, 0.5], b: [20.0, 5.0, 300.0], c: [1.0, -0.5, 2.0] };
const numpyOutput = [
  [-0.09785816552958317, -0.5597992546737776, 0.4590317274441621],
  [1.3061937746774823, 0.2685849457735464, 0.3835477196557543],
  [-1.8848333621567577, 0.012752379349848209, -1.101531052413263],
];

const fitted = fitTransforms(
  {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['a'], strategy: 'median' },
      { type: 'log1p', columns: ['b'], outputs: ['lb'] },
      { type: 'derived', output: 'd', expression: 'a * c - lb / 2' },
      { type: 'standardize', columns: ['a', 'lb', 'd'] },
      { type: 'pca', columns: ['a', 'lb', 'd'], nComponents: 2 },
    ],
    output: ['a', 'pca_0', 'pca_1'],
  },
  training,
);

describe('a pipeline against numpy', () => {
  it('when fitted and applied, then every output matches numpy within 1e-6', () => {
    expect(fitted.steps[0]).toMatchObject({ fill: [4.7] });
    const { matrix } = applyTransforms(fitted, aBatch(scoring));
    rowsOf(matrix).forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(numpyOutput[i]![j]!, 6)));
  });

  it('when the numpy outputs are the golden records, then transform parity holds', () => {
    const golden = goldenRecordsSchema.parse(
      numpyOutput.map((expectedFeatures, i) => ({
        input: { a: scoring.a[i], b: scoring.b[i], c: scoring.c[i] },
        expectedFeatures,
      })),
    );
    expect(checkTransformParity(fitted, golden)).toEqual({ ok: true, mismatches: [] });
  });
});

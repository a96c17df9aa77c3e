import {
  meanStd,
  medianSorted,
  modeCategorical,
  quantileSorted,
  sortedPresent,
} from '../../../shared/domain/transforms/stats';

// Reference values from numpy 2.4: numpy.quantile(v, q) (default linear method), numpy.median,
// v.mean(), v.std().
const v = [
  10.006, 11.494, 8.629, 5.547, 7.727, 5.042, 10.301, 16.701, 7.539, 6.898, 12.449, 11.784, 10.527, 5.348,
  9.854, 13.477, 3.279, 7.712, 0.494, 3.552, 0.791, 8.825, 3.663,
];
const numpyQuantiles: Array<[number, number]> = [
  [0, 0.494],
  [0.01, 0.55934],
  [0.1, 3.3336],
  [0.25, 5.195],
  [0.333, 5.987426],
  [0.5, 7.727],
  [0.6, 9.0308],
  [0.75, 10.414],
  [0.9, 12.316],
  [0.99, 15.991720000000004],
  [1, 16.701],
];

describe('column statistics', () => {
  const sorted = sortedPresent(Float64Array.from([...v, NaN, NaN]));

  it('when missing values are present, then they are left out before sorting', () => {
    expect(sorted.length).toBe(v.length);
    expect(sorted[0]).toBe(0.494);
  });

  it.each(numpyQuantiles)(
    'when q = %p, then the quantile equals numpy.quantile to the last bit',
    (q, expected) => {
      expect(quantileSorted(sorted, q)).toBe(expected);
    },
  );

  it('when the count is even, then the median is the mean of the middle two as in numpy.median', () => {
    expect(medianSorted(sorted)).toBe(7.727);
    expect(medianSorted(sortedPresent(Float64Array.of(3, 1, 2, 2)))).toBe(2);
    expect(medianSorted(sortedPresent(Float64Array.of(4, 1, 2, 10)))).toBe(3);
    expect(quantileSorted(sortedPresent(Float64Array.of(3, 1, 2, 2)), 0.1)).toBe(1.3);
  });

  it('when mean and std are computed, then they match numpy mean and population std', () => {
    const s = meanStd(Float64Array.from([...v, NaN]));
    expect(s.count).toBe(v.length);
    expect(s.mean).toBeCloseTo(7.897347826086956, 13);
    expect(s.std).toBeCloseTo(3.9813539057078655, 13);
  });

  it('when every value is missing, then statistics are NaN rather than invented', () => {
    expect(quantileSorted(sortedPresent(Float64Array.of(NaN)), 0.5)).toBeNaN();
    expect(meanStd(Float64Array.of(NaN)).mean).toBeNaN();
    expect(modeCategorical([null, null])).toBeNull();
  });
});

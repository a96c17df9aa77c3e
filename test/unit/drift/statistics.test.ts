import { ksTest, normalizedWasserstein, wasserstein } from '../../../shared/domain/drift';
import { histogram, histogramSorted,quantileEdges } from '../../../shared/domain/drift/binning';
import { adjustPValues } from '../../../shared/domain/drift/corrections';
import {
  chiSquaredTest,
  hellinger,
  jensenShannon,
  lInfinity,
  psi,
  zTest,
} from '../../../shared/domain/drift/distributions';
import { kolmogorovSf } from '../../../shared/domain/drift/kolmogorov';
import { ksTestSorted } from '../../../shared/domain/drift/ks';
import { populationStd, sortedFinite, wassersteinSorted } from '../../../shared/domain/drift/numeric';
import reference from '../../fixtures/drift/reference-values.json';

const TOLERANCE = 1e-6;
const sorted = (values: number[]) => sortedFinite(Float64Array.from(values));

/** Absolute agreement, or relative agreement for tiny p-values. */
function expectClose(actual: number, expected: number) {
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected) / scale).toBeLessThanOrEqual(TOLERANCE);
}

describe('drift statistics against numpy/scipy reference values', () => {
  test.each(reference.ks.map((c) => [c.name, c] as const))(
    'when two samples are compared with KS (%s), then statistic and p-value match ks_2samp',
    (_name, c) => {
      const result = ksTestSorted(sorted(c.a), sorted(c.b));
      expectClose(result.statistic, c.statistic);
      expectClose(result.pValue, c.pvalue);
    },
  );

  test('when the one-sample Kolmogorov distribution is evaluated on a grid, then it matches kstwo.sf', () => {
    for (const c of reference.kstwo) {
      const actual = kolmogorovSf(c.d, c.n);
      if (Math.abs(actual - c.sf) > TOLERANCE) throw new Error(`kstwo.sf(${c.d}, ${c.n}) = ${c.sf}, got ${actual}`);
    }
  });

  test.each(reference.chiSquared.map((c) => [c.name, c] as const))(
    'when category counts are tested with chi-squared (%s), then they match chi2_contingency',
    (_name, c) => {
      const result = chiSquaredTest(c.reference, c.current);
      expectClose(result.statistic, c.statistic);
      expectClose(result.pValue, c.pvalue);
    },
  );

  test('when two proportions are compared, then the pooled z-test matches the numpy/scipy formula', () => {
    for (const c of reference.zTest) {
      const result = zTest(c.x1, c.n1, c.x2, c.n2);
      expectClose(result.statistic, c.statistic);
      expectClose(result.pValue, c.pvalue);
    }
  });

  test.each(reference.numeric.map((c) => [c.name, c] as const))(
    'when numeric samples are binned on reference quantiles (%s), then edges, counts and distances match numpy/scipy',
    (_name, c) => {
      const a = sorted(c.a);
      const b = sorted(c.b);
      const edges = quantileEdges(a, 10);
      expect(edges).toHaveLength(c.edges.length);
      edges.forEach((e, i) => expectClose(e, c.edges[i]!));
      const hr = histogramSorted(a, edges);
      const hc = histogramSorted(b, edges);
      expect(Array.from(hr)).toEqual(c.referenceCounts);
      expect(Array.from(hc)).toEqual(c.currentCounts);
      expect(Array.from(histogram(Float64Array.from(c.b), edges))).toEqual(c.currentCounts);
      expectClose(wassersteinSorted(a, b), c.wasserstein);
      expectClose(wassersteinSorted(a, b) / Math.max(populationStd(a), 0.001), c.wassersteinNormalized);
      expectClose(psi(hr, hc), c.psi);
      expectClose(jensenShannon(hr, hc), c.jensenShannon);
      expectClose(hellinger(hr, hc), c.hellinger);
      expectClose(lInfinity(hr, hc), c.lInfinity);
      expectClose(chiSquaredTest(hr, hc).statistic, c.chiSquared);
      expectClose(ksTestSorted(a, b).statistic, c.ks);
    },
  );

  test.each(reference.categorical.map((c) => [c.name, c] as const))(
    'when category counts are compared by distance (%s), then PSI, Jensen-Shannon, Hellinger and L-infinity match',
    (_name, c) => {
      expectClose(psi(c.reference, c.current), c.psi);
      expectClose(jensenShannon(c.reference, c.current), c.jensenShannon);
      expectClose(hellinger(c.reference, c.current), c.hellinger);
      expectClose(lInfinity(c.reference, c.current), c.lInfinity);
    },
  );

  test('when p-values are corrected, then Bonferroni and Benjamini-Hochberg match scipy', () => {
    const { pvalues, bonferroni, benjaminiHochberg } = reference.corrections;
    adjustPValues(pvalues, 'bonferroni').forEach((p, i) => expectClose(p, bonferroni[i]!));
    adjustPValues(pvalues, 'benjamini_hochberg').forEach((p, i) => expectClose(p, benjaminiHochberg[i]!));
    expect(adjustPValues(pvalues, 'none')).toEqual(pvalues);
  });

  test('when raw unsorted samples with missing values go through the facade, then KS and Wasserstein still match scipy', () => {
    const c = reference.numeric[0]!;
    const withGaps = (values: number[]) => Float64Array.from([Number.NaN, ...[...values].reverse(), Number.NaN]);
    const ks = ksTest(withGaps(c.a), withGaps(c.b));
    expectClose(ks.statistic, c.ks);
    expectClose(wasserstein(withGaps(c.a), withGaps(c.b)), c.wasserstein);
    expectClose(normalizedWasserstein(withGaps(c.a), withGaps(c.b)), c.wassersteinNormalized);
  });
});

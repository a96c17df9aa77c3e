import { compareBatches } from '../../../shared/domain/drift/report';
import { compareProfiles } from '../../../shared/domain/profiles/drift';
import { KLL_RANK_EPSILON } from '../../../shared/domain/profiles/kll';
import { buildProfile } from '../../../shared/domain/profiles/profile';
import type { NumericColumnProfile } from '../../../shared/schemas/profile';
import reference from '../../fixtures/drift/reference-values.json';
import { aBatch, aDriftPolicy, categories, normals } from '../drift/builders';

const close = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected))).toBeLessThanOrEqual(1e-6);

function profilesOf(a: number[], b: number[]) {
  const ref = buildProfile(aBatch({ x: Float64Array.from(a) }));
  const cur = buildProfile(aBatch({ x: Float64Array.from(b) }), { reference: ref });
  return { ref, cur };
}

const methodStatistic = (method: 'psi' | 'jensen_shannon' | 'hellinger' | 'l_infinity' | 'chi_squared' | 'ks' | 'wasserstein', a: number[], b: number[]) => {
  const { ref, cur } = profilesOf(a, b);
  return compareProfiles(ref, cur, aDriftPolicy({ method, minSamples: 1 })).columns[0]!.statistic!;
};

describe('drift from stored profiles', () => {
  test.each(reference.numeric.map((c) => [c.name, c] as const))(
    'when histogram methods run on two profiles (%s), then they equal numpy/scipy on the raw data',
    (_name, c) => {
      close(methodStatistic('psi', c.a, c.b), c.psi);
      close(methodStatistic('jensen_shannon', c.a, c.b), c.jensenShannon);
      close(methodStatistic('hellinger', c.a, c.b), c.hellinger);
      close(methodStatistic('l_infinity', c.a, c.b), c.lInfinity);
      close(methodStatistic('chi_squared', c.a, c.b), c.chiSquared);
    },
  );

  test.each(reference.numeric.map((c) => [c.name, c] as const))(
    'when KS and Wasserstein run on two sketches (%s), then they are within the stated bound of the exact values',
    (_name, c) => {
      const { ref } = profilesOf(c.a, c.b);
      const r = ref.columns.x as NumericColumnProfile;
      const ks = methodStatistic('ks', c.a, c.b);
      expect(Math.abs(ks - c.ks)).toBeLessThanOrEqual(2 * KLL_RANK_EPSILON);
      const range = Math.max(r.max!, Math.max(...c.b)) - Math.min(r.min!, Math.min(...c.b));
      const std = Math.max(Math.sqrt(r.m2 / r.count), 0.001);
      const wasserstein = methodStatistic('wasserstein', c.a, c.b);
      expect(Math.abs(wasserstein - c.wassersteinNormalized)).toBeLessThanOrEqual((2 * KLL_RANK_EPSILON * range) / std);
    },
  );

  test('when values are so large that m2 saturates (1e200), then the normalized Wasserstein still divides by the reference std (it is scale-free)', () => {
    const a = normals(5000, 1);
    const b = normals(5000, 2, 0, 1.7);
    const plain = methodStatistic('wasserstein', [...a], [...b]);
    const huge = methodStatistic('wasserstein', [...a].map((v) => v * 1e200), [...b].map((v) => v * 1e200));
    expect(plain).toBeGreaterThan(0.3);
    expect(Math.abs(huge / plain - 1)).toBeLessThan(0.05);
  });

  test('when large windows are compared through profiles, then the verdicts equal those on raw rows', () => {
    const n = 200_000;
    const refBatch = aBatch(
      { same: normals(n, 1), shifted: normals(n, 2), wide: normals(n, 3) },
      { c: categories(n, 4, ['a', 'b', 'c'], [5, 3, 2]), d: categories(n, 5, ['a', 'b'], [1, 1]) },
    );
    const curBatch = aBatch(
      { same: normals(n, 11), shifted: normals(n, 12, 0.3), wide: normals(n, 13, 0, 1.5) },
      { c: categories(n, 14, ['a', 'b', 'c'], [5, 3, 2]), d: categories(n, 15, ['a', 'b'], [1, 3]) },
    );
    const policy = aDriftPolicy();
    const raw = compareBatches(refBatch, curBatch, policy);
    const ref = buildProfile(refBatch);
    const fromProfiles = compareProfiles(ref, buildProfile(curBatch, { reference: ref }), policy);
    expect(fromProfiles.columns.map((c) => [c.name, c.method, c.drifted])).toEqual(
      raw.columns.map((c) => [c.name, c.method, c.drifted]),
    );
    raw.columns.forEach((c, i) => {
      const p = fromProfiles.columns[i]!;
      expect(Math.abs(p.statistic! - c.statistic!)).toBeLessThanOrEqual(c.type === 'categorical' ? 1e-12 : 0.02);
    });
    expect(fromProfiles.datasetDrift).toBe(raw.datasetDrift);
  });

  test('when a profile lacks histograms on the reference edges, then histogram methods are refused', () => {
    const ref = buildProfile(aBatch({ x: normals(500, 1) }));
    const cur = buildProfile(aBatch({ x: normals(500, 2) }), { bins: 0 });
    expect(() => compareProfiles(ref, cur, aDriftPolicy({ method: 'psi' }))).toThrow(/reference's edges/);
  });
});

import { compareBatches } from '../../../shared/domain/drift/report';
import { DomainError } from '../../../shared/domain/errors';
import { driftReportSchema } from '../../../shared/schemas/drift';
import { aBatch, aDriftPolicy, categories, normals } from './builders';

describe('drift report', () => {
  test('when a million rows come from the same distribution, then no column and not the dataset drift', () => {
    const n = 1_000_000;
    const reference = aBatch(
      { x: normals(n, 1), y: normals(n, 2, 5, 3) },
      { c: categories(n, 3, ['a', 'b', 'c'], [5, 3, 2]) },
    );
    const current = aBatch(
      { x: normals(n, 11), y: normals(n, 12, 5, 3) },
      { c: categories(n, 13, ['a', 'b', 'c'], [5, 3, 2]) },
    );
    const auto = compareBatches(reference, current, aDriftPolicy());
    expect(auto.columns.map((c) => [c.name, c.method, c.drifted])).toEqual([
      ['x', 'wasserstein', false],
      ['y', 'wasserstein', false],
      ['c', 'jensen_shannon', false],
    ]);
    expect(auto.datasetDrift).toBe(false);
    expect(auto.verdict).toBe('no_drift');

    const forcedKs = compareBatches(
      { ...reference, categorical: {} },
      { ...current, categorical: {} },
      aDriftPolicy({ method: 'ks', multipleTestingCorrection: 'none' }),
    );
    for (const column of forcedKs.columns) {
      expect(column.drifted).toBe(false);
      expect(column.effectSize!).toBeLessThan(0.05);
    }
  });

  test('when a million rows are shifted by a fifth of a standard deviation, then the shifted column drifts', () => {
    const n = 1_000_000;
    const report = compareBatches(
      aBatch({ x: normals(n, 1), y: normals(n, 2) }),
      aBatch({ x: normals(n, 3, 0.2), y: normals(n, 4) }),
      aDriftPolicy(),
    );
    expect(report.columns.map((c) => c.drifted)).toEqual([true, false]);
    expect(report.columns[0]!.statistic!).toBeCloseTo(0.2, 2);
    expect(report.shareDrifted).toBe(0.5);
    expect(report.datasetDrift).toBe(true);
  });

  test('when a window has only 8 rows, then every column and the dataset are insufficient_data', () => {
    const report = compareBatches(
      aBatch({ x: normals(500, 1) }, { c: categories(500, 2, ['a', 'b', 'c'], [1, 1, 1]) }),
      aBatch({ x: normals(8, 3, 4) }, { c: categories(8, 4, ['c'], [1]) }),
      aDriftPolicy(),
    );
    expect(report.columns.map((c) => c.verdict)).toEqual(['insufficient_data', 'insufficient_data']);
    expect(report.columns.every((c) => !c.drifted)).toBe(true);
    expect(report.verdict).toBe('insufficient_data');
    expect(report.datasetDrift).toBe(false);
    expect(report.columns[0]!.reason).toBe('8 non-null values, 30 needed');
  });

  test('when the reference is small, then KS, chi-squared and the z-test are chosen and p-values decide', () => {
    const report = compareBatches(
      aBatch({ x: normals(400, 1) }, { c: categories(400, 2, ['a', 'b', 'c'], [1, 1, 1]), flag: categories(400, 3, ['y', 'n'], [1, 1]) }),
      aBatch({ x: normals(300, 4, 1) }, { c: categories(300, 5, ['a', 'b', 'c'], [1, 1, 1]), flag: categories(300, 6, ['y', 'n'], [1, 4]) }),
      aDriftPolicy(),
    );
    expect(report.columns.map((c) => [c.name, c.method, c.drifted])).toEqual([
      ['x', 'ks', true],
      ['c', 'chi_squared', false],
      ['flag', 'z_test', true],
    ]);
    expect(report.columns[1]!.pValue!).toBeGreaterThan(0.05);
    expect(driftReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.columns[0]!.adjustedPValue!).toBeGreaterThanOrEqual(report.columns[0]!.pValue!);
  });

  test('when column overrides ignore, force a method, raise a threshold or the minimum, then they apply', () => {
    const reference = aBatch({ a: normals(2000, 1), b: normals(2000, 2), c: normals(2000, 3), d: normals(2000, 4) });
    const current = aBatch({ a: normals(2000, 5, 0.5), b: normals(2000, 6, 0.5), c: normals(2000, 7, 0.5), d: normals(40, 8) });
    const report = compareBatches(
      reference,
      current,
      aDriftPolicy({
        columns: [
          { column: 'a', ignore: true },
          { column: 'b', method: 'psi', ignore: false },
          { column: 'c', threshold: 0.9, ignore: false },
          { column: 'd', minSamples: 100, ignore: false },
        ],
      }),
    );
    expect(report.columns.map((c) => [c.name, c.method, c.threshold, c.verdict])).toEqual([
      ['b', 'psi', 0.1, 'drift'],
      ['c', 'wasserstein', 0.9, 'no_drift'],
      ['d', 'wasserstein', 0.1, 'insufficient_data'],
    ]);
    expect(report.shareDrifted).toBe(0.5);
  });

  test('when a method that does not fit the column is forced, then a validation error names the column', () => {
    expect(() =>
      compareBatches(
        aBatch({}, { c: categories(100, 1, ['a', 'b', 'c'], [1, 1, 1]) }),
        aBatch({}, { c: categories(100, 2, ['a', 'b', 'c'], [1, 1, 1]) }),
        aDriftPolicy({ method: 'wasserstein' }),
      ),
    ).toThrow(DomainError);
    expect(() =>
      compareBatches(aBatch({ x: normals(50, 1) }), aBatch({ x: normals(50, 2) }), aDriftPolicy(), ['nope']),
    ).toThrow("unknown column(s): nope");
  });

  test('when many columns are tested, then Bonferroni is stricter than no correction', () => {
    const numeric: Record<string, Float64Array> = {};
    const shifted: Record<string, Float64Array> = {};
    for (let i = 0; i < 10; i++) {
      numeric[`x${i}`] = normals(200, i);
      shifted[`x${i}`] = normals(200, 100 + i, i === 0 ? 0.25 : 0);
    }
    const none = compareBatches(aBatch(numeric), aBatch(shifted), aDriftPolicy({ multipleTestingCorrection: 'none' }));
    const bonferroni = compareBatches(aBatch(numeric), aBatch(shifted), aDriftPolicy({ multipleTestingCorrection: 'bonferroni' }));
    const p0 = none.columns[0]!.pValue!;
    expect(bonferroni.columns[0]!.adjustedPValue).toBeCloseTo(Math.min(1, p0 * 10), 12);
    expect(bonferroni.driftedColumns).toBeLessThanOrEqual(none.driftedColumns);
  });

  test('when a share moves by exactly the threshold (10 points for l_infinity, 5 for the z-test effect size), then it counts however floating point rounds the difference', () => {
    const twoValues = (a: number, n: number) => Array.from({ length: n }, (_, i) => (i < a ? 'a' : 'b'));
    // 0.3 - 0.2 is 0.10000000000000009 in binary, 0.5 - 0.4 is 0.09999999999999998: both are a 10-point move.
    for (const [from, to] of [[30, 20], [50, 40], [80, 90]]) {
      const report = compareBatches(aBatch({}, { c: twoValues(from!, 100) }), aBatch({}, { c: twoValues(to!, 100) }), aDriftPolicy({ method: 'l_infinity' }));
      expect([from, to, report.columns[0]!.drifted]).toEqual([from, to, true]);
    }
    // 2000 rows each (past smallSampleMaxRows): 45% -> 40% is significant and an effect of exactly minEffectSize (0.45 - 0.4 = 0.04999999999999999).
    const forced = compareBatches(aBatch({}, { c: twoValues(900, 2000) }), aBatch({}, { c: twoValues(800, 2000) }), aDriftPolicy({ method: 'z_test' }));
    expect(forced.columns[0]).toMatchObject({ method: 'z_test', drifted: true });
    expect(forced.columns[0]!.pValue).toBeLessThan(0.05);
  });

  test('when the samples share no value, then every bounded statistic stays within its range', () => {
    // Disjoint categories give distances of exactly 1; summing many shares must not round above it.
    const reference = Array.from({ length: 1800 }, (_, i) => `r${i}`);
    const current = Array.from({ length: 1800 }, (_, i) => `c${i}`);
    for (const method of ['jensen_shannon', 'hellinger'] as const) {
      const report = compareBatches(aBatch({}, { c: reference }), aBatch({}, { c: current }), aDriftPolicy({ method }));
      const column = report.columns[0]!;
      expect(column.statistic).toBeLessThanOrEqual(1);
      expect(column.statistic).toBeCloseTo(1, 12);
      expect(driftReportSchema.parse(report)).toEqual(report);
    }
  });

  test('when the current sample holds infinities, then they are left out of the binned methods as they are of the counts', () => {
    const reference = normals(500, 1);
    const clean = normals(500, 2);
    const withInfinities = Float64Array.from([...clean, Infinity, Infinity, -Infinity, NaN]);
    for (const method of ['psi', 'jensen_shannon', 'chi_squared'] as const) {
      const policy = aDriftPolicy({ method });
      const a = compareBatches(aBatch({ x: reference }), aBatch({ x: clean }), policy).columns[0]!;
      const b = compareBatches(aBatch({ x: reference }), aBatch({ x: withInfinities }), policy).columns[0]!;
      expect(b.currentCount).toBe(500);
      expect(b.statistic).toBe(a.statistic);
    }
  });
});

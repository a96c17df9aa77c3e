import fc from 'fast-check';

import { histogramSorted } from '../../../shared/domain/drift/binning';
import { sortedFinite } from '../../../shared/domain/drift/numeric';
import { KLL_RANK_EPSILON, kllCdf, kllItems } from '../../../shared/domain/profiles/kll';
import {
  buildProfile,
  buildSegmentProfiles,
  edgesFromSketch,
  mergeProfiles,
  profileVariance,
} from '../../../shared/domain/profiles/profile';
import type { RowBatch } from '../../../shared/domain/tabular';
import { type NumericColumnProfile, type Profile, profileSchema } from '../../../shared/schemas/profile';
import { aBatch, categories, normals } from '../drift/builders';

const EDGES = { x: [-1, 0, 0.5, 2] };
const options = { edges: EDGES, maxDistinct: 1000 };

const rowArb = fc.record({
  x: fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constant(Number.NaN)),
  c: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constant(null)),
});

function batchOf(rows: Array<{ x: number; c: string | null }>): RowBatch {
  return aBatch({ x: Float64Array.from(rows.map((r) => r.x)) }, { c: rows.map((r) => r.c) });
}

/** The parts that merge exactly, with floating-point moments rounded. */
function exactParts(p: Profile) {
  const x = p.columns.x as NumericColumnProfile;
  return {
    rowCount: p.rowCount,
    x: { count: x.count, nulls: x.nulls, min: x.min, max: x.max, histogram: x.histogram, sketchN: x.sketch.n },
    c: p.columns.c,
  };
}

function expectMomentsClose(a: Profile, b: Profile) {
  const x = a.columns.x as NumericColumnProfile;
  const y = b.columns.x as NumericColumnProfile;
  expect(Math.abs(x.mean - y.mean)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x.mean)));
  expect(Math.abs(x.m2 - y.m2)).toBeLessThanOrEqual(1e-9 * Math.max(1, x.m2));
}

describe('profiles', () => {
  test('when a batch is profiled, then counts, nulls, min, max, mean, variance and histogram are exact', () => {
    const x = Float64Array.from([3, Number.NaN, -2, 0.5, 0.5, 7, Number.NaN, 1]);
    const profile = buildProfile(aBatch({ x }, { c: ['a', null, 'b', 'a', 'a', null, 'c', 'b'] }), options);
    const col = profile.columns.x as NumericColumnProfile;
    expect([col.count, col.nulls, col.min, col.max]).toEqual([6, 2, -2, 7]);
    expect(col.mean).toBeCloseTo(10 / 6, 12);
    const values = [3, -2, 0.5, 0.5, 7, 1];
    const variance = values.reduce((s, v) => s + (v - 10 / 6) ** 2, 0) / 6;
    expect(profileVariance(col)).toBeCloseTo(variance, 12);
    expect(col.histogram).toEqual({ edges: EDGES.x, counts: [1, 0, 2, 1, 2] });
    expect(profile.columns.c).toMatchObject({
      count: 6,
      nulls: 2,
      frequencies: [['a', 3], ['b', 2], ['c', 1]],
      other: 0,
      truncated: false,
    });
  });

  test('when profiles of chunks are merged in any grouping or order, then the exact parts equal the profile of all rows', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 60 }), fc.array(rowArb, { maxLength: 60 }), fc.array(rowArb, { maxLength: 60 }), (r1, r2, r3) => {
        const [a, b, c] = [r1, r2, r3].map((rows) => buildProfile(batchOf(rows), options)) as [Profile, Profile, Profile];
        const whole = buildProfile(batchOf([...r1, ...r2, ...r3]), options);
        const left = mergeProfiles(mergeProfiles(a, b), c);
        const right = mergeProfiles(a, mergeProfiles(b, c));
        const swapped = mergeProfiles(c, mergeProfiles(b, a));
        expect(exactParts(left)).toEqual(exactParts(whole));
        expect(exactParts(right)).toEqual(exactParts(left));
        expect(exactParts(swapped)).toEqual(exactParts(left));
        expectMomentsClose(left, whole);
        expectMomentsClose(right, left);
        expectMomentsClose(swapped, left);
      }),
      { numRuns: 200 },
    );
  });

  test('when two profiles are merged both ways, then the KLL sketches are identical', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 3000 }), fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 3000 }), (u, v) => {
        const a = buildProfile(aBatch({ x: Float64Array.from(u) }), { bins: 0, kllK: 32 });
        const b = buildProfile(aBatch({ x: Float64Array.from(v) }), { bins: 0, kllK: 32 });
        expect((mergeProfiles(a, b).columns.x as NumericColumnProfile).sketch).toEqual(
          (mergeProfiles(b, a).columns.x as NumericColumnProfile).sketch,
        );
      }),
      { numRuns: 50 },
    );
  });

  test('when a sketch summarizes a million values in one batch or in merged chunks, then every rank is within the documented epsilon', () => {
    const n = 1_000_000;
    const values = normals(n, 5);
    for (let i = 0; i < n; i += 3) values[i] = Math.exp(values[i]!);
    const sorted = sortedFinite(values);
    const one = buildProfile(aBatch({ x: values }), { bins: 0 });
    let merged: Profile | undefined;
    for (let start = 0; start < n; start += 77_777) {
      const chunk = buildProfile(aBatch({ x: values.slice(start, start + 77_777) }), { bins: 0 });
      merged = merged ? mergeProfiles(merged, chunk) : chunk;
    }
    for (const profile of [one, merged!]) {
      const items = kllItems((profile.columns.x as NumericColumnProfile).sketch);
      expect(items.n).toBe(n);
      let worst = 0;
      for (let i = 0; i < n; i += 101) {
        let last = i;
        while (last + 1 < n && sorted[last + 1] === sorted[i]) last++;
        worst = Math.max(worst, Math.abs(kllCdf(items, sorted[i]!) - (last + 1) / n));
      }
      expect(worst).toBeLessThanOrEqual(KLL_RANK_EPSILON);
    }
  });

  test('when a category column has more distinct values than the bound, then the rarest fold into other and totals are kept', () => {
    const values = [...categories(5000, 3, ['a', 'b', 'c'], [5, 3, 2]), ...Array.from({ length: 50 }, (_, i) => `rare${i}`)];
    const profile = buildProfile(aBatch({}, { c: values }), { maxDistinct: 10 });
    const c = profile.columns.c!;
    if (c.kind !== 'categorical') throw new Error('expected categorical');
    expect(c.truncated).toBe(true);
    expect(c.frequencies).toHaveLength(10);
    expect(c.frequencies.slice(0, 3).map(([v]) => v)).toEqual(['a', 'b', 'c']);
    expect(c.frequencies.reduce((s, [, n]) => s + n, 0) + c.other).toBe(5050);
  });

  test('when a window is profiled against a reference, then unseen categories and out-of-range values are counted', () => {
    const reference = buildProfile(aBatch({ x: Float64Array.from([0, 1, 2, 3, 4]) }, { c: ['a', 'b', 'a', 'b', 'a'] }));
    const current = buildProfile(
      aBatch({ x: Float64Array.from([-1, 2, 5, 6, Number.NaN]) }, { c: ['a', 'new', 'new', 'other', null] }),
      { reference },
    );
    const x = current.columns.x as NumericColumnProfile;
    expect(x.outOfRange).toEqual({ below: 1, above: 2 });
    expect(x.histogram!.edges).toEqual((reference.columns.x as NumericColumnProfile).histogram!.edges);
    expect(current.columns.c).toMatchObject({ unseen: { count: 3, values: [['new', 2], ['other', 1]] } });
  });

  test('when a profile goes through JSON and the schema, then it comes back equal', () => {
    const profile = buildProfile(aBatch({ x: normals(5000, 9) }, { c: categories(5000, 4, ['a', 'b'], [1, 2]) }));
    const back = profileSchema.parse(JSON.parse(JSON.stringify(profile)));
    expect(back).toEqual(profile);
    expect(() => profileSchema.parse({ ...profile, rowCount: -1 })).toThrow();
  });

  test('when values are so large that their sum and squares overflow, then mean and m2 stay finite and the profile survives JSON and its schema', () => {
    // Three values near the double maximum: the plain sum overflows, and squared deviations near 1e154 and beyond do too.
    const high = buildProfile(aBatch({ x: Float64Array.of(1.7e308, 1.7e308, 1e308), y: Float64Array.of(1, 2, 3) }));
    const x = high.columns.x as NumericColumnProfile;
    expect(x.mean / 1e308).toBeCloseTo(4.4 / 3, 12);
    expect(x.m2).toBe(Number.MAX_VALUE); // 3.27e615 in exact arithmetic: saturated
    expect(profileSchema.parse(JSON.parse(JSON.stringify(high)))).toEqual(high);
    const y = high.columns.y as NumericColumnProfile;
    expect([y.mean, y.m2]).toEqual([2, 2]);

    // Merging means of opposite sign near the maximum: their difference overflows.
    const low = buildProfile(aBatch({ x: Float64Array.of(-1.7e308, -1.7e308, -1e308), y: Float64Array.of(1, 2, 3) }), { reference: high });
    const merged = mergeProfiles(high, low);
    expect((merged.columns.x as NumericColumnProfile).mean).toBe(0);
    expect((merged.columns.x as NumericColumnProfile).m2).toBe(Number.MAX_VALUE);
    expect(profileSchema.parse(JSON.parse(JSON.stringify(merged)))).toEqual(merged);
  });

  test('when histograms on different edges are merged, then a validation error says so', () => {
    const a = buildProfile(aBatch({ x: normals(100, 1) }));
    const b = buildProfile(aBatch({ x: normals(100, 2, 3) }));
    expect(() => mergeProfiles(a, b)).toThrow(/different edges/);
  });

  test('when the histogram is counted from sorted values, then it equals the profile histogram', () => {
    const values = normals(10_000, 2);
    const profile = buildProfile(aBatch({ x: values }), { edges: { x: [-1, 0, 1] } });
    expect((profile.columns.x as NumericColumnProfile).histogram!.counts).toEqual(
      Array.from(histogramSorted(sortedFinite(values), [-1, 0, 1])),
    );
  });
});

describe('chunked references and segments', () => {
  test('when a reference arrives in chunks, then edges from the merged sketch give histograms that merge and drift cleanly', () => {
    const chunks = [normals(30_000, 1), normals(30_000, 2), normals(30_000, 3)];
    const firstPass = chunks.map((x) => buildProfile(aBatch({ x }), { bins: 0 })).reduce(mergeProfiles);
    const edges = edgesFromSketch(firstPass.columns.x as NumericColumnProfile, 10);
    expect(edges).toHaveLength(9);
    const reference = chunks.map((x) => buildProfile(aBatch({ x }), { edges: { x: edges } })).reduce(mergeProfiles);
    const counts = (reference.columns.x as NumericColumnProfile).histogram!.counts;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(90_000);
    // Deciles from the sketch put close to a tenth of the rows in every bin.
    for (const c of counts) expect(Math.abs(c / 90_000 - 0.1)).toBeLessThanOrEqual(2 * KLL_RANK_EPSILON);
  });

  test('when a batch is profiled per segment, then each segment gets its own profile against its own reference', () => {
    const batch = aBatch({ x: Float64Array.from([1, 2, 3, 4, 5, 6]) }, { region: ['n', 's', 'n', 's', 'n', 's'], c: ['a', 'a', 'b', 'b', 'a', 'z'] });
    const references = buildSegmentProfiles(batch, ['region']);
    const current = buildSegmentProfiles(batch, ['region'], (segment) => ({ reference: references[segment]! }));
    expect(Object.keys(current)).toEqual(['region=n', 'region=s']);
    expect((current['region=n']!.columns.x as NumericColumnProfile).count).toBe(3);
    expect(current['region=s']!.columns.region).toBeUndefined();
    expect(current['region=s']!.columns.c).toMatchObject({ unseen: { count: 0 } });
  });
});

/**
 * A segment key with very many values (an id declared as a segment key, garbage in a region
 * column): segments stay bounded in metrics and profiles, and the reports say what was folded.
 */
import { computeMetricsByKeys } from '../../shared/domain/metrics';
import { capSegmentColumn, OTHER_SEGMENT_VALUE, segmentValueCounts } from '../../shared/domain/segment-cap';
import type { RowBatch } from '../../shared/domain/tabular';
import { modelInputSchema } from '../../shared/schemas/model';
import { windowProfileSchema } from '../../shared/schemas/monitoring';
import { mergeSegmented, profileAgainst, referenceProfileOf } from '../../shared/usecases/profiling';
import { aRegionalModel } from '../support/model-kit';

const definition = modelInputSchema.parse(aRegionalModel('demand'));

/** `rows` rows whose region is `regionOf(row)`, with the features and prediction the model profiles. */
function aBatch(rows: number, regionOf: (row: number) => string | null): RowBatch {
  const x1 = Float64Array.from({ length: rows }, (_, i) => Math.sin(i));
  const x2 = Float64Array.from({ length: rows }, (_, i) => Math.cos(i));
  const prediction = Float64Array.from({ length: rows }, (_, i) => i % 7);
  return { rowCount: rows, numeric: { x1, x2, prediction }, categorical: { region: Array.from({ length: rows }, (_, i) => regionOf(i)) } };
}

const regionsOf = (segments: Record<string, unknown>) => Object.keys(segments).filter((s) => s.startsWith('region=')).sort();

describe('capSegmentColumn', () => {
  it('when a column has no more values than the cap, then it is returned as it is, with no summary', () => {
    const values = ['a', 'b', null, 'a'];
    expect(capSegmentColumn(values, 2)).toEqual({ values });
    expect(capSegmentColumn(values, 2).values).toBe(values);
  });

  it('when a column has more values than the cap, then the most frequent keep their name (ties by value), the rest are __other__, missing values stay missing', () => {
    const { values, capped } = capSegmentColumn(['c', 'a', 'b', 'c', null, 'd', 'b', 'e'], 2);
    expect(values).toEqual(['c', OTHER_SEGMENT_VALUE, 'b', 'c', null, OTHER_SEGMENT_VALUE, 'b', OTHER_SEGMENT_VALUE]);
    expect(capped).toEqual({ limit: 2, distinctValues: 5, foldedValues: 3, foldedRows: 3 });
  });

  it('when the data holds the value __other__ itself, then it is the __other__ segment: it takes no named place under the cap and is not counted as folded', () => {
    const within = [OTHER_SEGMENT_VALUE, 'a', 'b', OTHER_SEGMENT_VALUE, 'a'];
    expect(capSegmentColumn(within, 2)).toEqual({ values: within });
    expect(segmentValueCounts(within)).toEqual(new Map([['a', 2], ['b', 1]]));
    const past = capSegmentColumn([OTHER_SEGMENT_VALUE, 'a', 'b', 'c', OTHER_SEGMENT_VALUE, 'a'], 2);
    expect(past).toEqual({ values: [OTHER_SEGMENT_VALUE, 'a', 'b', OTHER_SEGMENT_VALUE, OTHER_SEGMENT_VALUE, 'a'], capped: { limit: 2, distinctValues: 3, foldedValues: 1, foldedRows: 1 } });
  });

  it('when the data holds __other__ and as many other values as the cap, then metrics and profiles keep every value by name, as merging capped profiles does', () => {
    const region = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? OTHER_SEGMENT_VALUE : i % 4 === 1 ? 'north' : 'south'));
    const report = computeMetricsByKeys('regression', { actual: Float64Array.from(region, (_, i) => i), predicted: Float64Array.from(region, (_, i) => i + 1) }, ['region'], { region }, { bootstrap: { resamples: 0 }, maxSegmentValues: 2 });
    expect(report.segments.map((s) => s.segment).sort()).toEqual(['region=__other__', 'region=north', 'region=south']);
    expect(report.cappedSegments).toBeUndefined();
    const profile = profileAgainst(definition, aBatch(40, (i) => region[i]!), undefined, 2);
    expect(regionsOf(profile.segments)).toEqual(['region=__other__', 'region=north', 'region=south']);
    expect(profile.cappedSegments).toBeUndefined();
    expect(regionsOf(mergeSegmented(profile, profile, { maxValues: 2 }).segments)).toEqual(['region=__other__', 'region=north', 'region=south']);
  });

  it('when some values are preferred (the reference has them), then they keep their name before more frequent ones', () => {
    const { values, capped } = capSegmentColumn(['x', 'x', 'x', 'north', 'y', 'y'], 2, (v) => v === 'north');
    expect(values).toEqual(['x', 'x', 'x', 'north', OTHER_SEGMENT_VALUE, OTHER_SEGMENT_VALUE]);
    expect(capped).toMatchObject({ foldedValues: 1, foldedRows: 2 });
  });
});

describe('metrics per segment with a cap', () => {
  const rows = 600;
  const actual = Float64Array.from({ length: rows }, (_, i) => i % 5);
  const predicted = Float64Array.from({ length: rows }, (_, i) => (i % 5) + 0.5);
  // Two real regions with most rows, then one value per row: a customer id used as a segment key.
  const region = Array.from({ length: rows }, (_, i) => (i < 200 ? 'north' : i < 300 ? 'south' : `c${i}`));

  it('when a key has more values than maxSegmentValues, then the rarest are one segment key=__other__ and cappedSegments says how many values and rows it holds', () => {
    const report = computeMetricsByKeys('regression', { actual, predicted }, ['region'], { region }, { bootstrap: { resamples: 0 }, maxSegmentValues: 3 });
    expect(report.segments.map((s) => [s.segment, s.rows])).toEqual([
      ['region=__other__', 299],
      ['region=c300', 1],
      ['region=north', 200],
      ['region=south', 100],
    ]);
    expect(report.cappedSegments).toEqual({ region: { limit: 3, distinctValues: 302, foldedValues: 299, foldedRows: 299 } });
    expect(report.overall.rows).toBe(rows);
  });

  it('when every key is within the cap, then the report is the one computed without a cap', () => {
    const few = region.map((r) => (r.startsWith('c') ? 'east' : r));
    const options = { bootstrap: { resamples: 20 } };
    expect(computeMetricsByKeys('regression', { actual, predicted }, ['region'], { region: few }, { ...options, maxSegmentValues: 3 })).toEqual(
      computeMetricsByKeys('regression', { actual, predicted }, ['region'], { region: few }, options),
    );
  });
});

describe('profiles per segment with a cap', () => {
  const reference = referenceProfileOf(definition, aBatch(400, (i) => (i % 2 === 0 ? 'north' : 'south')), 100);

  it('when a drop has one region value per row, then the profile holds at most the cap of segments plus __other__, keeps the reference values and stays small', () => {
    const rows = 20_000;
    // Two real regions on every tenth row; every other row carries a value of its own.
    const profile = profileAgainst(definition, aBatch(rows, (i) => (i % 10 === 0 ? 'north' : i % 10 === 5 ? 'south' : `garbage-${i}`)), reference, 100);
    const segments = regionsOf(profile.segments);
    expect(segments).toHaveLength(101);
    expect(segments).toEqual(expect.arrayContaining(['region=north', 'region=south', `region=${OTHER_SEGMENT_VALUE}`]));
    expect(profile.cappedSegments).toEqual({ region: { limit: 100, distinctValuesAtLeast: 16_002, foldedRows: rows - 4000 - 98 } });
    expect(profile.segments[`region=${OTHER_SEGMENT_VALUE}`]!.rowCount).toBe(rows - 4000 - 98);
    // Uncapped, this profile is about 24 MB of JSON (20,000 segments).
    expect(JSON.stringify(profile).length).toBeLessThan(1_500_000);
    // What a window profile stores reads back with what was folded.
    const stored = windowProfileSchema.parse({ schemaVersion: 1, model: 'demand', window: { id: '20260601T0000Z', start: '2026-06-01T00:00:00.000Z', end: '2026-06-02T00:00:00.000Z' }, ...profile });
    expect(stored.cappedSegments).toEqual(profile.cappedSegments);
  });

  it('when a drop has no more values than the cap, then nothing is folded and the profile is the one built without a cap', () => {
    const batch = aBatch(300, (i) => ['north', 'south', 'east'][i % 3]!);
    expect(profileAgainst(definition, batch, reference, 3)).toEqual(profileAgainst(definition, batch, reference));
  });

  it('when chunks each within the cap are merged, then the merge folds the values past it into __other__, the reference values kept, and the folded rows add up', () => {
    const chunk = (offset: number) => profileAgainst(definition, aBatch(60, (i) => (i < 10 ? 'north' : `v${offset + (i % 5)}`)), reference, 6);
    const a = chunk(0);
    const b = chunk(100);
    expect(a.cappedSegments).toBeUndefined();
    const merged = mergeSegmented(a, b, { maxValues: 6, reference });
    const segments = regionsOf(merged.segments);
    expect(segments).toHaveLength(7);
    expect(segments).toContain('region=north');
    expect(merged.segments['region=north']!.rowCount).toBe(20);
    const named = segments.filter((s) => s !== `region=${OTHER_SEGMENT_VALUE}`).reduce((sum, s) => sum + merged.segments[s]!.rowCount, 0);
    expect(merged.segments[`region=${OTHER_SEGMENT_VALUE}`]!.rowCount).toBe(120 - named);
    expect(merged.cappedSegments).toEqual({ region: { limit: 6, distinctValuesAtLeast: 11, foldedRows: 120 - named } });
    // Merged without a cap, every value keeps its segment (the drift monitor's window merge of capped runs).
    expect(regionsOf(mergeSegmented(a, b).segments)).toHaveLength(11);
  });
});

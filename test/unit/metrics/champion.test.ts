import { compareWithChampion, computeMetricsBySegment, relativeRegression } from '../../../shared/domain/metrics';
import type { MetricReport, SegmentedMetricReport } from '../../../shared/schemas/metrics';
import { championComparisonSchema } from '../../../shared/schemas/metrics';
import type { MetricName } from '../../../shared/schemas/policies';
import { validationGatesSchema } from '../../../shared/schemas/policies';
import { aBinarySample } from './builders';

type Values = Partial<Record<MetricName, number | null>>;

function aReport(task: MetricReport['task'], values: Values, rows = 1000): MetricReport {
  const metrics: MetricReport['metrics'] = {};
  for (const [name, value] of Object.entries(values) as [MetricName, number | null][])
    metrics[name] = value === null ? { value, reason: 'only one class', rows, ci: null } : { value, rows, ci: null };
  return { task, rows, metrics };
}

function aSegmentedReport(
  task: MetricReport['task'],
  overall: Values,
  segments: { segment: string; rows: number; values: Values }[] = [],
): SegmentedMetricReport {
  return {
    overall: aReport(task, overall),
    segments: segments.map((s) => ({ segment: s.segment, rows: s.rows, report: aReport(task, s.values, s.rows) })),
  };
}

const gates = (input: Record<string, unknown> = {}) => validationGatesSchema.parse(input);

describe('compareWithChampion', () => {
  it('when a gated segment is much worse than the champion on that segment, then it fails naming the segment; a small one only reports', () => {
    const champion = aSegmentedReport('regression', { rmse: 1.0 }, [
      { segment: 'region=north', rows: 300, values: { rmse: 1.0 } },
      { segment: 'region=tiny', rows: 20, values: { rmse: 1.0 } },
    ]);
    const challenger = aSegmentedReport('regression', { rmse: 1.0 }, [
      { segment: 'region=north', rows: 300, values: { rmse: 1.15 } },
      { segment: 'region=tiny', rows: 20, values: { rmse: 3.0 } },
    ]);
    const result = compareWithChampion(challenger, champion, gates({ maxSegmentRegression: 0.1 }));
    expect(result.decision).toBe('fail');
    expect(result.reasons).toEqual([
      'segment region=north: rmse 1.15 is 15% worse than overall 1 (allowed 10%)',
      "segment region=north: rmse 1.15 is 15% worse than the champion's 1 on this segment (allowed 10%)",
    ]);
    expect(result.checks.filter((c) => c.segment === 'region=tiny').map((c) => [c.check, c.gating])).toEqual([['segment', false]]);
    const within = compareWithChampion(challenger, champion, gates({ maxSegmentRegression: 0.2 }));
    expect(within.checks.find((c) => c.check === 'segment_vs_champion')).toMatchObject({ passed: true, segment: 'region=north' });
  });

  it('when the regression lands exactly on the allowed one (counts: accuracy 0.72 vs 0.8, 10%), then it passes whatever the last bit of the subtraction', () => {
    expect(relativeRegression(0.72, 0.8, 'higher')).toBeGreaterThan(0.1); // 0.10000000000000009
    const champion = aSegmentedReport('binary', { accuracy: 0.8 }, [{ segment: 'region=north', rows: 300, values: { accuracy: 0.8 } }]);
    const challenger = aSegmentedReport('binary', { accuracy: 0.72 }, [{ segment: 'region=north', rows: 300, values: { accuracy: 0.72 } }]);
    const result = compareWithChampion(challenger, champion, gates({ metric: 'accuracy', maxRegressionVsChampion: 0.1, maxSegmentRegression: 0.1 }));
    expect(result.checks.filter((c) => c.gating).map((c) => [c.check, c.passed])).toEqual([
      ['metric_defined', true],
      ['champion', true],
      ['segment', true],
      ['segment_vs_champion', true],
    ]);
    expect(result.decision).toBe('pass');
    const beyond = compareWithChampion(aSegmentedReport('binary', { accuracy: 0.7199 }), champion, gates({ metric: 'accuracy', maxRegressionVsChampion: 0.1 }));
    expect(beyond.decision).toBe('fail');
  });

  it('when there is no champion and the threshold is met, then it passes and says there was nothing to compare', () => {
    const result = compareWithChampion(aSegmentedReport('binary', { roc_auc: 0.8 }), null, gates({ threshold: 0.75 }));
    expect(() => championComparisonSchema.parse(result)).not.toThrow();
    expect(result).toMatchObject({ decision: 'pass', metric: 'roc_auc', direction: 'higher', reasons: [] });
    expect(result.checks.find((c) => c.check === 'champion')).toMatchObject({ gating: false, message: 'no champion to compare with' });
  });

  it('when the higher-is-better metric misses the threshold, then it fails with the threshold as reason', () => {
    const result = compareWithChampion(aSegmentedReport('binary', { roc_auc: 0.7 }), null, gates({ threshold: 0.75 }));
    expect(result.decision).toBe('fail');
    expect(result.reasons).toEqual(['roc_auc 0.7 misses the threshold (at least 0.75)']);
  });

  it('when the lower-is-better metric is worse than the champion beyond the allowance, then it fails', () => {
    const champion = aSegmentedReport('regression', { rmse: 1.0 });
    const allowed = gates({ maxRegressionVsChampion: 0.05 });
    const slightly = compareWithChampion(aSegmentedReport('regression', { rmse: 1.04 }), champion, allowed);
    const clearly = compareWithChampion(aSegmentedReport('regression', { rmse: 1.2 }), champion, allowed);
    expect(slightly.decision).toBe('pass');
    expect(slightly.regressionVsChampion).toBeCloseTo(0.04, 12);
    expect(clearly.decision).toBe('fail');
    expect(clearly.reasons).toEqual(["rmse 1.2 is 20% worse than the champion's 1 (allowed 5%)"]);
  });

  it('when the default allowance is 0 and the challenger is better, then it passes with a negative regression', () => {
    const result = compareWithChampion(
      aSegmentedReport('multiclass', { f1_macro: 0.66 }),
      aSegmentedReport('multiclass', { f1_macro: 0.6 }),
      gates(),
    );
    expect(result).toMatchObject({ decision: 'pass', metric: 'f1_macro', champion: 0.6, challenger: 0.66 });
    expect(result.regressionVsChampion).toBeCloseTo(-0.1, 12);
  });

  it('when the metric is the bias, then closer to zero is better in either sign', () => {
    const champion = aSegmentedReport('regression', { mean_error: 0.5 });
    const g = gates({ metric: 'mean_error', threshold: 0.6 });
    expect(compareWithChampion(aSegmentedReport('regression', { mean_error: -0.4 }), champion, g).decision).toBe('pass');
    const worse = compareWithChampion(aSegmentedReport('regression', { mean_error: -0.7 }), champion, g);
    expect(worse.decision).toBe('fail');
    expect(worse.reasons).toHaveLength(2);
  });

  it('when a large segment is much worse than overall, then it fails; a small one is only reported', () => {
    const challenger = aSegmentedReport('binary', { roc_auc: 0.8 }, [
      { segment: 'north', rows: 500, values: { roc_auc: 0.78 } },
      { segment: 'south', rows: 400, values: { roc_auc: 0.6 } },
      { segment: 'islands', rows: 20, values: { roc_auc: 0.5 } },
      { segment: 'east', rows: 300, values: { roc_auc: null } },
    ]);
    const result = compareWithChampion(challenger, null, gates());
    expect(result.decision).toBe('fail');
    expect(result.reasons).toEqual(['segment south: roc_auc 0.6 is 25% worse than overall 0.8 (allowed 20%)']);
    const bySegment = Object.fromEntries(result.checks.filter((c) => c.segment).map((c) => [c.segment, c]));
    expect(bySegment.north).toMatchObject({ passed: true, gating: true });
    expect(bySegment.islands).toMatchObject({ gating: false, message: 'segment islands: 20 rows, fewer than 100, reported only' });
    expect(bySegment.east).toMatchObject({ gating: false });
    expect(bySegment.east!.message).toMatch(/undefined \(only one class\)/);
  });

  it('when the challenger metric is undefined, then it fails and gives the metric reason', () => {
    const result = compareWithChampion(aSegmentedReport('binary', { roc_auc: null }), null, gates());
    expect(result).toMatchObject({ decision: 'fail', challenger: null, reasons: ['roc_auc of the challenger is undefined: only one class'] });
  });

  it('when the champion metric is undefined on the data, then the comparison is reported but does not gate', () => {
    const result = compareWithChampion(
      aSegmentedReport('binary', { roc_auc: 0.8 }),
      aSegmentedReport('binary', { roc_auc: null }),
      gates(),
    );
    expect(result.decision).toBe('pass');
    expect(result.checks.find((c) => c.check === 'champion')).toMatchObject({ gating: false });
  });

  it('when fed real reports from computeMetricsBySegment, then the same model against itself passes', () => {
    const data = aBinarySample(600);
    const segments = Array.from({ length: 600 }, (_, i) => (i < 300 ? 'a' : 'b'));
    const report = computeMetricsBySegment('binary', data, segments, { bootstrap: { resamples: 0 } });
    const result = compareWithChampion(report, report, gates({ maxSegmentRegression: 0.5 }));
    expect(result).toMatchObject({ decision: 'pass', regressionVsChampion: 0 });
    expect(result.checks.filter((c) => c.check === 'segment')).toHaveLength(2);
  });
});

describe('compareWithChampion evidence', () => {
  it('when the two reports cover different numbers of rows, then it fails: they were not measured on the same data', () => {
    const challenger = aSegmentedReport('binary', { roc_auc: 0.9 });
    const champion = { ...aSegmentedReport('binary', { roc_auc: 0.8 }), overall: aReport('binary', { roc_auc: 0.8 }, 999) };
    const result = compareWithChampion(challenger, champion, gates());
    expect(result.decision).toBe('fail');
    expect(result.reasons).toEqual(['challenger and champion were measured on different data (1000 vs 999 rows)']);
  });
});

describe('relativeRegression', () => {
  it('when the reference is 0 and the value is worse, then the regression is infinite', () => {
    expect(relativeRegression(0.1, 0, 'lower')).toBe(Infinity);
    expect(relativeRegression(0, 0, 'lower')).toBe(0);
    expect(relativeRegression(0.9, 1, 'higher')).toBeCloseTo(0.1, 12);
  });
});

import { computeMetrics, metricsForTask, normalQuantile, quantileSorted, wilsonInterval } from '../../../shared/domain/metrics';
import type { MetricName } from '../../../shared/schemas/policies';
import { classificationCase, type Expected, reference, regressionCase } from './reference-data';

const TOLERANCE = 1e-6;
const noBootstrap = { bootstrap: { resamples: 0 } };

function expectMetricsToMatch(report: ReturnType<typeof computeMetrics>, expected: Expected, names: readonly MetricName[]) {
  for (const name of names) {
    const estimate = report.metrics[name]!;
    const want = expected[name] as number | null;
    if (want === null) {
      expect({ name, value: estimate.value }).toEqual({ name, value: null });
      expect(estimate.reason).toEqual(expect.any(String));
    } else {
      expect({ name, diff: Math.abs(estimate.value! - want) < TOLERANCE }).toEqual({ name, diff: true });
    }
  }
}

describe('metrics against sklearn definitions (numpy/scipy reference values)', () => {
  it('when actuals include zeros, then MAE, RMSE, R², mean error match and MAPE leaves the zero rows out', () => {
    const { data, expected } = regressionCase('regression');
    const report = computeMetrics('regression', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.regression);
    expect(report.metrics.mape!.rows).toBe(expected.mape_rows);
    expect(report.metrics.mape!.rows).toBe(195);
    expect(report.metrics.mae!.rows).toBe(200);
  });

  it('when actuals are constant and predictions perfect, then R² is 1 (sklearn force_finite)', () => {
    const { data, expected } = regressionCase('regression_constant_perfect');
    const report = computeMetrics('regression', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.regression);
    expect(report.metrics.r2!.value).toBe(1);
  });

  it('when actuals are constant and predictions are not, then R² is 0 (sklearn force_finite)', () => {
    const { data, expected } = regressionCase('regression_constant_imperfect');
    const report = computeMetrics('regression', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.regression);
    expect(report.metrics.r2!.value).toBe(0);
  });

  it('when binary scores have many ties and certain probabilities, then every metric matches', () => {
    const { data, expected } = classificationCase('binary');
    const report = computeMetrics('binary', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.binary);
    expect(report.confusionMatrix).toEqual(expected.confusion_matrix);
  });

  it('when a binary sample has one class only, then ROC-AUC is null with a reason and the rest is defined', () => {
    const { data, expected } = classificationCase('binary_one_class');
    const report = computeMetrics('binary', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.binary);
    expect(report.metrics.roc_auc!.reason).toMatch(/both classes/);
  });

  it('when a multiclass class is never predicted, then per-class and averaged scores match with zero_division=0', () => {
    const { data, expected } = classificationCase('multiclass');
    const report = computeMetrics('multiclass', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.multiclass);
    expect(report.confusionMatrix).toEqual(expected.confusion_matrix);
    const perClass = report.perClass!;
    const want = expected.per_class!;
    for (const [c, row] of perClass.entries()) {
      expect(row.precision).toBeCloseTo(want.precision[c]!, 9);
      expect(row.recall).toBeCloseTo(want.recall[c]!, 9);
      expect(row.f1).toBeCloseTo(want.f1[c]!, 9);
      expect(row.support).toBe(want.support[c]);
      expect(row.predicted).toBe(want.predicted[c]);
    }
    expect(perClass[3]!.predicted).toBe(0);
  });

  it('when a class neither occurs nor is predicted, then macro averages skip it and one-vs-rest AUC is null', () => {
    const { data, expected } = classificationCase('multiclass_absent_class');
    const report = computeMetrics('multiclass', data, noBootstrap);
    expectMetricsToMatch(report, expected, metricsForTask.multiclass);
    expect(report.metrics.roc_auc!.reason).toMatch(/class 2/);
  });

  it('when no metric is undefined, then no value is NaN anywhere in a report', () => {
    for (const [task, name] of [
      ['binary', 'binary'],
      ['multiclass', 'multiclass'],
    ] as const) {
      const report = computeMetrics(task, classificationCase(name).data, { bootstrap: { resamples: 50 } });
      expect(JSON.stringify(report)).not.toMatch(/NaN|null/);
    }
  });
});

describe('interval helpers against scipy', () => {
  it.each(reference.normalQuantile)('when p is $p, then the normal quantile matches scipy norm.ppf', ({ p, z }) => {
    expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-9 * Math.max(1, Math.abs(z)));
  });

  it.each(reference.wilson)('when $successes of $n at level $level, then the Wilson interval matches', (w) => {
    const ci = wilsonInterval(w.successes, w.n, w.level);
    expect(Math.abs(ci.lower - w.lower)).toBeLessThan(TOLERANCE);
    expect(Math.abs(ci.upper - w.upper)).toBeLessThan(TOLERANCE);
  });

  it('when taking percentiles of sorted values, then they match numpy.percentile (linear)', () => {
    const sorted = Float64Array.from(reference.percentiles.values).sort();
    reference.percentiles.q.forEach((q, i) => {
      expect(Math.abs(quantileSorted(sorted, q) - reference.percentiles.expected[i]!)).toBeLessThan(1e-12);
    });
  });
});

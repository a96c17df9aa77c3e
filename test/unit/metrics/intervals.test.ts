import { computeMetrics, metricsForTask, wilsonInterval } from '../../../shared/domain/metrics';
import type { MetricReport } from '../../../shared/schemas/metrics';
import { metricReportSchema } from '../../../shared/schemas/metrics';
import { aBinarySample, aMulticlassSample, aRegressionSample } from './builders';

const width = (report: MetricReport, name: keyof MetricReport['metrics']) => {
  const ci = report.metrics[name]!.ci!;
  return ci.upper - ci.lower;
};

describe('confidence intervals', () => {
  it('when the seed is the same, then bootstrap intervals are identical; another seed gives other intervals', () => {
    const data = aBinarySample(300);
    const a = computeMetrics('binary', data, { bootstrap: { resamples: 200, seed: 7 } });
    const b = computeMetrics('binary', data, { bootstrap: { resamples: 200, seed: 7 } });
    const c = computeMetrics('binary', data, { bootstrap: { resamples: 200, seed: 8 } });
    expect(b).toEqual(a);
    expect(c.metrics.roc_auc!.ci).not.toEqual(a.metrics.roc_auc!.ci);
  });

  it.each([
    ['regression', aRegressionSample(400)],
    ['binary', aBinarySample(400)],
    ['multiclass', aMulticlassSample(400, 3, (i) => i % 3)],
  ] as const)('when computing %s metrics, then every interval contains its point estimate', (task, data) => {
    const report = computeMetrics(task, data, { bootstrap: { resamples: 300 } });
    expect(() => metricReportSchema.parse(report)).not.toThrow();
    for (const name of metricsForTask[task]) {
      const m = report.metrics[name]!;
      expect({ name, lowerOk: m.ci!.lower <= m.value!, upperOk: m.value! <= m.ci!.upper }).toEqual({
        name,
        lowerOk: true,
        upperOk: true,
      });
    }
  });

  it('when the sample is 25 times larger, then intervals are at least twice narrower', () => {
    const small = computeMetrics('binary', aBinarySample(200), { bootstrap: { resamples: 300 } });
    const large = computeMetrics('binary', aBinarySample(5000), { bootstrap: { resamples: 300 } });
    for (const name of ['accuracy', 'roc_auc', 'pr_auc', 'log_loss', 'brier', 'f1'] as const)
      expect({ name, narrower: width(large, name) < width(small, name) / 2 }).toEqual({ name, narrower: true });
    const smallR = computeMetrics('regression', aRegressionSample(200), { bootstrap: { resamples: 300 } });
    const largeR = computeMetrics('regression', aRegressionSample(5000), { bootstrap: { resamples: 300 } });
    for (const name of metricsForTask.regression)
      expect({ name, narrower: width(largeR, name) < width(smallR, name) / 2 }).toEqual({ name, narrower: true });
  });

  it('when the level is higher, then intervals are wider', () => {
    const data = aRegressionSample(300);
    const at90 = computeMetrics('regression', data, { bootstrap: { resamples: 300, level: 0.9 } });
    const at99 = computeMetrics('regression', data, { bootstrap: { resamples: 300, level: 0.99 } });
    expect(width(at99, 'rmse')).toBeGreaterThan(width(at90, 'rmse'));
    expect(at99.metrics.rmse!.ci!.level).toBe(0.99);
  });

  it('when accuracy is reported, then its interval is the analytic Wilson interval, even without bootstrap', () => {
    const report = computeMetrics('binary', aBinarySample(100), { bootstrap: { resamples: 0 } });
    expect(report.metrics.accuracy!.ci!.method).toBe('wilson');
    expect(report.metrics.roc_auc!.ci).toBeNull();
    expect(report.metrics.roc_auc!.ciReason).toBe('bootstrap disabled');
  });

  it('when every prediction is right or every one wrong, then the Wilson bound at that end is exactly 1 or 0', () => {
    expect(wilsonInterval(25, 25, 0.95).upper).toBe(1);
    expect(wilsonInterval(0, 25, 0.95).lower).toBe(0);
    expect(wilsonInterval(25, 25, 0.95).lower).toBeLessThan(1);
  });

  it('when the metric is defined on most resamples, then the interval says on how many', () => {
    const report = computeMetrics('binary', aBinarySample(300), { bootstrap: { resamples: 250 } });
    expect(report.metrics.roc_auc!.ci).toMatchObject({ method: 'bootstrap_percentile', resamples: 250, level: 0.95 });
  });

  it('when the metric is undefined on most resamples, then the interval is null with the count as reason', () => {
    // 30 rows, classes 1 and 2 once each: most resamples miss one of them, so one-vs-rest AUC is undefined.
    const data = aMulticlassSample(30, 3, (i) => (i === 0 ? 1 : i === 1 ? 2 : 0));
    const report = computeMetrics('multiclass', data, { bootstrap: { resamples: 400 } });
    expect(report.metrics.roc_auc!.value).not.toBeNull();
    expect(report.metrics.roc_auc!.ci).toBeNull();
    expect(report.metrics.roc_auc!.ciReason).toMatch(/^metric undefined in \d+ of 400 bootstrap resamples$/);
    expect(report.metrics.log_loss!.ci).not.toBeNull();
  });
});

import { DomainError } from '../../../shared/domain/errors';
import { computeMetrics, computeMetricsBySegment, MISSING_SEGMENT } from '../../../shared/domain/metrics';
import { segmentedMetricReportSchema } from '../../../shared/schemas/metrics';
import { aBinarySample, aRegressionSample } from './builders';

const noBootstrap = { bootstrap: { resamples: 0 } };

describe('metrics per segment', () => {
  it('when rows carry segment values, then each segment reports the metrics of exactly its rows', () => {
    const data = aRegressionSample(90);
    const segmentOf = Array.from({ length: 90 }, (_, i) => (i % 3 === 0 ? 'north' : i % 3 === 1 ? 'east' : null));
    const result = computeMetricsBySegment('regression', data, segmentOf, noBootstrap);
    expect(() => segmentedMetricReportSchema.parse(result)).not.toThrow();
    expect(result.segments.map((s) => [s.segment, s.rows])).toEqual([
      [MISSING_SEGMENT, 30],
      ['east', 30],
      ['north', 30],
    ]);
    const northRows = Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 3 === 0);
    const north = computeMetrics(
      'regression',
      {
        actual: Float64Array.from(northRows, (i) => data.actual[i]!),
        predicted: Float64Array.from(northRows, (i) => data.predicted[i]!),
      },
      noBootstrap,
    );
    expect(result.segments[2]!.report).toEqual(north);
    expect(result.overall).toEqual(computeMetrics('regression', data, noBootstrap));
  });

  it('when a segment holds one class only, then its ROC-AUC is null with a reason while the overall one is defined', () => {
    const data = aBinarySample(200);
    const segmentOf = Array.from(data.actual, (a, i) => (a === 1 && i % 2 === 0 ? 'positives' : 'mixed'));
    const result = computeMetricsBySegment('binary', data, segmentOf, { bootstrap: { resamples: 100 } });
    const positives = result.segments.find((s) => s.segment === 'positives')!;
    expect(positives.report.metrics.roc_auc).toMatchObject({ value: null, ci: null });
    expect(positives.report.metrics.roc_auc!.reason).toMatch(/both classes/);
    expect(result.overall.metrics.roc_auc!.value).toEqual(expect.any(Number));
    expect(result.segments.reduce((sum, s) => sum + s.rows, 0)).toBe(200);
  });

  it('when segment values and rows differ in number, then a validation error says so', () => {
    expect(() => computeMetricsBySegment('regression', aRegressionSample(10), ['a'], noBootstrap)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR' }),
    );
  });
});

describe('metric input validation', () => {
  const expectValidationError = (f: () => unknown, message: RegExp) => {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_ERROR');
    expect((error as DomainError).message).toMatch(message);
  };

  it('when a regression value is NaN, then the row is named in a validation error', () => {
    const data = aRegressionSample(5);
    data.actual[3] = NaN;
    expectValidationError(() => computeMetrics('regression', data), /finite/);
  });

  it('when the task and data do not fit together, then a validation error says what the task needs', () => {
    expectValidationError(() => computeMetrics('binary', aRegressionSample(5)), /class indices and probabilities/);
    expectValidationError(() => computeMetrics('regression', aBinarySample(5)), /actual and predicted/);
    expectValidationError(() => computeMetrics('multiclass', aBinarySample(5)), /at least 3 classes/);
  });

  it('when a class index or probability is out of range, then a validation error names it', () => {
    const data = aBinarySample(5);
    data.actual[2] = 2;
    expectValidationError(() => computeMetrics('binary', data), /actual class index out of range/);
    const other = aBinarySample(5);
    other.probabilities[3] = 1.5;
    expectValidationError(() => computeMetrics('binary', other), /\[0, 1\]/);
    expectValidationError(
      () => computeMetrics('binary', { ...aBinarySample(5), probabilities: new Float64Array(9) }),
      /classCount values per row/,
    );
  });

  it('when there are no rows, then every metric is null with the reason "no rows"', () => {
    const report = computeMetrics('regression', { actual: new Float64Array(0), predicted: new Float64Array(0) });
    expect(report.rows).toBe(0);
    for (const m of Object.values(report.metrics)) expect(m).toMatchObject({ value: null, reason: 'no rows', ci: null });
  });
});

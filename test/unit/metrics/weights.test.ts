import fc from 'fast-check';

import { computeMetrics, metricsForTask } from '../../../shared/domain/metrics';
import { classificationEvaluator } from '../../../shared/domain/metrics/classification';
import { regressionEvaluator } from '../../../shared/domain/metrics/regression';

/**
 * The bootstrap evaluates resamples as integer row weights instead of copies. That is only valid
 * if weights equal repetition: evaluating with weight w_i must equal evaluating the data with
 * row i repeated w_i times.
 */
const close = (a: number | null | undefined, b: number | null | undefined) =>
  (a == null && b == null) || (a != null && b != null && Math.abs(a - b) < 1e-9);

function repeatRows<T extends Int32Array | Float64Array>(values: T, weights: number[], width = 1): T {
  const out: number[] = [];
  weights.forEach((w, i) => {
    for (let r = 0; r < w; r++) for (let j = 0; j < width; j++) out.push(values[i * width + j]!);
  });
  return (values instanceof Int32Array ? Int32Array.from(out) : Float64Array.from(out)) as T;
}

describe('weighted evaluation equals repeated rows', () => {
  it('when classifier rows get integer weights, then every metric equals the metric of the repeated rows', () => {
    const row = fc.record({
      actual: fc.integer({ min: 0, max: 2 }),
      // Scores on a coarse grid so ties are frequent.
      scores: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }),
      weight: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
        const actual = Int32Array.from(rows, (r) => r.actual);
        const probabilities = Float64Array.from(
          rows.flatMap((r) => {
            const sum = r.scores.reduce((a, b) => a + b, 0);
            return r.scores.map((s) => s / sum);
          }),
        );
        const weights = rows.map((r) => r.weight);
        const weighted = classificationEvaluator({ actual, probabilities, classCount: 3 }).evaluate(Float64Array.from(weights));
        const repeated = computeMetrics(
          'multiclass',
          { actual: repeatRows(actual, weights), probabilities: repeatRows(probabilities, weights, 3), classCount: 3 },
          { bootstrap: { resamples: 0 } },
        );
        for (const name of metricsForTask.multiclass)
          if (!close(weighted[name]?.value, repeated.metrics[name]?.value)) return false;
        return true;
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('when binary rows get integer weights, then ROC-AUC and PR-AUC equal those of the repeated rows', () => {
    const row = fc.record({ actual: fc.integer({ min: 0, max: 1 }), score: fc.integer({ min: 0, max: 6 }), weight: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
        const actual = Int32Array.from(rows, (r) => r.actual);
        const probabilities = Float64Array.from(rows.flatMap((r) => [1 - r.score / 6, r.score / 6]));
        const weights = rows.map((r) => r.weight);
        const weighted = classificationEvaluator({ actual, probabilities, classCount: 2 }).evaluate(Float64Array.from(weights));
        const repeated = computeMetrics(
          'binary',
          { actual: repeatRows(actual, weights), probabilities: repeatRows(probabilities, weights, 2), classCount: 2 },
          { bootstrap: { resamples: 0 } },
        );
        return metricsForTask.binary.every((name) => close(weighted[name]?.value, repeated.metrics[name]?.value));
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('when regression rows get integer weights, then every metric equals the metric of the repeated rows', () => {
    const row = fc.record({
      actual: fc.integer({ min: -3, max: 3 }),
      predicted: fc.integer({ min: -3, max: 3 }),
      weight: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
        const actual = Float64Array.from(rows, (r) => r.actual);
        const predicted = Float64Array.from(rows, (r) => r.predicted);
        const weights = rows.map((r) => r.weight);
        const weighted = regressionEvaluator({ actual, predicted }).evaluate(Float64Array.from(weights));
        const repeated = computeMetrics(
          'regression',
          { actual: repeatRows(actual, weights), predicted: repeatRows(predicted, weights) },
          { bootstrap: { resamples: 0 } },
        );
        return metricsForTask.regression.every((name) => close(weighted[name]?.value, repeated.metrics[name]?.value));
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});

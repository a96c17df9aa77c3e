import {
  type BootstrapOptions,
  bootstrapOptionsSchema,
  type MetricEstimate,
  type MetricReport,
  type SegmentedMetricReport,
} from '../../schemas/metrics';
import type { ModelTask } from '../../schemas/model';
import type { MetricName } from '../../schemas/policies';
import { errors } from '../errors';
import { seededRandom } from '../random';
import { capSegmentColumn, type SegmentCapSummary } from '../segment-cap';
import {
  argmaxClasses,
  type ClassificationData,
  classificationEvaluator,
  confusion,
  perClassScores,
} from './classification';
import { drawResample, quantileSorted, wilsonInterval } from './intervals';
import { metricsForTask } from './names';
import type { MetricEvaluator, MetricOutcome } from './outcome';
import { type RegressionData, regressionEvaluator } from './regression';
import { groupRowsBySegment, subsetClassification, subsetRegression } from './segments';

export type MetricsData = RegressionData | ClassificationData;

export interface MetricsOptions {
  /** Percentile bootstrap settings; defaults: 1000 resamples, seed 42, 95 % level. */
  readonly bootstrap?: Partial<BootstrapOptions>;
  /** `computeMetricsByKeys`: values a segment key keeps by name; the rest are `key=__other__`. Unbounded when absent. */
  readonly maxSegmentValues?: number;
}

const isClassification = (data: MetricsData): data is ClassificationData => 'probabilities' in data;

function evaluatorFor(task: ModelTask, data: MetricsData): MetricEvaluator {
  if (task === 'regression') {
    if (isClassification(data)) throw errors.validation('a regression task needs actual and predicted values');
    return regressionEvaluator(data);
  }
  if (!isClassification(data)) throw errors.validation(`a ${task} task needs class indices and probabilities`);
  if (task === 'binary' && data.classCount !== 2)
    throw errors.validation('a binary task has exactly 2 classes', { classCount: data.classCount });
  if (task === 'multiclass' && data.classCount < 3)
    throw errors.validation('a multiclass task has at least 3 classes', { classCount: data.classCount });
  return classificationEvaluator(data);
}

/**
 * Every metric of the task (see `metricsForTask`), each with a confidence interval: Wilson for
 * accuracy, a seeded percentile bootstrap for the rest. Undefined metrics are null with a reason.
 */
export function computeMetrics(task: ModelTask, data: MetricsData, options: MetricsOptions = {}): MetricReport {
  const bootstrap = bootstrapOptionsSchema.parse(options.bootstrap ?? {});
  const evaluator = evaluatorFor(task, data);
  const n = evaluator.rows;
  const point = evaluator.evaluate(new Float64Array(n).fill(1));
  const names = metricsForTask[task];
  const samples = bootstrapSamples(evaluator, names, bootstrap);

  const metrics: Partial<Record<MetricName, MetricEstimate>> = {};
  for (const name of names) {
    const outcome = point[name] ?? { value: null, reason: 'not computed', rows: 0 };
    metrics[name] = estimate(name, outcome, samples.get(name), bootstrap);
  }
  const report: MetricReport = { task, rows: n, metrics };
  if (isClassification(data)) {
    const predicted = data.predicted ?? argmaxClasses(data.probabilities, data.classCount);
    const summary = confusion(data.actual, predicted, data.classCount, new Float64Array(n).fill(1));
    const scores = perClassScores(summary);
    const k = data.classCount;
    report.confusionMatrix = Array.from({ length: k }, (_, a) =>
      Array.from(summary.matrix.subarray(a * k, (a + 1) * k)),
    );
    report.perClass = Array.from({ length: k }, (_, c) => ({
      classIndex: c,
      support: summary.support[c]!,
      predicted: summary.predictedCount[c]!,
      precision: scores.precision[c]!,
      recall: scores.recall[c]!,
      f1: scores.f1[c]!,
    }));
  }
  return report;
}

/**
 * `computeMetrics` for all rows and for each segment value (rows with a missing value form the
 * segment `(missing)`), segments in ascending order of their value. Every segment's bootstrap
 * uses the same seed, so a report is reproducible as a whole.
 */
export function computeMetricsBySegment(
  task: ModelTask,
  data: MetricsData,
  segmentOf: ReadonlyArray<string | null>,
  options: MetricsOptions = {},
): SegmentedMetricReport {
  const rows = data.actual.length;
  if (segmentOf.length !== rows)
    throw errors.validation('segment values and data have different lengths', { rows, segments: segmentOf.length });
  const overall = computeMetrics(task, data, options);
  const segments = [...groupRowsBySegment(segmentOf)].map(([segment, indices]) => {
    const subset = isClassification(data) ? subsetClassification(data, indices) : subsetRegression(data, indices);
    return { segment, rows: indices.length, report: computeMetrics(task, subset, options) };
  });
  return { overall, segments };
}

/**
 * `computeMetrics` for all rows and for each value of each segment key, one key at a time,
 * segments named `key=value` (missing values `key=(missing)`) in key order, then value order: the
 * shape of validation evidence and of realised performance. With `maxSegmentValues`, a key with
 * more values keeps the most frequent and reports the rest as `key=__other__` (`cappedSegments`).
 */
export function computeMetricsByKeys(
  task: ModelTask,
  data: MetricsData,
  keys: readonly string[],
  columns: Readonly<Record<string, ReadonlyArray<string | null>>>,
  options: MetricsOptions = {},
): SegmentedMetricReport {
  const segments: SegmentedMetricReport['segments'] = [];
  const cappedSegments: Record<string, SegmentCapSummary> = {};
  for (const key of keys) {
    let values = columns[key] ?? [];
    if (options.maxSegmentValues !== undefined) {
      const capped = capSegmentColumn(values, options.maxSegmentValues);
      values = capped.values;
      if (capped.capped) cappedSegments[key] = capped.capped;
    }
    for (const [value, rows] of groupRowsBySegment(values)) {
      const subset = isClassification(data) ? subsetClassification(data, rows) : subsetRegression(data, rows);
      segments.push({ segment: `${key}=${value}`, rows: rows.length, report: computeMetrics(task, subset, options) });
    }
  }
  return { overall: computeMetrics(task, data, options), segments, ...(Object.keys(cappedSegments).length > 0 ? { cappedSegments } : {}) };
}

interface Samples {
  readonly values: Float64Array;
  count: number;
}

function bootstrapSamples(
  evaluator: MetricEvaluator,
  names: readonly MetricName[],
  options: BootstrapOptions,
): Map<MetricName, Samples> {
  const samples = new Map<MetricName, Samples>();
  if (options.resamples === 0 || evaluator.rows === 0) return samples;
  for (const name of names) samples.set(name, { values: new Float64Array(options.resamples), count: 0 });
  const random = seededRandom(options.seed);
  const weights = new Float64Array(evaluator.rows);
  for (let b = 0; b < options.resamples; b++) {
    drawResample(weights, random);
    const outcome = evaluator.evaluate(weights);
    for (const [name, s] of samples) {
      const value = outcome[name]?.value;
      if (value != null) s.values[s.count++] = value;
    }
  }
  return samples;
}

function estimate(
  name: MetricName,
  outcome: MetricOutcome,
  samples: Samples | undefined,
  options: BootstrapOptions,
): MetricEstimate {
  const base = { value: outcome.value, rows: outcome.rows, ...(outcome.reason ? { reason: outcome.reason } : {}) };
  if (outcome.value === null) return { ...base, ci: null };
  if (name === 'accuracy') {
    const { lower, upper } = wilsonInterval(Math.round(outcome.value * outcome.rows), outcome.rows, options.level);
    return { ...base, ci: { lower, upper, level: options.level, method: 'wilson' } };
  }
  if (!samples) return { ...base, ci: null, ciReason: 'bootstrap disabled' };
  // An interval built from a minority of resamples would describe a different population.
  if (samples.count < options.resamples / 2)
    return {
      ...base,
      ci: null,
      ciReason: `metric undefined in ${options.resamples - samples.count} of ${options.resamples} bootstrap resamples`,
    };
  const sorted = samples.values.slice(0, samples.count).sort();
  const alpha = 1 - options.level;
  return {
    ...base,
    ci: {
      lower: quantileSorted(sorted, alpha / 2),
      upper: quantileSorted(sorted, 1 - alpha / 2),
      level: options.level,
      method: 'bootstrap_percentile',
      resamples: samples.count,
    },
  };
}

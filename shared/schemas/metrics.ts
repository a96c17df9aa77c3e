import { z } from 'zod';

import { modelTaskSchema } from './model';
import { metricNameSchema } from './policies';

/**
 * Metric results as they are stored (validation results, realised performance per window and
 * segment) and compared (champion gates). Definitions and edge cases: docs/metrics.md.
 */

/** Which way a metric improves; `zero` means closer to zero is better (mean error, the bias). */
export const metricDirectionSchema = z.enum(['higher', 'lower', 'zero']);
export type MetricDirection = z.infer<typeof metricDirectionSchema>;

export const confidenceIntervalSchema = z.object({
  lower: z.number(),
  upper: z.number(),
  level: z.number().gt(0).lt(1),
  method: z.enum(['bootstrap_percentile', 'wilson']),
  /** Bootstrap only: resamples on which the metric was defined (the interval's basis). */
  resamples: z.number().int().nonnegative().optional(),
});
export type ConfidenceInterval = z.infer<typeof confidenceIntervalSchema>;

export const metricEstimateSchema = z.object({
  /** null when the metric is undefined on this data; `reason` says why. Never NaN. */
  value: z.number().nullable(),
  reason: z.string().optional(),
  /** Rows that entered the metric (MAPE leaves out rows whose actual is 0). */
  rows: z.number().int().nonnegative(),
  ci: confidenceIntervalSchema.nullable(),
  /** Why `ci` is null when `value` is not. */
  ciReason: z.string().optional(),
});
export type MetricEstimate = z.infer<typeof metricEstimateSchema>;

/** Per-class figures of a classifier (sklearn's `average=None`). */
export const classMetricsSchema = z.object({
  classIndex: z.number().int().nonnegative(),
  /** Rows whose actual is this class. */
  support: z.number().int().nonnegative(),
  /** Rows predicted as this class. */
  predicted: z.number().int().nonnegative(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
});
export type ClassMetrics = z.infer<typeof classMetricsSchema>;

export const metricReportSchema = z.object({
  task: modelTaskSchema,
  rows: z.number().int().nonnegative(),
  metrics: z.partialRecord(metricNameSchema, metricEstimateSchema),
  /** Classifiers: per-class precision, recall, F1 and support. */
  perClass: z.array(classMetricsSchema).optional(),
  /** Classifiers: counts, row = actual class index, column = predicted class index. */
  confusionMatrix: z.array(z.array(z.number().int().nonnegative())).optional(),
});
export type MetricReport = z.infer<typeof metricReportSchema>;

export const segmentMetricReportSchema = z.object({
  /** The segment value; rows with a missing value form the segment `(missing)`. */
  segment: z.string(),
  rows: z.number().int().nonnegative(),
  report: metricReportSchema,
});
export type SegmentMetricReport = z.infer<typeof segmentMetricReportSchema>;

/** A segment key with more values than the cap (SEGMENT_MAX_VALUES): the rest are one segment, `key=__other__`. */
export const segmentCapSummarySchema = z.object({
  /** Values kept by name at most. */
  limit: z.number().int().positive(),
  /** Distinct values seen (missing values are not a value). */
  distinctValues: z.number().int().nonnegative(),
  /** Values counted in `key=__other__`, and their rows. */
  foldedValues: z.number().int().nonnegative(),
  foldedRows: z.number().int().nonnegative(),
});
export type SegmentCapSummaryDoc = z.infer<typeof segmentCapSummarySchema>;

export const segmentedMetricReportSchema = z.object({
  overall: metricReportSchema,
  segments: z.array(segmentMetricReportSchema),
  /** Segment keys whose values were capped, by key; absent when every value has its segment. */
  cappedSegments: z.record(z.string(), segmentCapSummarySchema).optional(),
});
export type SegmentedMetricReport = z.infer<typeof segmentedMetricReportSchema>;

export const bootstrapOptionsSchema = z.object({
  /** 0 turns the bootstrap off (analytic intervals are still given where they exist). */
  resamples: z.number().int().min(0).max(100_000).default(1000),
  seed: z.number().int().default(42),
  level: z.number().gt(0).lt(1).default(0.95),
});
export type BootstrapOptions = z.infer<typeof bootstrapOptionsSchema>;

/** One check of `compareWithChampion`; non-gating checks are reported but do not decide. */
export const gateCheckSchema = z.object({
  check: z.enum(['metric_defined', 'threshold', 'champion', 'segment', 'segment_vs_champion']),
  passed: z.boolean(),
  gating: z.boolean(),
  segment: z.string().optional(),
  value: z.number().nullable(),
  /** The bound the value was held against, when there is one. */
  limit: z.number().nullable(),
  message: z.string(),
});
export type GateCheck = z.infer<typeof gateCheckSchema>;

export const championComparisonSchema = z.object({
  decision: z.enum(['pass', 'fail']),
  metric: metricNameSchema,
  direction: metricDirectionSchema,
  challenger: z.number().nullable(),
  champion: z.number().nullable(),
  /** Relative degradation of the challenger against the champion (positive = worse). */
  regressionVsChampion: z.number().nullable(),
  checks: z.array(gateCheckSchema),
  /** The failed gating checks' messages, for people and the audit ledger. */
  reasons: z.array(z.string()),
});
export type ChampionComparison = z.infer<typeof championComparisonSchema>;

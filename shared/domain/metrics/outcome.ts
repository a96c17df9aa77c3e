import type { MetricName } from '../../schemas/policies';

/** A metric's value on one (possibly resampled) dataset; null with a reason when undefined. */
export interface MetricOutcome {
  readonly value: number | null;
  readonly reason?: string;
  /** Weighted row count that entered the metric. */
  readonly rows: number;
}

export type MetricOutcomes = Partial<Record<MetricName, MetricOutcome>>;

/**
 * Computes every metric of a task for row weights. Point estimates use weight 1 per row; the
 * bootstrap uses resample counts, which equals evaluating the resampled rows without copying them.
 */
export interface MetricEvaluator {
  readonly rows: number;
  evaluate(weights: Float64Array): MetricOutcomes;
}

/**
 * A computed metric. A value that is not finite (sums of squares overflow double precision with
 * actuals near 1e308) is undefined with the reason: reports, evidence and window documents hold
 * finite numbers only.
 */
export const defined = (value: number, rows: number): MetricOutcome =>
  Number.isFinite(value)
    ? { value, rows }
    : undefinedMetric(
        `the value is ${value}, not a finite number: the rows' values overflow double precision`,
        rows,
      );
export const undefinedMetric = (reason: string, rows: number): MetricOutcome => ({
  value: null,
  reason,
  rows,
});

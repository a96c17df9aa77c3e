/**
 * Pure evaluation of a model's performance policy: the window's metric against the validation
 * baseline, with a relative tolerance. Windows whose share of predictions with actuals is below
 * `minLabelCoverage` are `insufficient_data`, with the provisional result attached.
 */
import type { MetricName, PerformancePolicy } from '../../schemas/policies';
import { relativeRegression } from '../metrics/champion';
import { metricDirection } from '../metrics/names';
import type { PolicyVerdict } from './drift-policy';

export interface PerformanceInput {
  metric: MetricName;
  /** The window's metric; null when no labelled rows exist. */
  value: number | null;
  baseline: number;
  /** Share of the window's predictions that have actuals, in [0, 1]. */
  labelCoverage: number;
}

export interface PerformanceOutcome {
  verdict: Exclude<PolicyVerdict, 'insufficient_data'>;
  /** Relative degradation against the baseline (positive = worse). */
  degradation: number;
}

export interface PerformanceEvaluation {
  verdict: PolicyVerdict;
  degradation: number | null;
  /** Set when label coverage is too low: what the verdict would be on the labels so far. */
  provisional: PerformanceOutcome | null;
  reason: string;
}

/**
 * Relative degradation against the baseline (positive = worse), the same measure the champion
 * comparison uses; `mean_error` compares magnitudes. A zero baseline makes any worsening unbounded.
 */
export function degradation(metric: MetricName, value: number, baseline: number): number {
  return relativeRegression(value, baseline, metricDirection[metric]);
}

/**
 * Floating-point slack when the degradation is compared with the tolerance: metrics that are ratios
 * of counts land exactly on it ((0.8 - 0.72) / 0.8 is 0.10000000000000009 in binary), and "above the
 * tolerance" must not turn on the last bit of a subtraction.
 */
const ROUNDING = 1e-9;
const above = (d: number, limit: number): boolean => d - limit > ROUNDING;

const percent = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'unbounded');

export function evaluatePerformancePolicy(policy: PerformancePolicy, input: PerformanceInput): PerformanceEvaluation {
  if (input.value === null || input.labelCoverage <= 0) {
    return { verdict: 'insufficient_data', degradation: null, provisional: null, reason: 'no labelled predictions yet' };
  }
  const d = degradation(input.metric, input.value, input.baseline);
  const outcome: PerformanceOutcome = {
    verdict: above(d, policy.tolerance) ? 'breach' : above(d, policy.tolerance / 2) ? 'warning' : 'ok',
    degradation: d,
  };
  const what = `${input.metric} ${input.value.toFixed(4)} vs baseline ${input.baseline.toFixed(4)} (${percent(d)} worse, tolerance ${percent(policy.tolerance)})`;
  if (input.labelCoverage < policy.minLabelCoverage) {
    return {
      verdict: 'insufficient_data',
      degradation: d,
      provisional: outcome,
      reason: `label coverage ${(input.labelCoverage * 100).toFixed(1)}% < ${(policy.minLabelCoverage * 100).toFixed(1)}%; provisional: ${what}`,
    };
  }
  return { verdict: outcome.verdict, degradation: d, provisional: null, reason: what };
}

const SEVERITY: Record<PolicyVerdict, number> = { insufficient_data: 0, ok: 1, warning: 2, breach: 3 };

/** The whole window and each segment; the verdict is the worst of those with enough labels. */
export function evaluatePerformanceBySegment(
  policy: PerformancePolicy,
  overall: PerformanceInput,
  segments: Readonly<Record<string, PerformanceInput>> = {},
): { verdict: PolicyVerdict; overall: PerformanceEvaluation; segments: Record<string, PerformanceEvaluation> } {
  const overallEvaluation = evaluatePerformancePolicy(policy, overall);
  const bySegment: Record<string, PerformanceEvaluation> = {};
  let verdict = overallEvaluation.verdict;
  for (const [key, input] of Object.entries(segments)) {
    const e = evaluatePerformancePolicy(policy, input);
    bySegment[key] = e;
    if (SEVERITY[e.verdict] > SEVERITY[verdict]) verdict = e.verdict;
  }
  return { verdict, overall: overallEvaluation, segments: bySegment };
}

/**
 * A monitoring window's realised performance against the champion's validation baseline, with the
 * model's performance policy: overall, and per segment with enough labelled rows. Windows whose
 * label coverage is below the policy's minimum are provisional and never breach.
 */
import type { ValidationEvidence } from '../../schemas/evidence';
import type { MonitoringWindow } from '../../schemas/monitoring';
import type { MetricName, PerformancePolicy } from '../../schemas/policies';
import { evaluatePerformanceBySegment, type PerformanceEvaluation, type PerformanceInput } from './performance-policy';

/** What the champion achieved at validation: its metric averaged over the validation splits. */
export interface PerformanceBaseline {
  metric: MetricName;
  overall: number | null;
  /** By segment id (`region=north`). */
  segments: Record<string, number>;
}

export type PerformanceVerdict = NonNullable<MonitoringWindow['performanceVerdict']>;
export type WindowPerformanceEvaluation = Omit<NonNullable<MonitoringWindow['performanceEvaluation']>, 'evaluatedAt'>;

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);
const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

/** The baseline from a version's validation evidence (its own metrics, the `challenger` side of each split). */
export function validationBaseline(evidence: ValidationEvidence | null, metric: MetricName): PerformanceBaseline {
  const overall: number[] = [];
  const bySegment = new Map<string, number[]>();
  for (const split of evidence?.splits ?? []) {
    const value = split.challenger.overall.metrics[metric]?.value;
    if (value != null) overall.push(value);
    for (const segment of split.challenger.segments) {
      const v = segment.report.metrics[metric]?.value;
      if (v == null) continue;
      bySegment.set(segment.segment, [...(bySegment.get(segment.segment) ?? []), v]);
    }
  }
  return { metric, overall: mean(overall), segments: Object.fromEntries([...bySegment].map(([id, values]) => [id, mean(values)!])) };
}

export interface WindowPerformanceInput {
  performance: MonitoringWindow['performance'];
  labelCoverage: number;
  /** Segments with fewer labelled rows are left out (too noisy to judge). */
  minSegmentRows: number;
}

/** The window's performance verdict and why. */
export function judgeWindowPerformance(
  policy: PerformancePolicy,
  baseline: PerformanceBaseline,
  input: WindowPerformanceInput,
): { verdict: PerformanceVerdict; evaluation: WindowPerformanceEvaluation } {
  const { metric } = baseline;
  const performance = input.performance;
  const value = performance?.metrics.overall.metrics[metric]?.value ?? null;
  const unjudged = (reason: string) => ({
    verdict: 'insufficient_data' as const,
    evaluation: { metric, value, baseline: baseline.overall, degradation: null, reason, segments: {} },
  });
  if (!performance) return unjudged('no actuals joined to this window yet');
  if (baseline.overall === null) return unjudged(`the champion has no validation baseline for ${metric}`);
  if (value === null) return unjudged(`${metric} is not defined on this window's labelled rows`);

  const inputOf = (v: number | null, base: number): PerformanceInput => ({ metric, value: v, baseline: base, labelCoverage: input.labelCoverage });
  const segments: Record<string, PerformanceInput> = {};
  for (const s of performance.metrics.segments) {
    const base = baseline.segments[s.segment];
    if (base === undefined || s.rows < input.minSegmentRows) continue;
    segments[s.segment] = inputOf(s.report.metrics[metric]?.value ?? null, base);
  }
  const judged = evaluatePerformanceBySegment(policy, inputOf(value, baseline.overall), segments);
  const provisional = performance.provisional || judged.overall.provisional !== null;
  const summary = (e: PerformanceEvaluation) => ({ verdict: e.verdict, degradation: finiteOrNull(e.degradation), reason: e.reason });
  return {
    verdict: provisional ? 'provisional' : judged.verdict,
    evaluation: {
      metric,
      value,
      baseline: baseline.overall,
      degradation: finiteOrNull(judged.overall.degradation),
      reason: provisional && judged.overall.provisional === null ? `provisional (label coverage below the minimum): ${judged.overall.reason}` : judged.overall.reason,
      segments: Object.fromEntries(Object.entries(judged.segments).map(([id, e]) => [id, summary(e)])),
    },
  };
}

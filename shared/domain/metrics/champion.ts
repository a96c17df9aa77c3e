import type {
  ChampionComparison,
  GateCheck,
  MetricDirection,
  MetricReport,
  SegmentedMetricReport,
} from '../../schemas/metrics';
import type { MetricName, ValidationGates } from '../../schemas/policies';
import { defaultMetricFor, metricDirection } from './names';

/**
 * How much worse `value` is than `reference`, relative to the reference's magnitude (positive =
 * worse, 0 or negative = as good or better). A reference of exactly 0 makes any worsening infinite.
 */
export function relativeRegression(value: number, reference: number, direction: MetricDirection): number {
  const worsening =
    direction === 'higher' ? reference - value : direction === 'lower' ? value - reference : Math.abs(value) - Math.abs(reference);
  if (worsening <= 0) return worsening === 0 ? 0 : worsening / Math.max(Math.abs(reference), Number.MIN_VALUE);
  return reference === 0 ? Infinity : worsening / Math.abs(reference);
}

/**
 * Floating-point slack when a regression is compared with its limit: metrics that are ratios of
 * counts land exactly on it ((0.8 - 0.72) / 0.8 is 0.10000000000000009 in binary), and "at most
 * the allowed regression" must not turn on the last bit of a subtraction.
 */
const ROUNDING = 1e-9;
const withinLimit = (regression: number, limit: number): boolean => regression - limit <= ROUNDING;

function meetsThreshold(value: number, threshold: number, direction: MetricDirection): boolean {
  return direction === 'higher' ? value >= threshold : direction === 'lower' ? value <= threshold : Math.abs(value) <= threshold;
}

const valueOf = (report: MetricReport | undefined, metric: MetricName) => report?.metrics[metric]?.value ?? null;
const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));
const pct = (x: number) => (Number.isFinite(x) ? `${fmt(x * 100)}%` : 'unbounded');

/**
 * The champion gate of the lifecycle, on reports of both versions computed on the same rows (the
 * task, and so the default metric, is the challenger report's). The challenger must have the metric defined, meet the
 * absolute threshold, be at most `maxRegressionVsChampion` (relative) worse than the champion on
 * the same rows, and no segment with at least `minSegmentRows` rows may be more than
 * `maxSegmentRegression` (relative) worse than the challenger's overall value, nor than the
 * champion's value on the same segment. Smaller segments and segments where the metric is
 * undefined are reported without gating.
 */
export function compareWithChampion(
  challenger: SegmentedMetricReport,
  champion: SegmentedMetricReport | null,
  gates: ValidationGates,
): ChampionComparison {
  const metric = gates.metric ?? defaultMetricFor(challenger.overall.task);
  const direction = metricDirection[metric];
  const checks: GateCheck[] = [];
  const overall = valueOf(challenger.overall, metric);
  const championValue = champion ? valueOf(champion.overall, metric) : null;
  let regressionVsChampion: number | null = null;

  if (overall === null) {
    const why = challenger.overall.metrics[metric]?.reason ?? 'not reported';
    checks.push({ check: 'metric_defined', passed: false, gating: true, value: null, limit: null, message: `${metric} of the challenger is undefined: ${why}` });
  } else {
    checks.push({ check: 'metric_defined', passed: true, gating: true, value: overall, limit: null, message: `${metric} of the challenger is ${fmt(overall)}` });
    if (gates.threshold !== undefined) {
      const passed = meetsThreshold(overall, gates.threshold, direction);
      const bound = direction === 'higher' ? 'at least' : 'at most';
      const subject = direction === 'zero' ? `|${metric}|` : metric;
      checks.push({
        check: 'threshold',
        passed,
        gating: true,
        value: overall,
        limit: gates.threshold,
        message: `${subject} ${fmt(direction === 'zero' ? Math.abs(overall) : overall)} ${passed ? 'meets' : 'misses'} the threshold (${bound} ${fmt(gates.threshold)})`,
      });
    }
    checks.push(championCheck(metric, overall, challenger, champion, championValue, direction, gates.maxRegressionVsChampion));
    regressionVsChampion = championValue === null ? null : relativeRegression(overall, championValue, direction);
    for (const s of challenger.segments) {
      checks.push(segmentCheck(metric, s, overall, direction, gates));
      const vsChampion = segmentChampionCheck(metric, s, champion, direction, gates);
      if (vsChampion) checks.push(vsChampion);
    }
  }

  const reasons = checks.filter((c) => c.gating && !c.passed).map((c) => c.message);
  return {
    decision: reasons.length === 0 ? 'pass' : 'fail',
    metric,
    direction,
    challenger: overall,
    champion: championValue,
    regressionVsChampion,
    checks,
    reasons,
  };
}

function championCheck(
  metric: MetricName,
  overall: number,
  challenger: SegmentedMetricReport,
  champion: SegmentedMetricReport | null,
  championValue: number | null,
  direction: MetricDirection,
  maxRegression: number,
): GateCheck {
  if (champion === null)
    return { check: 'champion', passed: true, gating: false, value: overall, limit: null, message: 'no champion to compare with' };
  if (champion.overall.rows !== challenger.overall.rows)
    return {
      check: 'champion',
      passed: false,
      gating: true,
      value: overall,
      limit: null,
      message: `challenger and champion were measured on different data (${challenger.overall.rows} vs ${champion.overall.rows} rows)`,
    };
  if (championValue === null)
    return {
      check: 'champion',
      passed: true,
      gating: false,
      value: overall,
      limit: null,
      message: `${metric} of the champion is undefined on this data, so the comparison does not gate`,
    };
  const regression = relativeRegression(overall, championValue, direction);
  const passed = withinLimit(regression, maxRegression);
  return {
    check: 'champion',
    passed,
    gating: true,
    value: regression,
    limit: maxRegression,
    message: passed
      ? `${metric} ${fmt(overall)} vs champion ${fmt(championValue)}: within the allowed regression of ${pct(maxRegression)}`
      : `${metric} ${fmt(overall)} is ${pct(regression)} worse than the champion's ${fmt(championValue)} (allowed ${pct(maxRegression)})`,
  };
}

function segmentCheck(
  metric: MetricName,
  s: SegmentedMetricReport['segments'][number],
  overall: number,
  direction: MetricDirection,
  gates: ValidationGates,
): GateCheck {
  const value = valueOf(s.report, metric);
  const base = { check: 'segment' as const, segment: s.segment };
  if (s.rows < gates.minSegmentRows)
    return { ...base, passed: true, gating: false, value, limit: null, message: `segment ${s.segment}: ${s.rows} rows, fewer than ${gates.minSegmentRows}, reported only` };
  if (value === null)
    return { ...base, passed: true, gating: false, value, limit: null, message: `segment ${s.segment}: ${metric} undefined (${s.report.metrics[metric]?.reason ?? 'not reported'}), reported only` };
  const regression = relativeRegression(value, overall, direction);
  const passed = withinLimit(regression, gates.maxSegmentRegression);
  return {
    ...base,
    passed,
    gating: true,
    value,
    limit: gates.maxSegmentRegression,
    message: passed
      ? `segment ${s.segment}: ${metric} ${fmt(value)} within ${pct(gates.maxSegmentRegression)} of overall ${fmt(overall)}`
      : `segment ${s.segment}: ${metric} ${fmt(value)} is ${pct(regression)} worse than overall ${fmt(overall)} (allowed ${pct(gates.maxSegmentRegression)})`,
  };
}

/** A gated segment against the champion on the same segment (same rows); none when either is not gated or undefined. */
function segmentChampionCheck(
  metric: MetricName,
  s: SegmentedMetricReport['segments'][number],
  champion: SegmentedMetricReport | null,
  direction: MetricDirection,
  gates: ValidationGates,
): GateCheck | undefined {
  const theirs = champion?.segments.find((c) => c.segment === s.segment);
  const value = valueOf(s.report, metric);
  const championValue = valueOf(theirs?.report, metric);
  if (!theirs || s.rows < gates.minSegmentRows || value === null || championValue === null) return undefined;
  const regression = relativeRegression(value, championValue, direction);
  const passed = withinLimit(regression, gates.maxSegmentRegression);
  return {
    check: 'segment_vs_champion',
    segment: s.segment,
    passed,
    gating: true,
    value: regression,
    limit: gates.maxSegmentRegression,
    message: passed
      ? `segment ${s.segment}: ${metric} ${fmt(value)} vs champion ${fmt(championValue)}, within ${pct(gates.maxSegmentRegression)}`
      : `segment ${s.segment}: ${metric} ${fmt(value)} is ${pct(regression)} worse than the champion's ${fmt(championValue)} on this segment (allowed ${pct(gates.maxSegmentRegression)})`,
  };
}

/**
 * A drift report: per column the chosen method, its statistic, p-value (tests only), threshold
 * and verdict; for the dataset the share of drifted columns. Sample-size aware: a column with
 * fewer than `minSamples` non-null values in either sample is `insufficient_data` and does not
 * count; at large samples p-value tests also need a minimum effect size; p-values are corrected
 * across the columns of the report.
 */
import type { ColumnDrift, ColumnVerdict, DriftReport } from '../../schemas/drift';
import type { ColumnDriftOverride, DriftPolicy } from '../../schemas/policies';
import { errors } from '../errors';
import type { RowBatch } from '../tabular';
import { adjustPValues } from './corrections';
import {
  categoricalEvidence,
  type ColumnEvidence,
  countValues,
  distinctValues,
  numericEvidence,
  runMethod,
} from './evidence';
import { chooseMethod, type ColumnKind, isPValueMethod, thresholdFor } from './methods';

export type { ColumnDrift, ColumnVerdict, DriftReport };

export interface NamedEvidence {
  name: string;
  evidence: ColumnEvidence;
}

const overrideFor = (policy: DriftPolicy, name: string): ColumnDriftOverride | undefined =>
  policy.columns.find((c) => c.column === name);

/** Runs the chosen method per column and decides column and dataset verdicts. */
export function driftReportFromEvidence(columns: readonly NamedEvidence[], policy: DriftPolicy): DriftReport {
  const results: ColumnDrift[] = [];
  for (const { name, evidence } of columns) {
    const override = overrideFor(policy, name);
    if (override?.ignore) continue;
    const method = chooseMethod(name, evidence.kind, evidence.referenceCount, distinctValues(evidence), policy, override);
    const threshold = thresholdFor(method, policy, override);
    const minSamples = override?.minSamples ?? policy.minSamples;
    const base = {
      name,
      type: evidence.kind,
      method,
      threshold,
      referenceCount: evidence.referenceCount,
      currentCount: evidence.currentCount,
      adjustedPValue: null,
      drifted: false,
    };
    if (evidence.referenceCount < minSamples || evidence.currentCount < minSamples) {
      const some = evidence.referenceCount > 0 && evidence.currentCount > 0;
      const outcome = some ? runMethod(method, evidence, policy.histogramBins) : null;
      results.push({
        ...base,
        statistic: outcome?.statistic ?? null,
        pValue: outcome?.pValue ?? null,
        effectSize: outcome?.effectSize ?? null,
        verdict: 'insufficient_data',
        reason: `${Math.min(evidence.referenceCount, evidence.currentCount)} non-null values, ${minSamples} needed`,
      });
      continue;
    }
    const outcome = runMethod(method, evidence, policy.histogramBins);
    results.push({ ...base, ...outcome, verdict: 'no_drift', reason: '' });
  }

  const tested = results.filter((r) => r.verdict !== 'insufficient_data' && r.pValue !== null);
  const adjusted = adjustPValues(
    tested.map((r) => r.pValue!),
    policy.multipleTestingCorrection,
  );
  tested.forEach((r, i) => (r.adjustedPValue = adjusted[i]!));

  for (const r of results) {
    if (r.verdict === 'insufficient_data') continue;
    decide(r, policy);
  }
  const evaluated = results.filter((r) => r.verdict !== 'insufficient_data');
  const drifted = evaluated.filter((r) => r.drifted).length;
  const shareDrifted = evaluated.length > 0 ? drifted / evaluated.length : 0;
  const datasetDrift = evaluated.length > 0 && shareDrifted >= policy.shareDriftedColumns;
  return {
    datasetDrift,
    shareDrifted,
    evaluatedColumns: evaluated.length,
    driftedColumns: drifted,
    verdict: evaluated.length === 0 ? 'insufficient_data' : datasetDrift ? 'drift' : 'no_drift',
    columns: results,
  };
}

/**
 * Floating-point slack for "at least the threshold": statistics that are differences of shares land
 * exactly on a round threshold (a 10-point move: 0.5 - 0.4 is 0.09999999999999998 in binary) and
 * must not fall short of it by the last bit.
 */
const ROUNDING = 1e-9;
const atLeast = (x: number, threshold: number): boolean => x >= threshold - ROUNDING;

function decide(r: ColumnDrift, policy: DriftPolicy): void {
  const statistic = r.statistic!;
  if (isPValueMethod(r.method)) {
    const p = r.adjustedPValue ?? r.pValue!;
    const significant = p < r.threshold;
    const large = Math.min(r.referenceCount, r.currentCount) > policy.smallSampleMaxRows;
    const bigEnough = !large || atLeast(r.effectSize ?? 0, policy.minEffectSize);
    r.drifted = significant && bigEnough;
    r.reason = !significant
      ? `p = ${fmt(p)} >= ${r.threshold}`
      : bigEnough
        ? `p = ${fmt(p)} < ${r.threshold}`
        : `p = ${fmt(p)} < ${r.threshold} but effect size ${fmt(r.effectSize ?? 0)} < ${policy.minEffectSize} at ${Math.min(r.referenceCount, r.currentCount)} values`;
  } else {
    r.drifted = atLeast(statistic, r.threshold);
    r.reason = `${r.method} = ${fmt(statistic)} ${r.drifted ? '>=' : '<'} ${r.threshold}`;
  }
  r.verdict = r.drifted ? 'drift' : 'no_drift';
}

const fmt = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2));

/** Column types of a RowBatch: its numeric and categorical records. */
export function batchColumns(batch: RowBatch): Array<{ name: string; kind: ColumnKind }> {
  return [
    ...Object.keys(batch.numeric).map((name) => ({ name, kind: 'numeric' as const })),
    ...Object.keys(batch.categorical).map((name) => ({ name, kind: 'categorical' as const })),
  ];
}

/**
 * Drift of `current` against `reference` on raw rows. Columns are those of the reference (or
 * `columns`); a column must have the same kind in both batches.
 */
export function compareBatches(
  reference: RowBatch,
  current: RowBatch,
  policy: DriftPolicy,
  columns?: readonly string[],
): DriftReport {
  const wanted = columns ? new Set(columns) : undefined;
  const evidence: NamedEvidence[] = [];
  for (const { name, kind } of batchColumns(reference)) {
    if (wanted && !wanted.has(name)) continue;
    if (kind === 'numeric') {
      const cur = current.numeric[name];
      if (!cur) throw missing(name, kind);
      evidence.push({ name, evidence: numericEvidence(reference.numeric[name]!, cur) });
    } else {
      const cur = current.categorical[name];
      if (!cur) throw missing(name, kind);
      evidence.push({ name, evidence: categoricalEvidence(countValues(reference.categorical[name]!), countValues(cur)) });
    }
  }
  if (wanted) {
    const known = new Set(evidence.map((e) => e.name));
    const unknown = [...wanted].filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw errors.validation(`unknown column(s): ${unknown.join(', ')}`, { columns: unknown });
    }
  }
  return driftReportFromEvidence(evidence, policy);
}

const missing = (name: string, kind: ColumnKind) =>
  errors.validation(`column '${name}' is ${kind} in the reference but missing or of another type in the current data`, {
    column: name,
  });

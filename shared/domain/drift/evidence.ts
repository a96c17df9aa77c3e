/**
 * What a drift test needs to know about one column in the two samples. Raw data (sorted typed
 * arrays, exact) and stored profiles (histograms on the reference's edges, quantile sketches)
 * both provide it, so one code path computes every method.
 */
import type { DriftMethod } from '../../schemas/policies';
import { errors } from '../errors';
import { histogram, histogramSorted, quantileEdges } from './binning';
import {
  chiSquaredTest,
  cramersV,
  hellinger,
  jensenShannon,
  lInfinity,
  psi,
  zTest,
} from './distributions';
import { ksTestSorted, type TwoSampleResult } from './ks';
import { populationStd, sortedFinite, wassersteinSorted } from './numeric';

/** Evidence for a numeric column. */
export interface NumericEvidence {
  readonly kind: 'numeric';
  readonly referenceCount: number;
  readonly currentCount: number;
  /** Bin counts of both samples on the reference's quantile edges. */
  histograms(bins: number): { reference: ArrayLike<number>; current: ArrayLike<number> };
  ks(): TwoSampleResult;
  /** Wasserstein distance divided by max(reference population std, 0.001), as Evidently. */
  normalizedWasserstein(): number;
}

/** Evidence for a categorical column: counts per value, nulls excluded. */
export interface CategoricalEvidence {
  readonly kind: 'categorical';
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly reference: ReadonlyMap<string, number>;
  readonly current: ReadonlyMap<string, number>;
}

export type ColumnEvidence = NumericEvidence | CategoricalEvidence;

/** Floor of the reference standard deviation in the normalized Wasserstein distance (Evidently). */
export const WASSERSTEIN_STD_FLOOR = 0.001;

/**
 * Exact evidence from two raw samples (NaN = missing). Sorting happens only for the methods that
 * need it: the reference for quantile edges, both samples for KS and Wasserstein.
 */
export function numericEvidence(reference: Float64Array, current: Float64Array): NumericEvidence {
  let refSorted: Float64Array | undefined;
  let curSorted: Float64Array | undefined;
  const ref = () => (refSorted ??= sortedFinite(reference));
  const cur = () => (curSorted ??= sortedFinite(current));
  let finiteCurrent = 0;
  for (let i = 0; i < current.length; i++) if (Number.isFinite(current[i]!)) finiteCurrent++;
  return {
    kind: 'numeric',
    referenceCount: ref().length,
    currentCount: finiteCurrent,
    histograms(bins) {
      const edges = quantileEdges(ref(), bins);
      return { reference: histogramSorted(ref(), edges), current: curSorted ? histogramSorted(curSorted, edges) : histogram(current, edges) };
    },
    ks: () => ksTestSorted(ref(), cur()),
    normalizedWasserstein: () =>
      wassersteinSorted(ref(), cur()) / Math.max(populationStd(ref()), WASSERSTEIN_STD_FLOOR),
  };
}

export function countValues(values: ReadonlyArray<string | null>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

export function categoricalEvidence(
  reference: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
): CategoricalEvidence {
  let referenceCount = 0;
  let currentCount = 0;
  for (const c of reference.values()) referenceCount += c;
  for (const c of current.values()) currentCount += c;
  return { kind: 'categorical', referenceCount, currentCount, reference, current };
}

/** Distinct values across both samples (for the z-test / chi-squared choice). */
export function distinctValues(evidence: ColumnEvidence): number {
  if (evidence.kind === 'numeric') return Number.POSITIVE_INFINITY;
  const keys = new Set(evidence.reference.keys());
  for (const k of evidence.current.keys()) keys.add(k);
  return keys.size;
}

function alignedCounts(evidence: CategoricalEvidence): { reference: number[]; current: number[]; keys: string[] } {
  const keys = [...evidence.reference.keys()];
  for (const k of evidence.current.keys()) if (!evidence.reference.has(k)) keys.push(k);
  return {
    keys,
    reference: keys.map((k) => evidence.reference.get(k) ?? 0),
    current: keys.map((k) => evidence.current.get(k) ?? 0),
  };
}

/** A method's raw outcome on one column, before thresholds and corrections. */
export interface MethodOutcome {
  statistic: number;
  pValue: number | null;
  /** For p-value tests: the KS statistic, Cramér's V or the difference of proportions. */
  effectSize: number | null;
}

export function runMethod(method: DriftMethod, evidence: ColumnEvidence, bins: number): MethodOutcome {
  if (method === 'ks' || method === 'wasserstein') {
    if (evidence.kind !== 'numeric') throw errors.validation(`drift method '${method}' needs a numeric column`);
    if (method === 'wasserstein') return { statistic: evidence.normalizedWasserstein(), pValue: null, effectSize: null };
    const result = evidence.ks();
    return { statistic: result.statistic, pValue: result.pValue, effectSize: result.statistic };
  }
  let reference: ArrayLike<number>;
  let current: ArrayLike<number>;
  if (evidence.kind === 'numeric') {
    ({ reference, current } = evidence.histograms(bins));
  } else {
    const aligned = alignedCounts(evidence);
    reference = aligned.reference;
    current = aligned.current;
    if (method === 'z_test') {
      if (aligned.keys.length > 2) throw errors.validation('the z-test needs at most two distinct values');
      const x1 = aligned.reference[0] ?? 0;
      const x2 = aligned.current[0] ?? 0;
      const result = zTest(x1, evidence.referenceCount, x2, evidence.currentCount);
      const effectSize = Math.abs(x1 / evidence.referenceCount - x2 / evidence.currentCount);
      return { statistic: result.statistic, pValue: result.pValue, effectSize };
    }
  }
  switch (method) {
    case 'chi_squared': {
      const result = chiSquaredTest(reference, current);
      const n = evidence.referenceCount + evidence.currentCount;
      return { statistic: result.statistic, pValue: result.pValue, effectSize: cramersV(result.statistic, n) };
    }
    case 'psi':
      return { statistic: psi(reference, current), pValue: null, effectSize: null };
    case 'jensen_shannon':
      return { statistic: jensenShannon(reference, current), pValue: null, effectSize: null };
    case 'hellinger':
      return { statistic: hellinger(reference, current), pValue: null, effectSize: null };
    case 'l_infinity':
      return { statistic: lInfinity(reference, current), pValue: null, effectSize: null };
    default:
      throw errors.validation(`drift method '${method}' does not apply to numeric columns`);
  }
}

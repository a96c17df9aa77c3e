import { exactTwoSampleSf, kolmogorovSf } from './kolmogorov';
import { unitInterval } from './numeric';

/** scipy's `ks_2samp(method='auto')` is exact while both samples have at most this many values. */
export const KS_EXACT_MAX_N = 10000;

export interface TwoSampleResult {
  statistic: number;
  pValue: number;
}

/** The two-sample KS statistic of two ascending-sorted samples (ties handled as scipy does). */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = a[i]! <= b[j]! ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

/** p-value for statistic d with sample sizes n1, n2 as `scipy.stats.ks_2samp(method='auto')`. */
export function ksPValue(d: number, n1: number, n2: number): number {
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const p = exactTwoSampleSf(n1, n2, d);
    if (Number.isFinite(p)) return p;
  }
  const en = Math.round((n1 * n2) / (n1 + n2));
  return kolmogorovSf(d, en);
}

/** Two-sample Kolmogorov-Smirnov test on ascending-sorted samples without NaN. */
export function ksTestSorted(a: Float64Array, b: Float64Array): TwoSampleResult {
  const statistic = ksStatisticSorted(a, b);
  return { statistic, pValue: unitInterval(ksPValue(statistic, a.length, b.length)) };
}

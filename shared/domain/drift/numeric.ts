/** Helpers on numeric samples: NaN removal, sorting, quantiles, moments. */
import { sortFiniteCopy } from './radix-sort';

/**
 * A value that is in [0, 1] in exact arithmetic, kept there: summing many shares in floating
 * point lands a little past 1 for disjoint samples (1.000000000000031).
 */
export const unitInterval = (x: number): number => Math.min(1, Math.max(0, x));

/** The finite values, sorted ascending (a new array); NaN (missing) and infinities are left out. */
export function sortedFinite(values: Float64Array): Float64Array {
  return sortFiniteCopy(values);
}

/** numpy's default ('linear') quantile of an ascending-sorted sample. */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  return a + (h - lo) * (sorted[hi]! - a);
}

/** Population standard deviation (ddof = 0), two-pass for accuracy. */
export function populationStd(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** 1-D Wasserstein distance between two ascending-sorted samples (scipy.stats.wasserstein_distance). */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let total = 0;
  let previous = Math.min(a[0]!, b[0]!);
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    total += Math.abs(i / n1 - j / n2) * (x - previous);
    previous = x;
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
  }
  return total;
}

/**
 * Histogram bins for numeric columns come from the reference alone (its quantiles), so a stored
 * reference profile fixes them and every later window is counted on the same edges. Bins are
 * right-closed, with open outer bins: (-inf, e1], (e1, e2], ..., (e_last, +inf).
 */
import { quantileSorted } from './numeric';

/** Default number of reference-quantile bins (deciles, the classical PSI layout). */
export const DEFAULT_HISTOGRAM_BINS = 10;

/** Interior edges at the reference's 1/bins ... (bins-1)/bins quantiles, duplicates removed. */
export function quantileEdges(sortedReference: Float64Array, bins: number): number[] {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = quantileSorted(sortedReference, i / bins);
    if (Number.isFinite(q) && (edges.length === 0 || q > edges[edges.length - 1]!)) edges.push(q);
  }
  return edges;
}

/** Index of the bin holding `value`: the first edge >= value, or edges.length for the last bin. */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per bin of an ascending-sorted sample without NaN (a linear sweep). */
export function histogramSorted(sorted: Float64Array, edges: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    while (bin < edges.length && v > edges[bin]!) bin++;
    counts[bin]!++;
  }
  return counts;
}

/** Counts per bin of an unsorted sample; NaN (missing) and infinite values are skipped. */
export function histogram(values: Float64Array, edges: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) counts[binIndex(edges, v)]!++;
  }
  return counts;
}

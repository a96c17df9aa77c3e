/** Column statistics used to fit transforms. Missing values (NaN) are ignored everywhere. */

/** The non-missing values of a column, sorted ascending. */
export function sortedPresent(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i += 1) if (values[i] === values[i]) n += 1;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v === v) out[k++] = v;
  }
  return out.sort();
}

/** numpy's lerp: exact at both ends, switching formula at t = 0.5 as numpy does. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * The q-quantile (0 <= q <= 1) of sorted values with numpy's default ("linear") method:
 * position (n - 1) q, linear interpolation between the neighbours.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1]!;
  return lerp(sorted[lo]!, sorted[lo + 1]!, h - lo);
}

/** The median as numpy.median computes it: the middle value, or the mean of the two middle ones. */
export function medianSorted(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Mean and population standard deviation (ddof 0), two passes for accuracy. */
export function meanStd(values: Float64Array): { mean: number; std: number; count: number } {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v === v) {
      sum += v;
      count += 1;
    }
  }
  if (count === 0) return { mean: NaN, std: NaN, count };
  const mean = sum / count;
  let ss = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v === v) ss += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(ss / count), count };
}

export function minMax(values: Float64Array): { min: number; max: number; count: number } {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    if (v === v) {
      if (v < min) min = v;
      if (v > max) max = v;
      count += 1;
    }
  }
  return count === 0 ? { min: NaN, max: NaN, count } : { min, max, count };
}

/** The most frequent non-missing number; ties go to the smallest (as scikit-learn's SimpleImputer). */
export function modeNumeric(values: Float64Array): number {
  const sorted = sortedPresent(values);
  let best = NaN;
  let bestCount = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j += 1;
    if (j - i > bestCount) {
      best = sorted[i]!;
      bestCount = j - i;
    }
    i = j;
  }
  return best;
}

/** Code-unit order, the same in every locale (what Python's sorted() does for ASCII). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Distinct non-missing categories, sorted by code unit. */
export function distinctCategories(values: ReadonlyArray<string | null>): string[] {
  const seen = new Set<string>();
  for (const v of values) if (v !== null) seen.add(v);
  return [...seen].sort(compareStrings);
}

/** The most frequent non-missing category; ties go to the smallest in code-unit order. */
export function modeCategorical(values: ReadonlyArray<string | null>): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== null && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

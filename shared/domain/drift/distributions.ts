/**
 * Tests and distances on two aligned count vectors (categories, or histogram bins on the
 * reference's edges). Zero-count cells are handled as scipy does for chi-squared and
 * Jensen-Shannon; PSI smooths empty cells (see PSI_EMPTY_SHARE).
 */
import type { TwoSampleResult } from './ks';
import { unitInterval } from './numeric';
import { chiSquaredSf, normalSf } from './special';

/** Share given to an empty cell in PSI so the logarithm stays finite (Evidently uses 0.0001). */
export const PSI_EMPTY_SHARE = 1e-4;

function total(counts: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i]!;
  return s;
}

function shares(counts: ArrayLike<number>): Float64Array {
  const s = total(counts);
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i]! / s;
  return out;
}

/**
 * Pearson's chi-squared test of homogeneity on the 2 x k table [reference; current], as
 * `scipy.stats.chi2_contingency(table)` with its defaults: cells empty in both rows are dropped,
 * and Yates' continuity correction applies only when the table has one degree of freedom.
 */
export function chiSquaredTest(reference: ArrayLike<number>, current: ArrayLike<number>): TwoSampleResult {
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    if (reference[i]! + current[i]! > 0) {
      ref.push(reference[i]!);
      cur.push(current[i]!);
    }
  }
  const n1 = total(ref);
  const n2 = total(cur);
  const n = n1 + n2;
  const dof = ref.length - 1;
  if (dof < 1 || n1 === 0 || n2 === 0) return { statistic: 0, pValue: 1 };
  let statistic = 0;
  for (let i = 0; i < ref.length; i++) {
    const column = ref[i]! + cur[i]!;
    for (const [observed, rowTotal] of [
      [ref[i]!, n1],
      [cur[i]!, n2],
    ] as const) {
      const expected = (rowTotal * column) / n;
      let diff = Math.abs(observed - expected);
      if (dof === 1) diff = Math.max(0, diff - 0.5);
      statistic += (diff * diff) / expected;
    }
  }
  return { statistic, pValue: unitInterval(chiSquaredSf(statistic, dof)) };
}

/** Cramér's V of a 2 x k table from its chi-squared statistic: an effect size in [0, 1]. */
export function cramersV(statistic: number, n: number): number {
  return n > 0 ? unitInterval(Math.sqrt(statistic / n)) : 0;
}

/**
 * Two-proportion z-test with a pooled variance, two-sided: `x1` successes of `n1` against `x2`
 * of `n2`. A column constant in both samples gives z = 0, p = 1.
 */
export function zTest(x1: number, n1: number, x2: number, n2: number): TwoSampleResult {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}

/** Population stability index: sum of (r - c) ln(r / c) over cells, empty shares smoothed. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const r = shares(reference);
  const c = shares(current);
  let sum = 0;
  for (let i = 0; i < r.length; i++) {
    const a = r[i]! === 0 ? PSI_EMPTY_SHARE : r[i]!;
    const b = c[i]! === 0 ? PSI_EMPTY_SHARE : c[i]!;
    sum += (a - b) * Math.log(a / b);
  }
  return sum;
}

/** Jensen-Shannon distance, base 2, in [0, 1] (scipy.spatial.distance.jensenshannon(p, q, base=2)). */
export function jensenShannon(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const p = shares(reference);
  const q = shares(current);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) divergence += p[i]! * Math.log(p[i]! / m);
    if (q[i]! > 0) divergence += q[i]! * Math.log(q[i]! / m);
  }
  return unitInterval(Math.sqrt(divergence / 2 / Math.LN2));
}

/** Hellinger distance in [0, 1]: sqrt(1/2 * sum (sqrt r - sqrt c)^2). */
export function hellinger(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const p = shares(reference);
  const q = shares(current);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const d = Math.sqrt(p[i]!) - Math.sqrt(q[i]!);
    sum += d * d;
  }
  return unitInterval(Math.sqrt(sum / 2));
}

/** L-infinity distance: the largest absolute difference between cell shares. */
export function lInfinity(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const p = shares(reference);
  const q = shares(current);
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! - q[i]!));
  return max;
}

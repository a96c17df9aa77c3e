/**
 * Ranking metrics (ROC-AUC, average precision). Rows are grouped once by distinct score (ties form
 * one group, groups in ascending score order); each evaluation then only sums row weights per
 * group, so a bootstrap resample costs two linear passes instead of a sort.
 */

/** Rows grouped by distinct score of one class column, ascending. */
export interface Ranking {
  /** Group index of each row. */
  readonly groupOf: Int32Array;
  readonly groupCount: number;
  /** Whether each row is a positive (its actual is the ranked class). */
  readonly positive: Uint8Array;
}

/**
 * Ranks the `column` of row-major `scores` (`stride` values per row); `positive` marks the rows
 * of the ranked class.
 */
export function rankScores(scores: Float64Array, stride: number, column: number, positive: Uint8Array): Ranking {
  const n = scores.length / stride;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = scores[i * stride + column]!;
  const sorted = keys.slice().sort();
  // Distinct values in ascending order; a row's group is the position of its score among them.
  let groupCount = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[groupCount++] = sorted[i]!;
  const distinct = sorted.subarray(0, groupCount);
  const groupOf = new Int32Array(n);
  for (let i = 0; i < n; i++) groupOf[i] = lowerBound(distinct, keys[i]!);
  return { groupOf, groupCount, positive };
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Scratch space for `rankingMetrics`, reused across bootstrap resamples. */
export interface RankingScratch {
  positive: Float64Array;
  negative: Float64Array;
}

export const rankingScratch = (groupCount: number): RankingScratch => ({
  positive: new Float64Array(groupCount),
  negative: new Float64Array(groupCount),
});

/**
 * ROC-AUC and average precision for row weights (null where undefined).
 *
 * ROC-AUC is the Mann-Whitney statistic: the chance that a random positive scores above a random
 * negative, ties counting one half; exactly the trapezoidal area under sklearn's `roc_curve`.
 * Undefined without positives or without negatives.
 *
 * Average precision is sklearn's `average_precision_score`: the sum over descending distinct
 * score thresholds of (R_n - R_{n-1}) P_n, without interpolation. Undefined without positives.
 */
export function rankingMetrics(
  ranking: Ranking,
  w: Float64Array,
  scratch: RankingScratch,
): { auc: number | null; averagePrecision: number | null } {
  const { groupOf, groupCount, positive } = ranking;
  const pos = scratch.positive;
  const neg = scratch.negative;
  pos.fill(0);
  neg.fill(0);
  for (let i = 0; i < groupOf.length; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    if (positive[i]) pos[groupOf[i]!]! += wi;
    else neg[groupOf[i]!]! += wi;
  }
  let negativesBelow = 0;
  let pairs = 0;
  let totalPositive = 0;
  for (let g = 0; g < groupCount; g++) {
    pairs += pos[g]! * (negativesBelow + 0.5 * neg[g]!);
    negativesBelow += neg[g]!;
    totalPositive += pos[g]!;
  }
  if (totalPositive === 0) return { auc: null, averagePrecision: null };
  const auc = negativesBelow === 0 ? null : pairs / (totalPositive * negativesBelow);

  let truePositive = 0;
  let predictedPositive = 0;
  let previousRecall = 0;
  let averagePrecision = 0;
  for (let g = groupCount - 1; g >= 0; g--) {
    if (pos[g] === 0 && neg[g] === 0) continue;
    truePositive += pos[g]!;
    predictedPositive += pos[g]! + neg[g]!;
    const recall = truePositive / totalPositive;
    averagePrecision += (recall - previousRecall) * (truePositive / predictedPositive);
    previousRecall = recall;
  }
  return { auc, averagePrecision };
}

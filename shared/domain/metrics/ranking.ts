/**
 * Ranking metrics over scores sorted once up front. Rows carry weights (bootstrap counts), so a
 * resample costs one linear pass instead of a new sort.
 */

/** Row indices ordered by ascending score (ties keep row order). */
export function ascendingOrder(scores: Float64Array, column = 0, stride = 1): Int32Array {
  const n = scores.length / stride;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = scores[i * stride + column]!;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  return order;
}

export interface RankingInput {
  /** Row-major scores; the column of interest is `column` with `stride` values per row. */
  readonly scores: Float64Array;
  readonly stride: number;
  readonly column: number;
  /** Row indices by ascending score of `column`. */
  readonly order: Int32Array;
  /** Whether each row is a positive. */
  readonly positive: Uint8Array;
}

/**
 * ROC-AUC as the Mann-Whitney statistic: the chance that a random positive scores above a random
 * negative, ties counting one half. This is exactly the trapezoidal area under sklearn's
 * `roc_curve`. null when there are no positives or no negatives.
 */
export function weightedRocAuc(input: RankingInput, w: Float64Array): number | null {
  const { scores, stride, column, order, positive } = input;
  let negativesBelow = 0;
  let pairs = 0;
  let totalPositive = 0;
  let i = 0;
  const n = order.length;
  while (i < n) {
    const score = scores[order[i]! * stride + column]!;
    let groupPositive = 0;
    let groupNegative = 0;
    while (i < n && scores[order[i]! * stride + column] === score) {
      const row = order[i]!;
      if (positive[row]) groupPositive += w[row]!;
      else groupNegative += w[row]!;
      i++;
    }
    pairs += groupPositive * (negativesBelow + 0.5 * groupNegative);
    negativesBelow += groupNegative;
    totalPositive += groupPositive;
  }
  if (totalPositive === 0 || negativesBelow === 0) return null;
  return pairs / (totalPositive * negativesBelow);
}

/**
 * Average precision as sklearn's `average_precision_score`: sum over descending distinct score
 * thresholds of (R_n - R_{n-1}) P_n, with no interpolation. null when there are no positives.
 */
export function weightedAveragePrecision(input: RankingInput, w: Float64Array): number | null {
  const { scores, stride, column, order, positive } = input;
  let totalPositive = 0;
  for (let i = 0; i < order.length; i++) if (positive[i]) totalPositive += w[i]!;
  if (totalPositive === 0) return null;
  let truePositive = 0;
  let falsePositive = 0;
  let previousRecall = 0;
  let ap = 0;
  let i = order.length - 1;
  while (i >= 0) {
    const score = scores[order[i]! * stride + column]!;
    while (i >= 0 && scores[order[i]! * stride + column] === score) {
      const row = order[i]!;
      if (positive[row]) truePositive += w[row]!;
      else falsePositive += w[row]!;
      i--;
    }
    const predictedPositive = truePositive + falsePositive;
    if (predictedPositive === 0) continue;
    const recall = truePositive / totalPositive;
    ap += (recall - previousRecall) * (truePositive / predictedPositive);
    previousRecall = recall;
  }
  return ap;
}

import { errors } from '../errors';
import { metricsForTask } from './names';
import {
  defined,
  type MetricEvaluator,
  type MetricOutcome,
  type MetricOutcomes,
  undefinedMetric,
} from './outcome';
import { type Ranking, rankingMetrics, type RankingScratch, rankingScratch, rankScores } from './ranking';

/**
 * Actuals and predicted probabilities of a classifier. Class indices follow the model's
 * `classLabels`; for binary models class 1 is the positive class.
 */
export interface ClassificationData {
  /** The actual class index of each row. */
  readonly actual: Int32Array;
  /** Row-major, `classCount` probabilities per row. */
  readonly probabilities: Float64Array;
  readonly classCount: number;
  /** Predicted class per row; the most probable class (lowest index on ties) when absent. */
  readonly predicted?: Int32Array;
}

/** sklearn's log_loss clips probabilities to [eps, 1 - eps] with float64 machine epsilon. */
const LOG_LOSS_EPS = Number.EPSILON;
// Bound once: a global `Math` lookup per row is slow in sandboxed contexts (Jest's vm).
const log = Math.log;

export function validateClassificationData(data: ClassificationData): void {
  const { actual, probabilities, classCount: k, predicted } = data;
  const n = actual.length;
  if (!Number.isInteger(k) || k < 2) throw errors.validation('classCount must be an integer >= 2', { classCount: k });
  if (probabilities.length !== n * k)
    throw errors.validation('probabilities must hold classCount values per row', {
      rows: n,
      classCount: k,
      probabilities: probabilities.length,
    });
  if (predicted && predicted.length !== n)
    throw errors.validation('actual and predicted have different lengths', { actual: n, predicted: predicted.length });
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    if (a < 0 || a >= k) throw errors.validation('actual class index out of range', { row: i, value: a, classCount: k });
    if (predicted && (predicted[i]! < 0 || predicted[i]! >= k))
      throw errors.validation('predicted class index out of range', { row: i, value: predicted[i], classCount: k });
  }
  for (let j = 0; j < probabilities.length; j++) {
    const p = probabilities[j]!;
    if (!(p >= 0 && p <= 1))
      throw errors.validation('probabilities must be numbers in [0, 1]', { row: Math.floor(j / k), value: p });
  }
}

/** The most probable class per row; the lowest index wins ties, as numpy's argmax. */
export function argmaxClasses(probabilities: Float64Array, classCount: number): Int32Array {
  const n = probabilities.length / classCount;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestP = probabilities[i * classCount]!;
    for (let c = 1; c < classCount; c++) {
      const p = probabilities[i * classCount + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Per-class counts of one (weighted) confusion matrix. */
export interface ConfusionSummary {
  /** Row-major k×k, row = actual, column = predicted. */
  readonly matrix: Float64Array;
  readonly support: Float64Array;
  readonly predictedCount: Float64Array;
  readonly truePositive: Float64Array;
  readonly total: number;
}

export function confusion(actual: Int32Array, predicted: Int32Array, k: number, w: Float64Array): ConfusionSummary {
  const matrix = new Float64Array(k * k);
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    matrix[actual[i]! * k + predicted[i]!]! += wi;
    total += wi;
  }
  return summarize(matrix, k, total);
}

function summarize(matrix: Float64Array, k: number, total: number): ConfusionSummary {
  const support = new Float64Array(k);
  const predictedCount = new Float64Array(k);
  const truePositive = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    for (let p = 0; p < k; p++) {
      const v = matrix[a * k + p]!;
      support[a]! += v;
      predictedCount[p]! += v;
    }
    truePositive[a] = matrix[a * k + a]!;
  }
  return { matrix, support, predictedCount, truePositive, total };
}

/** Per-class precision, recall and F1 with sklearn's zero_division=0. */
export function perClassScores(s: ConfusionSummary) {
  const k = s.support.length;
  const precision = new Float64Array(k);
  const recall = new Float64Array(k);
  const f1 = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const tp = s.truePositive[c]!;
    const fp = s.predictedCount[c]! - tp;
    const fn = s.support[c]! - tp;
    precision[c] = tp + fp > 0 ? tp / (tp + fp) : 0;
    recall[c] = tp + fn > 0 ? tp / (tp + fn) : 0;
    f1[c] = 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  }
  return { precision, recall, f1 };
}

/**
 * Macro averages cover the classes present in actuals or predictions (sklearn's default labels);
 * weighted averages weight each class by its support.
 */
function averages(values: Float64Array, s: ConfusionSummary) {
  let sum = 0;
  let present = 0;
  let weighted = 0;
  let totalSupport = 0;
  for (let c = 0; c < values.length; c++) {
    if (s.support[c]! > 0 || s.predictedCount[c]! > 0) {
      sum += values[c]!;
      present++;
    }
    weighted += s.support[c]! * values[c]!;
    totalSupport += s.support[c]!;
  }
  return { macro: present > 0 ? sum / present : 0, weighted: totalSupport > 0 ? weighted / totalSupport : 0 };
}

export function classificationEvaluator(data: ClassificationData): MetricEvaluator {
  validateClassificationData(data);
  const { actual, probabilities: prob, classCount: k } = data;
  const n = actual.length;
  const predicted = data.predicted ?? argmaxClasses(prob, k);
  const binary = k === 2;
  // One ranking per class (one-vs-rest); binary models rank by the positive class only.
  const rankedClasses = binary ? [1] : Array.from({ length: k }, (_, c) => c);
  const rankings: Ranking[] = rankedClasses.map((c) => {
    const positive = new Uint8Array(n);
    for (let i = 0; i < n; i++) positive[i] = actual[i] === c ? 1 : 0;
    return rankScores(prob, k, c, positive);
  });
  // Per-row terms that do not depend on the weights, so a resample is one weighted sum.
  const cellOf = new Int32Array(n);
  const rowLogLoss = new Float64Array(n);
  const rowBrier = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cellOf[i] = actual[i]! * k + predicted[i]!;
    rowLogLoss[i] = logLossTerm(prob, k, i, actual[i]!);
    rowBrier[i] = brierTerm(prob, k, i, actual[i]!);
  }
  const scratch = rankingScratch(Math.max(0, ...rankings.map((r) => r.groupCount)));

  return {
    rows: n,
    evaluate(w: Float64Array): MetricOutcomes {
      const matrix = new Float64Array(k * k);
      let rows = 0;
      let logLossSum = 0;
      let brierSum = 0;
      for (let i = 0; i < n; i++) {
        const wi = w[i]!;
        if (wi === 0) continue;
        matrix[cellOf[i]!]! += wi;
        rows += wi;
        logLossSum += wi * rowLogLoss[i]!;
        brierSum += wi * rowBrier[i]!;
      }
      const s = summarize(matrix, k, rows);
      if (rows === 0) {
        const none = undefinedMetric('no rows', 0);
        const out: MetricOutcomes = {};
        for (const name of metricsForTask[binary ? 'binary' : 'multiclass']) out[name] = none;
        return out;
      }
      const scores = perClassScores(s);
      const p = averages(scores.precision, s);
      const r = averages(scores.recall, s);
      const f = averages(scores.f1, s);
      let correct = 0;
      for (let c = 0; c < k; c++) correct += s.truePositive[c]!;
      const common: MetricOutcomes = {
        accuracy: defined(correct / rows, rows),
        f1_macro: defined(f.macro, rows),
        f1_weighted: defined(f.weighted, rows),
        log_loss: defined(logLossSum / rows, rows),
        brier: defined(brierSum / rows, rows),
      };
      if (binary) {
        const { auc, averagePrecision: ap } = rankingMetrics(rankings[0]!, w, scratch);
        return {
          ...common,
          precision: defined(scores.precision[1]!, rows),
          recall: defined(scores.recall[1]!, rows),
          f1: defined(scores.f1[1]!, rows),
          roc_auc: auc === null ? undefinedMetric('ROC-AUC needs both classes among the actuals', rows) : defined(auc, rows),
          pr_auc: ap === null ? undefinedMetric('PR-AUC needs at least one positive actual', rows) : defined(ap, rows),
        };
      }
      const ovr = oneVsRest(rankings, scratch, s.support, w, rows);
      return {
        ...common,
        precision: defined(p.macro, rows),
        recall: defined(r.macro, rows),
        precision_weighted: defined(p.weighted, rows),
        recall_weighted: defined(r.weighted, rows),
        ...ovr,
      };
    },
  };
}


/** One-vs-rest ROC-AUC (macro and prevalence-weighted) and macro average precision. */
function oneVsRest(
  rankings: Ranking[],
  scratch: RankingScratch,
  support: Float64Array,
  w: Float64Array,
  rows: number,
): { roc_auc: MetricOutcome; roc_auc_weighted: MetricOutcome; pr_auc: MetricOutcome } {
  const missing: number[] = [];
  for (let c = 0; c < support.length; c++) if (support[c] === 0 || support[c] === rows) missing.push(c);
  if (missing.length > 0) {
    const reason = `one-vs-rest needs every class among the actuals with at least one other; missing or alone: class ${missing.join(', ')}`;
    const none = undefinedMetric(reason, rows);
    return { roc_auc: none, roc_auc_weighted: none, pr_auc: none };
  }
  let macroAuc = 0;
  let weightedAuc = 0;
  let macroAp = 0;
  for (const [c, ranking] of rankings.entries()) {
    const { auc, averagePrecision } = rankingMetrics(ranking, w, scratch);
    macroAuc += auc!;
    weightedAuc += auc! * support[c]!;
    macroAp += averagePrecision!;
  }
  const k = rankings.length;
  return {
    roc_auc: defined(macroAuc / k, rows),
    roc_auc_weighted: defined(weightedAuc / rows, rows),
    pr_auc: defined(macroAp / k, rows),
  };
}

/** -log of the actual class's probability, clipped to [eps, 1 - eps] as sklearn. */
function logLossTerm(prob: Float64Array, k: number, row: number, actual: number): number {
  const p = prob[row * k + actual]!;
  return -log(p < LOG_LOSS_EPS ? LOG_LOSS_EPS : p > 1 - LOG_LOSS_EPS ? 1 - LOG_LOSS_EPS : p);
}

/** Binary: (p1 - y)² as sklearn; multiclass: the sum over classes of (p_c - [y = c])². */
function brierTerm(prob: Float64Array, k: number, row: number, actual: number): number {
  if (k === 2) {
    const d = prob[row * 2 + 1]! - (actual === 1 ? 1 : 0);
    return d * d;
  }
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const d = prob[row * k + c]! - (actual === c ? 1 : 0);
    sum += d * d;
  }
  return sum;
}

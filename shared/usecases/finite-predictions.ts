import type { Predictions } from '../ports/model-runtime';

/** What is left of a batch's predictions once rows with a non-finite output are taken out. */
export interface FinitePredictions {
  /** The batch row of each prediction row left. */
  keptRows: ArrayLike<number>;
  predictions: Predictions;
  /** The batch rows taken out, with the reason (code `model_output`). */
  rejected: { row: number; reason: string }[];
}

/** Quarantine code of a row whose model output is NaN or infinite. */
export const MODEL_OUTPUT_REJECTION = 'model_output';

/**
 * Takes rows whose prediction or class probabilities are NaN or infinite out of the predictions,
 * each with its reason: such a value is no result, and written out it would poison every metric
 * and drift statistic computed from the predictions. Rows left keep their order; a batch where
 * every output is finite comes back as it is, without copies.
 */
export function withFiniteOutputs(keptRows: ArrayLike<number>, predictions: Predictions, classLabels: readonly string[]): FinitePredictions {
  const reasons = new Map<number, string>();
  if (predictions.kind === 'regression') {
    predictions.values.forEach((v, k) => {
      if (!Number.isFinite(v)) reasons.set(k, `the model's prediction is ${v}`);
    });
  } else {
    const { classCount, probabilities } = predictions;
    for (let k = 0; k < predictions.rows && probabilities.length > 0; k += 1)
      for (let c = 0; c < classCount; c += 1) {
        const p = probabilities[k * classCount + c]!;
        if (!Number.isFinite(p)) {
          reasons.set(k, `the model's probability of class '${classLabels[c] ?? c}' is ${p}`);
          break;
        }
      }
  }
  if (reasons.size === 0) return { keptRows, predictions, rejected: [] };

  const left = Array.from({ length: predictions.rows }, (_, k) => k).filter((k) => !reasons.has(k));
  const rejected = [...reasons].map(([k, reason]) => ({ row: keptRows[k]!, reason }));
  const rows = Int32Array.from(left, (k) => keptRows[k]!);
  if (predictions.kind === 'regression')
    return { keptRows: rows, predictions: { kind: 'regression', rows: left.length, values: Float64Array.from(left, (k) => predictions.values[k]!) }, rejected };
  const { classCount } = predictions;
  const probabilities = new (predictions.probabilities.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(left.length * classCount);
  left.forEach((k, i) => probabilities.set(predictions.probabilities.subarray(k * classCount, (k + 1) * classCount), i * classCount));
  return {
    keptRows: rows,
    predictions: { kind: 'classification', rows: left.length, labels: left.map((k) => predictions.labels[k]!), probabilities, classCount },
    rejected,
  };
}

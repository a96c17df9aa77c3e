import { errors } from '../errors';
import { defined, type MetricEvaluator, type MetricOutcomes, undefinedMetric } from './outcome';

/** Actuals and predictions of a regression model, one entry per row. */
export interface RegressionData {
  readonly actual: Float64Array;
  readonly predicted: Float64Array;
}

export function validateRegressionData(data: RegressionData): void {
  if (data.actual.length !== data.predicted.length)
    throw errors.validation('actual and predicted have different lengths', {
      actual: data.actual.length,
      predicted: data.predicted.length,
    });
  for (let i = 0; i < data.actual.length; i++) {
    if (!Number.isFinite(data.actual[i]!) || !Number.isFinite(data.predicted[i]!))
      throw errors.validation('actual and predicted values must be finite numbers', { row: i });
  }
}

/**
 * MAE, RMSE, MAPE, R² and mean error (bias) with sklearn's definitions, except MAPE, which leaves
 * out rows whose actual is exactly 0 instead of dividing by machine epsilon (see docs/metrics.md).
 */
export function regressionEvaluator(data: RegressionData): MetricEvaluator {
  validateRegressionData(data);
  const { actual: y, predicted: yhat } = data;
  const n = y.length;
  return {
    rows: n,
    evaluate(w: Float64Array): MetricOutcomes {
      let sumW = 0;
      let sumAbs = 0;
      let sumSq = 0;
      let sumErr = 0;
      let sumY = 0;
      let mapeW = 0;
      let sumApe = 0;
      let minY = Infinity;
      let maxY = -Infinity;
      for (let i = 0; i < n; i++) {
        const wi = w[i]!;
        if (wi === 0) continue;
        const yi = y[i]!;
        const e = yhat[i]! - yi;
        const absE = e < 0 ? -e : e;
        sumW += wi;
        sumAbs += wi * absE;
        sumSq += wi * e * e;
        sumErr += wi * e;
        sumY += wi * yi;
        if (yi < minY) minY = yi;
        if (yi > maxY) maxY = yi;
        if (yi !== 0) {
          mapeW += wi;
          sumApe += (wi * absE) / (yi < 0 ? -yi : yi);
        }
      }
      if (sumW === 0) {
        const none = undefinedMetric('no rows', 0);
        return { mae: none, rmse: none, mape: none, r2: none, mean_error: none };
      }
      return {
        mae: defined(sumAbs / sumW, sumW),
        rmse: defined(Math.sqrt(sumSq / sumW), sumW),
        mape:
          mapeW > 0
            ? defined(sumApe / mapeW, mapeW)
            : undefinedMetric('every actual is 0, so no percentage error is defined', 0),
        r2: rSquared(y, w, sumW, sumY / sumW, sumSq, minY === maxY),
        mean_error: defined(sumErr / sumW, sumW),
      };
    },
  };
}

/** sklearn's r2_score with force_finite: constant actuals give 1 for a perfect fit, else 0. */
function rSquared(
  y: Float64Array,
  w: Float64Array,
  sumW: number,
  meanY: number,
  ssRes: number,
  constantActuals: boolean,
) {
  if (sumW < 2) return undefinedMetric('R² needs at least two rows', sumW);
  if (constantActuals) return defined(ssRes === 0 ? 1 : 0, sumW);
  let ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i]! - meanY;
    ssTot += w[i]! * d * d;
  }
  return defined(1 - ssRes / ssTot, sumW);
}

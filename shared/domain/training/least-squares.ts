import { errors } from '../errors';
import { runSteps, type Steps } from '../steps';

/** Rows of model inputs, row-major: `values[i * width + j]` (a transform's FeatureMatrix fits). */
export interface DesignMatrix {
  readonly rows: number;
  readonly width: number;
  readonly values: ArrayLike<number>;
}

/** A linear model's parameters: one weight per input column and an intercept. */
export interface LinearCoefficients {
  weights: number[];
  bias: number;
}

export interface LeastSquaresFit extends LinearCoefficients {
  /** Numerical rank of [X, 1]: below width + 1, the minimum-norm solution among the exact ones. */
  rank: number;
}

const EPS = 2 ** -52;

/** Refuses a NaN or infinite input: it would turn the factorisation into NaN, read as rank 0 (a zero model). */
export function checkFiniteInputs(x: DesignMatrix): void {
  const { rows, width, values } = x;
  for (let k = 0; k < rows * width; k += 1) {
    if (!Number.isFinite(values[k]!)) throw errors.validation(`input ${Math.floor(k / width)}, column ${k % width} is ${values[k]}, not a finite number`);
  }
}

/** [X, 1] by columns (Float64), the intercept column last. */
export function withInterceptColumns(x: DesignMatrix): Float64Array[] {
  const { rows: n, width: p, values } = x;
  const columns = Array.from({ length: p + 1 }, () => new Float64Array(n));
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < p; j += 1) columns[j]![i] = values[i * p + j]!;
    columns[p]![i] = 1;
  }
  return columns;
}

/**
 * Householder QR of the columns of A (n x m, n >= m), applied to `rhs` as it goes: returns R
 * (m x m, by columns) and the first m entries of Q'rhs. A is overwritten.
 */
function* householderQr(a: Float64Array[], rhs: Float64Array): Steps<{ r: Float64Array[]; qtb: Float64Array }> {
  const m = a.length;
  const n = rhs.length;
  for (let k = 0; k < m; k += 1) {
    // One column's reflection (about rows x width multiplications) per step.
    if (k > 0) yield;
    const col = a[k]!;
    let norm = 0;
    for (let i = k; i < n; i += 1) norm += col[i]! * col[i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = col[k]! > 0 ? -norm : norm;
    // v = x - alpha e1, stored in place of the column below the diagonal.
    col[k] = col[k]! - alpha;
    let vv = 0;
    for (let i = k; i < n; i += 1) vv += col[i]! * col[i]!;
    const reflect = (target: Float64Array) => {
      let dot = 0;
      for (let i = k; i < n; i += 1) dot += col[i]! * target[i]!;
      const f = (2 * dot) / vv;
      for (let i = k; i < n; i += 1) target[i] = target[i]! - f * col[i]!;
    };
    for (let j = k + 1; j < m; j += 1) reflect(a[j]!);
    reflect(rhs);
    col.fill(0, k + 1);
    col[k] = alpha;
  }
  const r = a.map((col) => Float64Array.from(col.subarray(0, m)));
  return { r, qtb: Float64Array.from(rhs.subarray(0, m)) };
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
};

/**
 * Singular value decomposition of B (r x m, by columns) by one-sided Jacobi rotations (Hestenes):
 * the columns are rotated until orthogonal, so B V = U diag(s). Accurate to working precision in
 * the small singular values too, which the rank decision depends on.
 */
export function jacobiSvd(b: Float64Array[]): { u: Float64Array[]; s: number[]; v: Float64Array[] } {
  const m = b.length;
  const work = b.map((c) => Float64Array.from(c));
  const v = Array.from({ length: m }, (_, j) => {
    const col = new Float64Array(m);
    col[j] = 1;
    return col;
  });
  const rotate = (x: Float64Array, y: Float64Array, c: number, s: number) => {
    for (let i = 0; i < x.length; i += 1) {
      const xi = x[i]!;
      const yi = y[i]!;
      x[i] = c * xi - s * yi;
      y[i] = s * xi + c * yi;
    }
  };
  for (let sweep = 0; sweep < 60; sweep += 1) {
    let rotated = false;
    for (let i = 0; i < m - 1; i += 1) {
      for (let j = i + 1; j < m; j += 1) {
        const bi = work[i]!;
        const bj = work[j]!;
        const alpha = dot(bi, bi);
        const beta = dot(bj, bj);
        const gamma = dot(bi, bj);
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(bi, bj, c, s);
        rotate(v[i]!, v[j]!, c, s);
      }
    }
    if (!rotated) break;
  }
  const s = work.map((col) => Math.sqrt(dot(col, col)));
  const u = work.map((col, j) => (s[j]! > 0 ? col.map((x) => x / s[j]!) : col));
  return { u, s, v };
}

/**
 * Ordinary least squares with an intercept, in closed form: the minimum-norm solution of
 * min ||[X, 1] w - y||, as numpy.linalg.lstsq([X, 1], y, rcond=None) computes it (singular values
 * at or below eps * max(n, p + 1) * the largest count as zero). Householder QR first, so the SVD
 * is of the small R. Collinear columns (a one-hot group beside the intercept) are not an error:
 * their weights share the effect, as lstsq does.
 */
export function fitLinearRegression(x: DesignMatrix, y: ArrayLike<number>): LeastSquaresFit {
  return runSteps(linearRegressionSteps(x, y));
}

/** fitLinearRegression in steps (runSteps, runStepsPausing): one per column of the QR factorisation. */
export function* linearRegressionSteps(x: DesignMatrix, y: ArrayLike<number>): Steps<LeastSquaresFit> {
  const n = x.rows;
  const m = x.width + 1;
  if (y.length !== n) throw errors.validation(`${n} rows of inputs but ${y.length} targets`);
  if (n === 0) throw errors.insufficientData('no training rows to fit on');
  for (let i = 0; i < n; i += 1) {
    if (!Number.isFinite(y[i]!)) throw errors.validation(`target ${i} is not a finite number`);
  }
  checkFiniteInputs(x);
  const a = withInterceptColumns(x);
  const rhs = Float64Array.from(y);
  const { r, qtb } = n >= m ? yield* householderQr(a, rhs) : { r: a, qtb: rhs };
  const { u, s, v } = jacobiSvd(r);
  // Squares of values near 1e154 and beyond overflow: NaN singular values would read as rank 0.
  if (!s.every(Number.isFinite)) throw errors.validation('the least-squares problem overflows double precision: the inputs or targets are too large in magnitude');
  const cutoff = EPS * Math.max(n, m) * Math.max(...s);
  const w = new Float64Array(m);
  let rank = 0;
  s.forEach((sj, j) => {
    if (!(sj > cutoff)) return;
    rank += 1;
    const f = dot(u[j]!, qtb) / sj;
    const vj = v[j]!;
    for (let k = 0; k < m; k += 1) w[k] = w[k]! + f * vj[k]!;
  });
  const weights = Array.from(w.subarray(0, m - 1));
  if (![...weights, w[m - 1]!].every(Number.isFinite)) throw errors.validation('the least-squares solution is not finite: are the inputs finite?');
  return { weights, bias: w[m - 1]!, rank };
}

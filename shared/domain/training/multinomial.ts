import { errors } from '../errors';
import { runSteps, type Steps } from '../steps';
import { checkFiniteInputs, type DesignMatrix, withInterceptColumns } from './least-squares';
import { type LogisticOptions, type NewtonDerivatives, newtonMinimise } from './logistic';

/** A multinomial (softmax) linear model: one weight row and one intercept per class, in the order of the class labels. */
export interface MultinomialCoefficients {
  /** `weights[c][j]`: class c's weight of input column j. */
  weights: number[][];
  /** One intercept per class, centred to sum 0 (adding a constant to all of them changes no probability). */
  biases: number[];
}

export interface MultinomialFit extends MultinomialCoefficients {
  iterations: number;
  converged: boolean;
  /** The penalised objective at the solution. */
  objective: number;
}

/**
 * Multinomial logistic regression by Newton's method (the full block Hessian, Cholesky) with a
 * backtracking line search, from zero: minimises the cross-entropy sum(log sum_c e^z_ic - z_iy) +
 * l2 / 2 ||W||^2 with z_i = W x_i + b, the objective of scikit-learn's LogisticRegression() on
 * several classes (multinomial, L2, C = 1, intercepts not penalised). The intercepts are fixed up
 * to a common constant only; the term (sum_c b_c)^2 / 2 picks the one with sum 0, where it is 0,
 * and keeps the problem strictly convex: one solution, whatever the solver. `y` holds class
 * indices 0 .. classCount - 1. Deterministic: no randomness, a fixed order of operations. A
 * Newton step costs about rows x (classes x (width + 1))^2 / 2 multiplications.
 */
export function fitMultinomialLogisticRegression(x: DesignMatrix, y: ArrayLike<number>, classCount: number, options: LogisticOptions = {}): MultinomialFit {
  return runSteps(multinomialLogisticRegressionSteps(x, y, classCount, options));
}

/**
 * Most coefficients (classes x (inputs + 1)) the Newton solver takes: it holds their square as the
 * Hessian (2,048 of them: 32 MiB) and factors it every iteration (about 3 billion multiplications
 * then). 20 classes of 500 inputs would need 800 MiB and minutes an iteration: an out-of-memory
 * worker instead of a reason.
 */
export const MAX_MULTINOMIAL_COEFFICIENTS = 2048;

/** Refuses targets that are not class indices, and a class no row has: its intercept would run off to minus infinity. */
function checkClasses(y: ArrayLike<number>, classCount: number, classLabels: readonly string[] | undefined): void {
  const counts = new Array<number>(classCount).fill(0);
  for (let i = 0; i < y.length; i += 1) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classCount) throw errors.validation(`target ${i} is ${c}, not a class index below ${classCount}`);
    counts[c] = counts[c]! + 1;
  }
  const missing = counts.flatMap((n, c) => (n === 0 ? [classLabels?.[c] ?? String(c)] : []));
  if (missing.length > 0) {
    throw errors.insufficientData(
      `no training row has the class ${missing.map((l) => `'${l}'`).join(', ')} (of ${classCount} classes, ${y.length} rows): the classifier needs rows of every class it predicts`,
      { missingClasses: missing },
    );
  }
}

/**
 * fitMultinomialLogisticRegression in steps (runSteps, runStepsPausing): one per Hessian row of a
 * pair of classes and per line-search trial, each about rows x (width + 1) multiplications.
 * `classLabels` only names a missing class in the refusal.
 */
export function* multinomialLogisticRegressionSteps(
  x: DesignMatrix,
  y: ArrayLike<number>,
  classCount: number,
  options: LogisticOptions & { classLabels?: readonly string[] } = {},
): Steps<MultinomialFit> {
  const n = x.rows;
  const p = x.width;
  const m = p + 1;
  const k = classCount;
  const size = k * m;
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-10;
  if (!Number.isInteger(k) || k < 2) throw errors.validation(`a classifier needs at least 2 classes, not ${k}`);
  if (y.length !== n) throw errors.validation(`${n} rows of inputs but ${y.length} targets`);
  if (n === 0) throw errors.insufficientData('no training rows to fit on');
  if (size > MAX_MULTINOMIAL_COEFFICIENTS) {
    throw errors.unsupportedModel(
      `${k} classes x ${m} columns (${p} inputs and the intercept) make ${size} coefficients, more than the built-in trainer's ${MAX_MULTINOMIAL_COEFFICIENTS}: its solver holds their square in memory; retrain this model with a webhook trainer`,
      { classes: k, columns: m, coefficients: size, limit: MAX_MULTINOMIAL_COEFFICIENTS },
    );
  }
  checkClasses(y, k, options.classLabels);
  checkFiniteInputs(x);
  const cols = withInterceptColumns(x);
  // theta[c * m + j]: class c's weight of column j, its intercept at j = p.
  const theta = new Float64Array(size);
  const z = new Float64Array(n * k);
  const prob = new Float64Array(n * k);
  const objectiveAt = (t: Float64Array) => {
    z.fill(0);
    let penalty = 0;
    let interceptSum = 0;
    for (let c = 0; c < k; c += 1) {
      for (let j = 0; j < m; j += 1) {
        const tj = t[c * m + j]!;
        if (j < p) penalty += tj * tj;
        else interceptSum += tj;
        const col = cols[j]!;
        if (tj !== 0) for (let i = 0; i < n; i += 1) z[i * k + c] = z[i * k + c]! + tj * col[i]!;
      }
    }
    let f = (l2 / 2) * penalty + (interceptSum * interceptSum) / 2;
    for (let i = 0; i < n; i += 1) {
      let top = -Infinity;
      for (let c = 0; c < k; c += 1) top = Math.max(top, z[i * k + c]!);
      let sum = 0;
      for (let c = 0; c < k; c += 1) {
        const e = Math.exp(z[i * k + c]! - top);
        prob[i * k + c] = e;
        sum += e;
      }
      for (let c = 0; c < k; c += 1) prob[i * k + c] = prob[i * k + c]! / sum;
      f += top + Math.log(sum) - z[i * k + y[i]!]!;
    }
    return f;
  };

  const residual = new Float64Array(n);
  const weight = new Float64Array(n);
  function* derivatives(): Steps<NewtonDerivatives> {
    // prob holds the softmax of X theta for the current theta (objectiveAt computed it last).
    const gradient = new Float64Array(size);
    let interceptSum = 0;
    for (let c = 0; c < k; c += 1) interceptSum += theta[c * m + p]!;
    for (let c = 0; c < k; c += 1) {
      for (let i = 0; i < n; i += 1) residual[i] = prob[i * k + c]! - (y[i] === c ? 1 : 0);
      for (let j = 0; j < m; j += 1) gradient[c * m + j] = dot(cols[j]!, residual) + (j < p ? l2 * theta[c * m + j]! : interceptSum);
    }
    const hessian = Array.from({ length: size }, () => new Float64Array(size));
    for (let c = 0; c < k; c += 1) {
      for (let d = c; d < k; d += 1) {
        // d^2 / dz_c dz_d of the cross-entropy: p_c (delta_cd - p_d).
        for (let i = 0; i < n; i += 1) weight[i] = prob[i * k + c]! * ((c === d ? 1 : 0) - prob[i * k + d]!);
        for (let a = 0; a < m; a += 1) {
          const ca = cols[a]!;
          for (let b = c === d ? a : 0; b < m; b += 1) {
            const cb = cols[b]!;
            let s = 0;
            for (let i = 0; i < n; i += 1) s += ca[i]! * weight[i]! * cb[i]!;
            if (c === d && a === b && a < p) s += l2;
            if (a === p && b === p) s += 1;
            hessian[c * m + a]![d * m + b] = s;
            hessian[d * m + b]![c * m + a] = s;
          }
          yield;
        }
      }
    }
    return { gradient, hessian };
  }
  const { objective, iterations, converged } = yield* newtonMinimise('the multinomial logistic regression', theta, objectiveAt, derivatives, {
    maxIterations,
    gradientTolerance: tolerance * Math.max(1, n),
  });
  const weights = Array.from({ length: k }, (_, c) => Array.from(theta.subarray(c * m, c * m + p)));
  const raw = Array.from({ length: k }, (_, c) => theta[c * m + p]!);
  const mean = raw.reduce((s, b) => s + b, 0) / k;
  const biases = raw.map((b) => b - mean);
  if (![...weights.flat(), ...biases].every(Number.isFinite)) throw errors.validation('the multinomial logistic regression did not give finite weights');
  return { weights, biases, iterations, converged, objective };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
}

import { errors } from '../errors';
import { runSteps, type Steps } from '../steps';
import { checkFiniteInputs, type DesignMatrix, type LinearCoefficients, withInterceptColumns } from './least-squares';

export interface LogisticOptions {
  /** L2 penalty on the weights (not the intercept): 1 / C. Default 1, scikit-learn's C = 1. */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component is below this. */
  tolerance?: number;
}

export interface LogisticFit extends LinearCoefficients {
  iterations: number;
  converged: boolean;
  /** The penalised objective at the solution. */
  objective: number;
}

/** log(1 + e^z) without overflow. */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Solves the symmetric positive definite system H d = g by Cholesky; undefined if H is not. */
function choleskySolve(h: Float64Array[], g: Float64Array): Float64Array | undefined {
  const m = g.length;
  const l = Array.from({ length: m }, () => new Float64Array(m));
  for (let j = 0; j < m; j += 1) {
    let d = h[j]![j]!;
    for (let k = 0; k < j; k += 1) d -= l[j]![k]! * l[j]![k]!;
    if (!(d > 0)) return undefined;
    l[j]![j] = Math.sqrt(d);
    for (let i = j + 1; i < m; i += 1) {
      let s = h[i]![j]!;
      for (let k = 0; k < j; k += 1) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = s / l[j]![j]!;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i += 1) {
    let s = g[i]!;
    for (let k = 0; k < i; k += 1) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
  }
  const d = new Float64Array(m);
  for (let i = m - 1; i >= 0; i -= 1) {
    let s = z[i]!;
    for (let k = i + 1; k < m; k += 1) s -= l[k]![i]! * d[k]!;
    d[i] = s / l[i]![i]!;
  }
  return d;
}

/**
 * One Newton step of a penalised fit, damped: solves H d = g and halves the step until the
 * objective does not rise, yielding between trials. Writes the accepted point into `theta` and
 * answers its objective; undefined when no step lowers it (the minimum, to precision), after
 * `objectiveAt(theta)` again so that what it keeps on the side is theta's. `what` names the fit.
 */
function* dampedNewtonStep(
  what: string,
  theta: Float64Array,
  objective: number,
  gradient: Float64Array,
  hessian: Float64Array[],
  objectiveAt: (t: Float64Array) => number,
): Steps<number | undefined> {
  // Inputs near 1e154 and beyond overflow the Hessian; a NaN step would end the line search as "converged" at zero.
  if (!gradient.every(Number.isFinite) || !hessian.every((row) => row.every(Number.isFinite))) {
    throw errors.validation(`${what} overflows double precision: the inputs are too large in magnitude`);
  }
  const step = choleskySolve(hessian, gradient);
  if (!step) throw errors.validation(`${what} Hessian is not positive definite: the inputs hold non-finite values or an unpenalised constant`);
  let scale = 1;
  let next = theta.map((t, j) => t - step[j]!);
  let value = objectiveAt(next);
  while (!(value <= objective) && scale > 1e-10) {
    scale /= 2;
    next = theta.map((t, j) => t - scale * step[j]!);
    yield;
    value = objectiveAt(next);
  }
  if (!(value <= objective)) {
    objectiveAt(theta);
    return undefined;
  }
  theta.set(next);
  return value;
}

/** The gradient and Hessian of an objective at a point. */
export interface NewtonDerivatives {
  gradient: Float64Array;
  hessian: Float64Array[];
}

/**
 * Newton's method from `theta` (updated in place) on a strictly convex objective. Each iteration
 * takes the gradient and Hessian at theta from `derivatives` (objectiveAt was called on theta last,
 * so what it keeps on the side is theta's), and stops when every gradient component is within
 * `gradientTolerance`, when no damped step lowers the objective, or when one lowers it by no more
 * than 1e-15 of it; at most `maxIterations`. `what` names the fit in its errors.
 */
export function* newtonMinimise(
  what: string,
  theta: Float64Array,
  objectiveAt: (t: Float64Array) => number,
  derivatives: () => Steps<NewtonDerivatives>,
  limits: { maxIterations: number; gradientTolerance: number },
): Steps<{ objective: number; iterations: number; converged: boolean }> {
  let objective = objectiveAt(theta);
  for (let iterations = 0; iterations < limits.maxIterations; iterations += 1) {
    const { gradient, hessian } = yield* derivatives();
    if (gradient.every((g) => Math.abs(g) <= limits.gradientTolerance)) return { objective, iterations, converged: true };
    const value = yield* dampedNewtonStep(what, theta, objective, gradient, hessian, objectiveAt);
    if (value === undefined) return { objective, iterations, converged: true };
    const change = objective - value;
    objective = value;
    if (change <= 1e-15 * Math.max(1, Math.abs(objective))) return { objective, iterations: iterations + 1, converged: true };
  }
  return { objective, iterations: limits.maxIterations, converged: false };
}

/**
 * Binary logistic regression by Newton's method (IRLS) with a backtracking line search, from zero:
 * minimises sum(log(1 + e^z) - y z) + l2 / 2 ||w||^2 with z = X w + b, the objective of
 * scikit-learn's LogisticRegression() (L2, C = 1, intercept not penalised). The penalty keeps the
 * problem strictly convex (one solution, also for collinear or separable data), so the answer does
 * not depend on the solver. Deterministic: no randomness, a fixed order of operations.
 */
export function fitLogisticRegression(x: DesignMatrix, y: ArrayLike<number>, options: LogisticOptions = {}): LogisticFit {
  return runSteps(logisticRegressionSteps(x, y, options));
}

/**
 * fitLogisticRegression in steps (runSteps, runStepsPausing): one per Hessian row and line-search
 * trial, each about rows x width multiplications, so a pause between them keeps a worker responsive.
 */
export function* logisticRegressionSteps(x: DesignMatrix, y: ArrayLike<number>, options: LogisticOptions = {}): Steps<LogisticFit> {
  const n = x.rows;
  const p = x.width;
  const m = p + 1;
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-10;
  if (y.length !== n) throw errors.validation(`${n} rows of inputs but ${y.length} targets`);
  if (n === 0) throw errors.insufficientData('no training rows to fit on');
  let positives = 0;
  for (let i = 0; i < n; i += 1) {
    if (y[i] !== 0 && y[i] !== 1) throw errors.validation(`target ${i} is ${y[i]}, not 0 or 1`);
    positives += y[i]!;
  }
  if (positives === 0 || positives === n) {
    throw errors.insufficientData(`the training rows hold one class only (${positives} of ${n} positive): a classifier needs both`);
  }
  checkFiniteInputs(x);
  const cols = withInterceptColumns(x);
  const theta = new Float64Array(m);
  const z = new Float64Array(n);
  const penalised = (t: Float64Array) => {
    let s = 0;
    for (let j = 0; j < p; j += 1) s += t[j]! * t[j]!;
    return (l2 / 2) * s;
  };
  const objectiveAt = (t: Float64Array) => {
    z.fill(0);
    for (let j = 0; j < m; j += 1) {
      const c = cols[j]!;
      const tj = t[j]!;
      if (tj !== 0) for (let i = 0; i < n; i += 1) z[i] = z[i]! + tj * c[i]!;
    }
    let f = penalised(t);
    for (let i = 0; i < n; i += 1) f += softplus(z[i]!) - y[i]! * z[i]!;
    return f;
  };

  const residual = new Float64Array(n);
  const weight = new Float64Array(n);
  function* derivatives(): Steps<NewtonDerivatives> {
    // z holds X theta for the current theta (objectiveAt computed it last).
    for (let i = 0; i < n; i += 1) {
      const pi = sigmoid(z[i]!);
      residual[i] = pi - y[i]!;
      weight[i] = pi * (1 - pi);
    }
    const gradient = new Float64Array(m);
    const hessian = Array.from({ length: m }, () => new Float64Array(m));
    for (let a = 0; a < m; a += 1) {
      const ca = cols[a]!;
      gradient[a] = dot(ca, residual) + (a < p ? l2 * theta[a]! : 0);
      for (let b = a; b < m; b += 1) {
        const cb = cols[b]!;
        let s = 0;
        for (let i = 0; i < n; i += 1) s += ca[i]! * weight[i]! * cb[i]!;
        if (a === b && a < p) s += l2;
        hessian[a]![b] = s;
        hessian[b]![a] = s;
      }
      yield;
    }
    return { gradient, hessian };
  }
  const { objective, iterations, converged } = yield* newtonMinimise('the logistic regression', theta, objectiveAt, derivatives, { maxIterations, gradientTolerance: tolerance * Math.max(1, n) });
  const weights = Array.from(theta.subarray(0, p));
  if (![...weights, theta[p]!].every(Number.isFinite)) throw errors.validation('the logistic regression did not give finite weights');
  return { weights, bias: theta[p]!, iterations, converged, objective };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
}

export { sigmoid };

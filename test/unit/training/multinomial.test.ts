import { runSteps, runStepsPausing } from '../../../shared/domain/steps';
import { fitMultinomialLogisticRegression, MAX_MULTINOMIAL_COEFFICIENTS, type MultinomialCoefficients, multinomialLogisticRegressionSteps } from '../../../shared/domain/training/multinomial';
import reference from '../../fixtures/training/multinomial-reference.json';

/**
 * The built-in trainer's multinomial fit against scipy (test/fixtures/training/make_multinomial_reference.py):
 * the minimiser of the L2-penalised (C = 1) cross-entropy found by L-BFGS-B then Newton-CG. The
 * intercepts are defined up to a common constant, so the probabilities are compared (and the
 * coefficients with the intercepts centred, the convention both sides use).
 */
interface Case {
  X: number[][];
  y: number[];
  classCount: number;
  weights: number[][];
  biases: number[];
  objective: number;
  probabilities: number[][];
  /** The weights' norm of the fit with l2 = 1e-6 (nearly_separable). */
  weakPenaltyWeightNorm?: number;
}
const cases = reference.cases as Record<string, Case>;

const designOf = (c: Case) => ({ rows: c.X.length, width: c.X[0]!.length, values: Float32Array.from(c.X.flat()) });

/** Softmax of W x + b for each row, in float64. */
function probabilitiesOf(model: MultinomialCoefficients, rows: number[][]): number[][] {
  return rows.map((x) => {
    const z = model.weights.map((w, c) => w.reduce((s, wj, j) => s + wj * x[j]!, model.biases[c]!));
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  });
}

describe('multinomial logistic regression (Newton, L2 with C = 1)', () => {
  it.each(['three_classes', 'nearly_separable'])('when fitted on %s, then every probability equals scipy within 1e-8 and the objective its minimum', (name) => {
    const c = cases[name]!;
    const fit = fitMultinomialLogisticRegression(designOf(c), c.y, c.classCount);
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(30);
    const ours = probabilitiesOf(fit, c.X);
    ours.forEach((row, i) => row.forEach((p, k) => expect(Math.abs(p - c.probabilities[i]![k]!)).toBeLessThanOrEqual(1e-8)));
    expect(fit.objective).toBeCloseTo(c.objective, 8);
    [...fit.weights.flat(), ...fit.biases].forEach((v, j) => expect(Math.abs(v - [...c.weights.flat(), ...c.biases][j]!)).toBeLessThanOrEqual(1e-7));
  });

  it('when fitted, then the intercepts sum to 0 (the convention that makes them one answer)', () => {
    const c = cases.three_classes!;
    const fit = fitMultinomialLogisticRegression(designOf(c), c.y, c.classCount);
    expect(Math.abs(fit.biases.reduce((s, b) => s + b, 0))).toBeLessThanOrEqual(1e-12);
  });

  it('when the data are nearly separable, then the penalty matters: the weights have about half the norm of a fit with l2 = 1e-6, as scipy finds', () => {
    const c = cases.nearly_separable!;
    const norm = (m: Pick<MultinomialCoefficients, 'weights'>) => Math.hypot(...m.weights.flat());
    const weak = fitMultinomialLogisticRegression(designOf(c), c.y, c.classCount, { l2: 1e-6 });
    expect(norm(weak)).toBeCloseTo(c.weakPenaltyWeightNorm!, 5);
    expect(norm(fitMultinomialLogisticRegression(designOf(c), c.y, c.classCount))).toBeLessThan(0.6 * norm(weak));
  });

  it('when fitted twice, then the coefficients are bit for bit the same', () => {
    const c = cases.three_classes!;
    expect(fitMultinomialLogisticRegression(designOf(c), c.y, 3)).toEqual(fitMultinomialLogisticRegression(designOf(c), c.y, 3));
  });

  it('when a class has no row, then INSUFFICIENT_DATA names it by its label', () => {
    expect(() =>
      runSteps(multinomialLogisticRegressionSteps({ rows: 4, width: 1, values: [1, 2, 3, 4] }, [0, 2, 0, 2], 3, { classLabels: ['red', 'green', 'blue'] })),
    ).toThrow(/no training row has the class 'green' \(of 3 classes, 4 rows\)/);
  });

  it('when classes x (inputs + 1) pass MAX_MULTINOMIAL_COEFFICIENTS, then UNSUPPORTED_MODEL says so before any work; at the limit it fits', () => {
    // 16 classes x 128 columns (127 inputs and the intercept) is the limit exactly.
    const design = (width: number) => ({ rows: 16, width, values: Float32Array.from({ length: 16 * width }, (_, i) => ((i * 7919) % 101) / 101) });
    const classes = Array.from({ length: 16 }, (_, i) => i);
    expect(16 * 128).toBe(MAX_MULTINOMIAL_COEFFICIENTS);
    expect(() => fitMultinomialLogisticRegression(design(128), classes, 16)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/^16 classes x 129 columns \(128 inputs and the intercept\) make 2064 coefficients, more than the built-in trainer's 2048/) }),
    );
    expect(fitMultinomialLogisticRegression(design(127), classes, 16, { maxIterations: 1 }).weights).toHaveLength(16);
  });

  it('when a target is not a class index, then it refuses naming the row', () => {
    expect(() => fitMultinomialLogisticRegression({ rows: 3, width: 1, values: [1, 2, 3] }, [0, 1, 3], 3)).toThrow(/target 2 is 3, not a class index below 3/);
    expect(() => fitMultinomialLogisticRegression({ rows: 3, width: 1, values: [1, 2, 3] }, [0, 1.5, 2], 3)).toThrow(/target 1 is 1.5/);
  });

  it('when an input is NaN or infinite, then it refuses naming the cell', () => {
    expect(() => fitMultinomialLogisticRegression({ rows: 3, width: 1, values: [1, NaN, 3] }, [0, 1, 2], 3)).toThrow(/input 1, column 0 is NaN, not a finite number/);
  });

  it('when the inputs are so large that the Hessian overflows (1e300), then it refuses instead of reporting a converged zero model', () => {
    expect(() => fitMultinomialLogisticRegression({ rows: 3, width: 1, values: [-1e300, 1e300, 2e300] }, [0, 1, 2], 3)).toThrow(/overflows double precision/);
  });

  it('when run pausing between steps, then other work runs during it and the result is bit for bit the one-go fit', async () => {
    const c = cases.three_classes!;
    let pauses = 0;
    let interleaved = 0;
    const other = setInterval(() => (interleaved += 1), 0);
    try {
      const fit = await runStepsPausing(multinomialLogisticRegressionSteps(designOf(c), c.y, 3), async () => {
        pauses += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      });
      expect(fit).toEqual(fitMultinomialLogisticRegression(designOf(c), c.y, 3));
    } finally {
      clearInterval(other);
    }
    expect(pauses).toBeGreaterThan(1);
    expect(interleaved).toBeGreaterThan(0);
  });
});

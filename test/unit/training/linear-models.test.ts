import { runSteps, runStepsPausing, type Steps } from '../../../shared/domain/steps';
import { fitLinearRegression, linearRegressionSteps } from '../../../shared/domain/training/least-squares';
import { fitLogisticRegression, logisticRegressionSteps } from '../../../shared/domain/training/logistic';
import reference from '../../fixtures/training/reference.json';

/**
 * The built-in trainer's fits against numpy (test/fixtures/training/make_reference.py): lstsq on
 * [X, 1] for linear regression, the L2-penalised (C = 1) logistic objective's minimiser.
 */
interface Case {
  task: string;
  X: number[][];
  y: number[];
  weights: number[];
  bias: number;
  rank?: number;
  objective?: number;
}
const cases = reference.cases as Record<string, Case>;

const designOf = (c: Case) => ({ rows: c.X.length, width: c.X[0]!.length, values: Float32Array.from(c.X.flat()) });

function expectClose(actual: number[], expected: number[], tolerance: number) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected[i]!))));
}

describe('linear regression in closed form', () => {
  it.each(['linear', 'linear_collinear'])('when fitted on %s, then the coefficients and rank equal numpy lstsq within 1e-9', (name) => {
    const c = cases[name]!;
    const fit = fitLinearRegression(designOf(c), c.y);
    expectClose([...fit.weights, fit.bias], [...c.weights, c.bias], 1e-9);
    expect(fit.rank).toBe(c.rank);
  });

  it('when there are fewer rows than coefficients, then it still answers the minimum-norm solution', () => {
    // Two rows, three coefficients: lstsq gives w = A'(AA')^-1 y.
    const fit = fitLinearRegression({ rows: 2, width: 2, values: [1, 0, 0, 1] }, [1, 2]);
    // A = [[1,0,1],[0,1,1]], AA' = [[2,1],[1,2]], (AA')^-1 y = [0, 1], w = A' [0, 1] = [0, 1, 1].
    expectClose([...fit.weights, fit.bias], [0, 1, 1], 1e-12);
    expect(fit.rank).toBe(2);
  });

  it('when a target is not finite, then it refuses with the row', () => {
    expect(() => fitLinearRegression({ rows: 2, width: 1, values: [1, 2] }, [1, NaN])).toThrow(/target 1 is not a finite number/);
  });

  it('when an input is NaN or infinite, then it refuses naming the cell instead of answering a zero model', () => {
    expect(() => fitLinearRegression({ rows: 4, width: 1, values: [1, NaN, 3, 4] }, [1, 2, 3, 4])).toThrow(/input 1, column 0 is NaN, not a finite number/);
    expect(() => fitLinearRegression({ rows: 4, width: 1, values: [1, 2, Infinity, 4] }, [1, 2, 3, 4])).toThrow(/input 2, column 0 is Infinity/);
  });

  it('when the inputs are so large that their squares overflow (1e300), then it refuses instead of answering a zero model', () => {
    // numpy's lstsq (LAPACK scales) answers w = 1e-300, b = 0 here; a zero model would predict 0 for every row.
    expect(() => fitLinearRegression({ rows: 4, width: 1, values: [1e300, 2e300, 3e300, 4e300] }, [1, 2, 3, 4])).toThrow(/overflows double precision/);
  });
});

describe('logistic regression (Newton, L2 with C = 1)', () => {
  it.each(['logistic', 'logistic_collinear', 'logistic_separable'])('when fitted on %s, then the coefficients equal numpy within 1e-7', (name) => {
    const c = cases[name]!;
    const fit = fitLogisticRegression(designOf(c), c.y);
    expect(fit.converged).toBe(true);
    expectClose([...fit.weights, fit.bias], [...c.weights, c.bias], 1e-7);
    expect(fit.objective).toBeCloseTo(c.objective!, 9);
  });

  it('when fitted twice, then the coefficients are bit for bit the same', () => {
    const c = cases.logistic!;
    expect(fitLogisticRegression(designOf(c), c.y)).toEqual(fitLogisticRegression(designOf(c), c.y));
  });

  it('when an input is NaN or infinite, then it refuses naming the cell', () => {
    expect(() => fitLogisticRegression({ rows: 4, width: 1, values: [-2, Infinity, 1, 2] }, [0, 0, 1, 1])).toThrow(/input 1, column 0 is Infinity, not a finite number/);
  });

  it('when the inputs are so large that the Hessian overflows (1e300), then it refuses instead of reporting a converged zero model', () => {
    expect(() => fitLogisticRegression({ rows: 4, width: 1, values: [-2e300, -1e300, 1e300, 2e300] }, [0, 0, 1, 1])).toThrow(/overflows double precision/);
  });

  it('when the rows hold one class only, then INSUFFICIENT_DATA says so', () => {
    expect(() => fitLogisticRegression({ rows: 3, width: 1, values: [1, 2, 3] }, [1, 1, 1])).toThrow(/one class only \(3 of 3 positive\)/);
  });
});

describe('fits in steps (a worker stays responsive while it fits)', () => {
  const fits: [string, (c: Case) => Steps<unknown>, (c: Case) => unknown][] = [
    ['linear', (c) => linearRegressionSteps(designOf(c), c.y), (c) => fitLinearRegression(designOf(c), c.y)],
    ['logistic', (c) => logisticRegressionSteps(designOf(c), c.y), (c) => fitLogisticRegression(designOf(c), c.y)],
  ];
  it.each(fits)('when the %s fit is run pausing between steps, then other work runs during it and the result is bit for bit the one-go fit', async (name, steps, oneGo) => {
    const c = cases[name]!;
    let pauses = 0;
    let interleaved = 0;
    // Work queued by someone else while the fit runs: it must get turns before the fit ends.
    const other = setInterval(() => (interleaved += 1), 0);
    try {
      const fit = await runStepsPausing(steps(c), async () => {
        pauses += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      });
      expect(fit).toEqual(oneGo(c));
    } finally {
      clearInterval(other);
    }
    expect(pauses).toBeGreaterThan(1);
    expect(interleaved).toBeGreaterThan(0);
  });

  it('when steps are run at once, then nothing pauses and the result is the same as pausing', async () => {
    const c = cases.logistic!;
    const pausing = await runStepsPausing(logisticRegressionSteps(designOf(c), c.y), () => Promise.resolve());
    expect(runSteps(logisticRegressionSteps(designOf(c), c.y))).toEqual(pausing);
  });
});

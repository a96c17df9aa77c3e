import type { ClassificationData, RegressionData } from '../../../shared/domain/metrics';
import { seededRandom } from '../../../shared/domain/random';

/** A noisy linear regression: predictions = actual + N(0.5, 2) noise (Box-Muller). */
export function aRegressionSample(n: number, seed = 1): RegressionData {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const actual = new Float64Array(n);
  const predicted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    actual[i] = 20 + 5 * normal();
    predicted[i] = actual[i]! + 0.5 + 2 * normal();
  }
  return { actual, predicted };
}

/** A binary classifier whose positive-class probability is informative but noisy. */
export function aBinarySample(n: number, seed = 2): ClassificationData {
  const random = seededRandom(seed);
  const actual = new Int32Array(n);
  const probabilities = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = random.next() < 0.4 ? 1 : 0;
    const p = Math.min(0.99, Math.max(0.01, 0.3 + 0.35 * a + 0.5 * (random.next() - 0.5)));
    actual[i] = a;
    probabilities[2 * i] = 1 - p;
    probabilities[2 * i + 1] = p;
  }
  return { actual, probabilities, classCount: 2 };
}

/** A k-class classifier; `classOf(i)` fixes the actual class of row i. */
export function aMulticlassSample(n: number, k: number, classOf: (i: number) => number, seed = 3): ClassificationData {
  const random = seededRandom(seed);
  const actual = new Int32Array(n);
  const probabilities = new Float64Array(k * n);
  for (let i = 0; i < n; i++) {
    const a = classOf(i);
    actual[i] = a;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const v = random.next() + (c === a ? 0.6 : 0);
      probabilities[i * k + c] = v;
      sum += v;
    }
    for (let c = 0; c < k; c++) probabilities[i * k + c]! /= sum;
  }
  return { actual, probabilities, classCount: k };
}

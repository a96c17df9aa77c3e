import { seededRandom } from '../../../shared/domain/random';
import { projectOnComponents } from '../../../shared/domain/transforms/pca';

/** The projection one column at a time: the order of additions the fast kernel must keep. */
function columnAtATime(inputs: Float64Array[], mean: number[], components: number[][], n: number): Float64Array[] {
  return components.map((component) => {
    const out = new Float64Array(n);
    inputs.forEach((x, j) => {
      for (let i = 0; i < n; i += 1) out[i] = out[i]! + component[j]! * (x[i]! - mean[j]!);
    });
    return out;
  });
}

describe('PCA projection', () => {
  const random = seededRandom(17);
  const n = 257;
  const shapes = [1, 2, 3, 4, 5, 7].flatMap((k) => [2, 3, 4, 5, 8, 9, 13].map((p) => [k, p] as const));

  it.each(shapes)(
    'when projecting on %i component(s) of %i columns, then every value is bit-identical to summing one column at a time',
    (k, p) => {
      // Magnitudes spread over many orders, so a different order of additions would show.
      const inputs = Array.from({ length: p }, () =>
        Float64Array.from({ length: n }, () => (random.next() - 0.5) * 10 ** random.int(12)),
      );
      const mean = Array.from({ length: p }, () => random.next() * 100);
      const components = Array.from({ length: k }, () => Array.from({ length: p }, () => random.next() - 0.5));
      const outs = components.map(() => new Float64Array(n));

      projectOnComponents(inputs, mean, components, outs, n);

      expect(outs).toEqual(columnAtATime(inputs, mean, components, n));
    },
  );
});

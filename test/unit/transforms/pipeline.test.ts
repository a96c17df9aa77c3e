import { applyTransforms, fitTransforms, type TransformSpecInput } from '../../../shared/domain/transforms';
import { aBatch, rowsOf } from './builders';

describe('fitTransforms and applyTransforms', () => {
  it('when a spec imputes, standardizes and one-hot encodes, then the matrix follows the output order', () => {
    const spec: TransformSpecInput = {
      specVersion: 1,
      steps: [
        { type: 'impute', columns: ['x'], strategy: 'mean' },
        { type: 'standardize', columns: ['x'], outputs: ['x_std'] },
        { type: 'one_hot', column: 'color' },
      ],
      output: ['color_blue', 'x_std', 'color_red'],
    };
    const training = aBatch({ x: [1, 2, 3, null], color: ['red', 'blue', 'red', 'blue'] });
    const fitted = fitTransforms(spec, training);

    // x imputed with 2 -> [1, 2, 3, 2]: mean 2, population std sqrt(0.5).
    const s = Math.sqrt(0.5);
    const { matrix, keptRows, rejected } = applyTransforms(
      fitted,
      aBatch({ x: [4, null], color: ['blue', 'red'] }),
    );
    expect(rejected).toEqual([]);
    expect(Array.from(keptRows)).toEqual([0, 1]);
    expect(matrix.names).toEqual(['color_blue', 'x_std', 'color_red']);
    const rows = rowsOf(matrix);
    expect(rows[0]![0]).toBe(1);
    expect(rows[0]![1]).toBeCloseTo(2 / s, 6);
    expect(rows[0]![2]).toBe(0);
    expect(rows[1]).toEqual([0, 0, 1]);
  });
});

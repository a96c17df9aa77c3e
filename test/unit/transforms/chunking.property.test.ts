import fc from 'fast-check';

import type { RowBatch } from '../../../shared/domain/tabular';
import { applyTransforms, fittedTransformsSchema, fitTransforms } from '../../../shared/domain/transforms';
import { aBatch } from './builders';

const fitted = fitTransforms(
  {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['a'], strategy: 'median' },
      { type: 'log1p', columns: ['b'], outputs: ['log_b'] },
      { type: 'derived', output: 'ratio', expression: 'a / (b - 1)' },
      { type: 'one_hot', column: 'c', categories: ['x', 'y'], unseen: 'error' },
      { type: 'pca', columns: ['a', 'log_b', 'ratio'], nComponents: 2 },
      { type: 'standardize', columns: ['a'] },
    ],
    output: ['a', 'log_b', 'c_x', 'c_y', 'pca_0', 'pca_1'],
  },
  aBatch({ a: [1, 2, 3, 4, 5, null], b: [0, 2, 3, 5, 8, 13], c: ['x', 'y', 'x', 'y', 'x', 'y'] }),
);

const slice = (batch: RowBatch, start: number, end: number): RowBatch => ({
  rowCount: end - start,
  numeric: Object.fromEntries(Object.entries(batch.numeric).map(([k, v]) => [k, v.slice(start, end)])),
  categorical: Object.fromEntries(
    Object.entries(batch.categorical).map(([k, v]) => [k, v.slice(start, end)]),
  ),
});

const batchOf = (rows: ReadonlyArray<{ a: number | null; b: number; c: string | null }>): RowBatch => ({
  rowCount: rows.length,
  numeric: {
    a: Float64Array.from(rows, (r) => r.a ?? NaN),
    b: Float64Array.from(rows, (r) => r.b),
  },
  categorical: { c: rows.map((r) => r.c) },
});

// Values that exercise every rejection path: missing a, b <= -1 (log1p), b == 1 (division by
// zero), unseen and missing categories.
const row = fc.record({
  a: fc.oneof(fc.constant(null), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  b: fc.oneof(fc.constantFrom(-3, -1, 1), fc.double({ min: -0.99, max: 1e6, noNaN: true })),
  c: fc.constantFrom('x', 'y', 'z', null),
});

describe('applying transforms chunk by chunk', () => {
  it('when a batch is split anywhere, then the parts give exactly the rows, values and reasons of the whole', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 60 }), fc.nat(), (rows, cut) => {
        const batch = batchOf(rows);
        const at = cut % (rows.length + 1);
        const whole = applyTransforms(fitted, batch);
        const first = applyTransforms(fitted, slice(batch, 0, at));
        const second = applyTransforms(fitted, slice(batch, at, rows.length));

        expect(Array.from(whole.matrix.values)).toEqual([...first.matrix.values, ...second.matrix.values]);
        expect(Array.from(whole.keptRows)).toEqual([
          ...first.keptRows,
          ...Array.from(second.keptRows, (r) => r + at),
        ]);
        expect(whole.rejected).toEqual([
          ...first.rejected,
          ...second.rejected.map((r) => ({ ...r, row: r.row + at })),
        ]);
        expect(whole.matrix.rows + whole.rejected.length).toBe(rows.length);
      }),
      { numRuns: 200 },
    );
  });

  it('when the fitted transforms go through JSON, then the output is bit-identical', () => {
    const restored = fittedTransformsSchema.parse(JSON.parse(JSON.stringify(fitted)));
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), (rows) => {
        const batch = batchOf(rows);
        const a = applyTransforms(fitted, batch);
        const b = applyTransforms(restored, batch);
        expect(Buffer.from(b.matrix.values.buffer, 0, b.matrix.values.byteLength)).toEqual(
          Buffer.from(a.matrix.values.buffer, 0, a.matrix.values.byteLength),
        );
        expect(b.rejected).toEqual(a.rejected);
      }),
      { numRuns: 100 },
    );
  });
});

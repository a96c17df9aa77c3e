import { seededRandom } from '../../../shared/domain/random';
import type { RowBatch } from '../../../shared/domain/tabular';
import { applyTransforms, fittedTransformsSchema, fitTransforms, type TransformSpecInput } from '../../../shared/domain/transforms';
import { rowsOf } from './builders';

// A one-hot step whose outputs no later step reads writes its ones straight into the matrix; one
// whose outputs a later step reads fills frame columns. Both must give the rows a plain
// reading of the docs gives, across blocks of rows (4,096 a block) and around rejected rows.

const CATEGORIES = ['a', 'b', 'c'];
const ROWS = 10_000;

/** Values of `c`: mostly known categories, some unseen ('zebra'), some missing; `x` numeric. */
function scoringBatch(seed: number): RowBatch {
  const random = seededRandom(seed);
  const c = Array.from({ length: ROWS }, () => {
    const r = random.next();
    if (r < 0.05) return null;
    if (r < 0.1) return 'zebra';
    return CATEGORIES[random.int(CATEGORIES.length)]!;
  });
  // Runs of rejected rows right before each block boundary: the rows of the next block are
  // written where the squeezed-out ones were.
  for (let i = 4_090; i < 4_096; i += 1) c[i] = null;
  for (let i = 8_180; i < 8_192; i += 1) c[i] = 'zebra';
  const x = Float64Array.from({ length: ROWS }, () => random.next() * 10);
  return { rowCount: ROWS, numeric: { x }, categorical: { c } };
}

const training: RowBatch = {
  rowCount: 3,
  numeric: { x: Float64Array.from([1, 2, 3]) },
  categorical: { c: ['a', 'b', 'c'] },
};

type Policy = 'ignore' | 'error' | 'other';

/** What the docs say each row becomes: a vector of [x, c_a, c_b, c_c(, c___other__)] or a reason. */
function expected(batch: RowBatch, policy: Policy) {
  const rows: number[][] = [];
  const keptRows: number[] = [];
  const rejected: { row: number; reason: string }[] = [];
  const x = batch.numeric.x!;
  batch.categorical.c!.forEach((v, row) => {
    if (v === null) {
      rejected.push({ row, reason: "step 1 (one_hot): missing value in categorical 'c' (no imputer)" });
      return;
    }
    const known = CATEGORIES.indexOf(v);
    if (known < 0 && policy === 'error') {
      rejected.push({ row, reason: `step 1 (one_hot): unseen category "${v}" in 'c'` });
      return;
    }
    const ones = CATEGORIES.map((_, k) => (k === known ? 1 : 0));
    if (policy === 'other') ones.push(known < 0 ? 1 : 0);
    rows.push([Math.fround(x[row]!), ...ones]);
    keptRows.push(row);
  });
  return { rows, keptRows, rejected };
}

const outputsOf = (policy: Policy) => [
  'c_a',
  'c_b',
  'c_c',
  ...(policy === 'other' ? ['c___other__'] : []),
];

describe('one-hot outputs in the matrix', () => {
  it.each<Policy>(['ignore', 'error', 'other'])(
    'when no later step reads the outputs and the policy is %s, then every row, across blocks and after rejected rows, has its ones and only them',
    (policy) => {
      const spec: TransformSpecInput = {
        specVersion: 1,
        steps: [{ type: 'one_hot', column: 'c', categories: CATEGORIES, unseen: policy }],
        output: ['x', ...outputsOf(policy)],
      };
      const batch = scoringBatch(7);
      const result = applyTransforms(fitTransforms(spec, training), batch);
      const want = expected(batch, policy);

      expect(result.rejected).toEqual(want.rejected);
      expect(Array.from(result.keptRows)).toEqual(want.keptRows);
      expect(rowsOf(result.matrix)).toEqual(want.rows);
    },
  );

  it.each<Policy>(['ignore', 'error', 'other'])(
    'when a later step reads the outputs and the policy is %s, then the rows are the same as when none does',
    (policy) => {
      const outputs = outputsOf(policy);
      const spec: TransformSpecInput = {
        specVersion: 1,
        steps: [
          { type: 'one_hot', column: 'c', categories: CATEGORIES, unseen: policy },
          { type: 'derived', output: 'first_or_x', expression: 'c_a * x' },
        ],
        output: ['x', ...outputs],
      };
      const batch = scoringBatch(11);
      const result = applyTransforms(fitTransforms(spec, training), batch);
      const want = expected(batch, policy);

      expect(result.rejected).toEqual(want.rejected);
      expect(rowsOf(result.matrix)).toEqual(want.rows);
    },
  );

  it('when the outputs are listed in another order or only in part, then each lands in its own column', () => {
    const spec: TransformSpecInput = {
      specVersion: 1,
      steps: [{ type: 'one_hot', column: 'c', categories: CATEGORIES, unseen: 'ignore' }],
      output: ['c_c', 'x', 'c_a'],
    };
    const batch: RowBatch = {
      rowCount: 4,
      numeric: { x: Float64Array.from([1, 2, 3, 4]) },
      categorical: { c: ['a', 'b', 'c', 'zebra'] },
    };
    const result = applyTransforms(fitTransforms(spec, training), batch);
    expect(rowsOf(result.matrix)).toEqual([
      [0, 1, 1],
      [0, 2, 0],
      [1, 3, 0],
      [0, 4, 0],
    ]);
  });

  it('when a stored artifact names a one-hot output twice, then the matrix holds what the frame path gives (the last write wins)', () => {
    const step = { type: 'one_hot' as const, column: 'c', categories: ['a', 'b'], unseen: 'ignore' as const, outputs: ['o', 'o'] };
    const fitted = fittedTransformsSchema.parse({
      specVersion: 1,
      specHash: '0'.repeat(64),
      inputs: [{ name: 'c', kind: 'categorical' }],
      output: ['o'],
      steps: [step],
      trainingRows: 1,
      fittedRows: 1,
    });
    // The same step followed by one that reads 'o', which keeps it on the frame path.
    const throughFrame = fittedTransformsSchema.parse({
      ...fitted,
      steps: [step, { type: 'clip', columns: ['o'], outputs: ['o'], lower: [null], upper: [null] }],
    });
    const batch: RowBatch = { rowCount: 3, numeric: {}, categorical: { c: ['a', 'b', 'z'] } };
    expect(rowsOf(applyTransforms(throughFrame, batch).matrix)).toEqual([[0], [1], [0]]);
    expect(rowsOf(applyTransforms(fitted, batch).matrix)).toEqual([[0], [1], [0]]);
  });

  it('when categories look alike at both ends, are empty, or arrive as different string objects, then each row gets its own category', () => {
    // Same length and same first, middle and last characters: the lookup cache cannot tell them
    // apart by its slot, only by comparing the strings.
    const alike = Array.from({ length: 12 }, (_, k) => `c${String.fromCharCode(97 + k)}cccccz`);
    const categories = [...alike, ''];
    const random = seededRandom(5);
    // Built at run time, so they are other string objects than the fitted categories.
    const c = Array.from({ length: 6_000 }, () => categories[random.int(categories.length)]!.split('').join(''));
    const spec: TransformSpecInput = {
      specVersion: 1,
      steps: [{ type: 'one_hot', column: 'c', categories, unseen: 'error', prefix: 'is_' }],
      output: categories.map((v) => `is_${v}`),
    };
    const fitted = fitTransforms(spec, { rowCount: 1, numeric: {}, categorical: { c: [alike[0]!] } });
    const result = applyTransforms(fitted, { rowCount: c.length, numeric: {}, categorical: { c } });

    expect(result.rejected).toEqual([]);
    expect(rowsOf(result.matrix)).toEqual(c.map((v) => categories.map((k) => (k === v ? 1 : 0))));
  });
});

import { DomainError } from '../../../shared/domain/errors';
import { seededRandom } from '../../../shared/domain/random';
import {
  groupHoldOutSplits,
  kFoldSplits,
  makeSplits,
  MAX_GROUPS,
  randomSplit,
  type Split,
  stratifiedKFoldSplits,
  timeSplit,
} from '../../../shared/domain/splits';
import { validationSplitSchema } from '../../../shared/schemas/policies';

/** Train and test are ascending, disjoint, and together exactly `rows` (all rows by default). */
function expectPartition(split: Split, rows: number[]) {
  const isAscending = (a: Int32Array) => a.every((v, i) => i === 0 || a[i - 1]! < v);
  expect(isAscending(split.train) && isAscending(split.test)).toBe(true);
  const test = new Set(split.test);
  expect(split.train.some((i) => test.has(i))).toBe(false);
  expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual(rows);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('random split', () => {
  it('when splitting 101 rows with a 0.2 test fraction, then 21 rows validate and all rows are covered once', () => {
    const [split] = randomSplit(101, { testFraction: 0.2, seed: 42 });
    expect(split!.name).toBe('random');
    expect(split!.test).toHaveLength(21);
    expectPartition(split!, range(101));
  });

  it('when the seed is the same, then the split is the same; another seed gives another split', () => {
    const a = randomSplit(500, { testFraction: 0.3, seed: 1 });
    expect(randomSplit(500, { testFraction: 0.3, seed: 1 })).toEqual(a);
    expect(randomSplit(500, { testFraction: 0.3, seed: 2 })[0]!.test).not.toEqual(a[0]!.test);
  });

  it('when there is a single row, then it is insufficient data', () => {
    expect(() => randomSplit(1, { testFraction: 0.2, seed: 1 })).toThrow(expect.objectContaining({ code: 'INSUFFICIENT_DATA' }));
  });
});

describe('k-fold', () => {
  it('when splitting 103 rows in 5 folds, then test folds are disjoint, cover every row once and differ in size by at most one', () => {
    const splits = kFoldSplits(103, { k: 5, seed: 42 });
    expect(splits.map((s) => s.name)).toEqual(['kfold:1/5', 'kfold:2/5', 'kfold:3/5', 'kfold:4/5', 'kfold:5/5']);
    expect(splits.map((s) => s.test.length)).toEqual([21, 21, 21, 20, 20]);
    for (const s of splits) expectPartition(s, range(103));
    expect(splits.flatMap((s) => [...s.test]).sort((a, b) => a - b)).toEqual(range(103));
  });

  it('when the seed is the same, then the folds are the same', () => {
    expect(kFoldSplits(60, { k: 3, seed: 9 })).toEqual(kFoldSplits(60, { k: 3, seed: 9 }));
    expect(kFoldSplits(60, { k: 3, seed: 9 })[0]!.test).not.toEqual(kFoldSplits(60, { k: 3, seed: 10 })[0]!.test);
  });

  it('when there are fewer rows than folds, then it is insufficient data', () => {
    expect(() => kFoldSplits(4, { k: 5, seed: 1 })).toThrow(expect.objectContaining({ code: 'INSUFFICIENT_DATA' }));
  });
});

describe('stratified k-fold', () => {
  // Unbalanced classes in scrambled order: 97 of class 0, 41 of class 1, 13 of class 2, 3 of class 3.
  const counts = [97, 41, 13, 3];
  const classes = Int32Array.from(counts.flatMap((n, c) => Array<number>(n).fill(c)));
  const random = seededRandom(5);
  for (let i = classes.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [classes[i], classes[j]] = [classes[j]!, classes[i]!];
  }

  it('when classes are unbalanced, then each fold holds floor or ceil of count/k rows of every class', () => {
    const k = 5;
    const splits = stratifiedKFoldSplits(classes, { k, seed: 42 });
    expect(splits).toHaveLength(k);
    for (const s of splits) {
      expectPartition(s, range(classes.length));
      counts.forEach((count, c) => {
        const inFold = s.test.filter((i) => classes[i] === c).length;
        expect(Math.abs(inFold - count / k)).toBeLessThan(1);
      });
    }
    const sizes = splits.map((s) => s.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(splits.flatMap((s) => [...s.test]).sort((a, b) => a - b)).toEqual(range(classes.length));
  });

  it('when the seed is the same, then the folds are the same', () => {
    expect(stratifiedKFoldSplits(classes, { k: 4, seed: 3 })).toEqual(stratifiedKFoldSplits(classes, { k: 4, seed: 3 }));
    expect(stratifiedKFoldSplits(classes, { k: 4, seed: 3 })[0]!.test).not.toEqual(
      stratifiedKFoldSplits(classes, { k: 4, seed: 4 })[0]!.test,
    );
  });
});

describe('time split', () => {
  const day = 86_400_000;
  const start = Date.parse('2026-01-01T00:00:00Z');
  // Rows out of time order, with ties (two rows per day) and one missing timestamp.
  const days = [9, 3, 7, 0, 5, 1, 8, 2, 6, 4, 9, 3, 7, 0, 5, 1, 8, 2, 6, 4];
  const timestamps = Float64Array.from(days, (d) => start + d * day);
  timestamps[4] = NaN;

  it('when a cutoff is given, then rows before it train, rows at or after it validate, undated rows are in neither', () => {
    const [split] = timeSplit(timestamps, { cutoff: '2026-01-08T00:00:00Z', testFraction: 0.2 });
    expect(split!.name).toBe('time:2026-01-08T00:00:00.000Z');
    expectPartition(split!, range(20).filter((i) => i !== 4));
    expect([...split!.test].map((i) => days[i])).toEqual([9, 7, 8, 9, 7, 8]);
  });

  it('when only a fraction is given, then the latest rows validate and every training row is strictly earlier', () => {
    const [split] = timeSplit(timestamps, { testFraction: 0.25 });
    const latestTrain = Math.max(...[...split!.train].map((i) => timestamps[i]!));
    const earliestTest = Math.min(...[...split!.test].map((i) => timestamps[i]!));
    expect(latestTrain).toBeLessThan(earliestTest);
    // 19 dated rows, ceil(0.25 × 19) = 5 -> days 9, 9, 8, 8, 7 and the other day-7 row joins them.
    expect(split!.test).toHaveLength(6);
    expectPartition(split!, range(20).filter((i) => i !== 4));
  });

  it('when every row has the same timestamp, then it is insufficient data', () => {
    expect(() => timeSplit(new Float64Array(10).fill(start), { testFraction: 0.2 })).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_DATA' }),
    );
  });

  it('when every timestamp is the same or a cutoff finds none, then the reason says so (the evidence keeps only the message)', () => {
    expect(() => timeSplit(new Float64Array(10).fill(start), { testFraction: 0.2 })).toThrow(
      'the time split at 2026-01-01T00:00:00.000Z leaves no rows on one side: 0 rows before it, 10 at or after it; all 10 timestamps are 2026-01-01T00:00:00.000Z',
    );
    expect(() => timeSplit(new Float64Array(10).fill(NaN), { cutoff: '2026-01-08T00:00:00Z', testFraction: 0.2 })).toThrow(
      'the time split at 2026-01-08T00:00:00.000Z leaves no rows on one side: 0 rows before it, 0 at or after it; 10 of 10 rows have no timestamp',
    );
    expect(() => timeSplit(timestamps, { cutoff: '2027-01-01T00:00:00Z', testFraction: 0.2 })).toThrow(
      'the time split at 2027-01-01T00:00:00.000Z leaves no rows on one side: 19 rows before it, 0 at or after it; 1 of 20 rows have no timestamp',
    );
  });

  it('when the cutoff is not a date, then it is a validation error', () => {
    expect(() => timeSplit(timestamps, { cutoff: 'soon', testFraction: 0.2 })).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});

describe('group hold-out', () => {
  const region = ['north', 'south', null, 'east', 'north', 'east', 'south', 'north', null, 'east'];

  it('when leaving one group out, then there is one split per group with exactly that group validating', () => {
    const splits = groupHoldOutSplits(region, 'region');
    expect(splits.map((s) => s.name)).toEqual(['group:region=east', 'group:region=north', 'group:region=south']);
    for (const s of splits) {
      expectPartition(s, range(region.length));
      const group = s.name.split('=')[1];
      expect([...s.test].every((i) => region[i] === group)).toBe(true);
      expect([...s.train].some((i) => region[i] === group)).toBe(false);
      expect([...s.train]).toEqual(expect.arrayContaining([2, 8]));
    }
  });

  it('when the column has more values than MAX_GROUPS (an id: one group per row), then it is a validation error naming the count, not one partition per row', () => {
    const ids = range(20_000).map((i) => `customer-${i}`);
    expect(() => groupHoldOutSplits(ids, 'customer_id')).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        message: `a group split on customer_id would hold out 20000 groups one by one, more than the ${MAX_GROUPS} a validation evaluates: group by a column with fewer values`,
      }),
    );
    expect(groupHoldOutSplits(range(MAX_GROUPS).map((i) => `g${i}`))).toHaveLength(MAX_GROUPS);
  });

  it('when there is only one group, then it is insufficient data', () => {
    expect(() => groupHoldOutSplits(['a', 'a', null])).toThrow(DomainError);
  });
});

describe('makeSplits from policy configs', () => {
  const source = {
    rowCount: 40,
    timestamps: Float64Array.from(range(40), (i) => 1_700_000_000_000 + i * 1000),
    classes: Int32Array.from(range(40), (i) => i % 2),
    column: (name: string) => (name === 'region' ? range(40).map((i) => (i < 20 ? 'a' : 'b')) : undefined),
  };

  it.each([
    [{ kind: 'random' }, 1],
    [{ kind: 'kfold', k: 4 }, 4],
    [{ kind: 'stratified' }, 5],
    [{ kind: 'time', testFraction: 0.25 }, 1],
    [{ kind: 'group', column: 'region' }, 2],
  ])('when the config is %j, then it yields %i partition(s) of the rows', (input, expected) => {
    const splits = makeSplits(validationSplitSchema.parse(input), source);
    expect(splits).toHaveLength(expected);
    for (const s of splits) expectPartition(s, range(40));
  });

  it('when a split needs data the source lacks, then a validation error names it', () => {
    expect(() => makeSplits(validationSplitSchema.parse({ kind: 'group', column: 'season' }), source)).toThrow(/season/);
    expect(() => makeSplits(validationSplitSchema.parse({ kind: 'stratified' }), { rowCount: 40 })).toThrow(/class labels/);
    expect(() => makeSplits(validationSplitSchema.parse({ kind: 'time' }), { rowCount: 40 })).toThrow(/timestamp/);
  });
});

import type { ValidationSplit } from '../../schemas/policies';
import { errors } from '../errors';
import { type Random, seededRandom } from '../random';

/** One train/validation partition as row indices, each ascending. */
export interface Split {
  readonly name: string;
  readonly train: Int32Array;
  readonly test: Int32Array;
}

const tooFewRows = (message: string, details?: Record<string, unknown>) =>
  errors.insufficientData(message, details);

function shuffledRows(rows: Int32Array, random: Random): Int32Array {
  const out = rows.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

const allRows = (n: number) => {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
};

/** Splits the rows marked in `inTest` from the other rows (optionally only among `eligible`). */
function partition(name: string, inTest: Uint8Array, eligible?: Uint8Array): Split {
  let testCount = 0;
  let trainCount = 0;
  for (let i = 0; i < inTest.length; i++) {
    if (eligible && !eligible[i]) continue;
    if (inTest[i]) testCount++;
    else trainCount++;
  }
  const train = new Int32Array(trainCount);
  const test = new Int32Array(testCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < inTest.length; i++) {
    if (eligible && !eligible[i]) continue;
    if (inTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { name, train, test };
}

/** One seeded random hold-out of ceil(testFraction × n) rows, as sklearn's train_test_split. */
export function randomSplit(rowCount: number, options: { testFraction: number; seed: number }): Split[] {
  if (rowCount < 2) throw tooFewRows('a random split needs at least 2 rows', { rows: rowCount });
  const testCount = Math.min(rowCount - 1, Math.max(1, Math.ceil(options.testFraction * rowCount)));
  const order = shuffledRows(allRows(rowCount), seededRandom(options.seed));
  const inTest = new Uint8Array(rowCount);
  for (let i = 0; i < testCount; i++) inTest[order[i]!] = 1;
  return [partition('random', inTest)];
}

/**
 * Train on the past, validate on the future. With a cutoff, rows before it train and rows at or
 * after it validate; otherwise the latest ceil(testFraction × n) rows validate, extended so rows
 * sharing the boundary timestamp all validate (every training row is strictly earlier than every
 * validation row). Rows without a timestamp (NaN) are in neither set.
 */
export function timeSplit(
  timestamps: Float64Array,
  options: { cutoff?: string | number | undefined; testFraction: number },
): Split[] {
  const n = timestamps.length;
  const eligible = new Uint8Array(n);
  const dated: number[] = [];
  for (let i = 0; i < n; i++)
    if (!Number.isNaN(timestamps[i]!)) {
      eligible[i] = 1;
      dated.push(i);
    }
  let cutoff: number;
  if (options.cutoff !== undefined) {
    cutoff = typeof options.cutoff === 'number' ? options.cutoff : Date.parse(options.cutoff);
    if (Number.isNaN(cutoff)) throw errors.validation('time split cutoff is not a date', { cutoff: options.cutoff });
  } else {
    if (dated.length < 2) throw tooFewRows('a time split needs at least 2 rows with a timestamp', { rows: dated.length });
    dated.sort((a, b) => timestamps[a]! - timestamps[b]! || a - b);
    const testCount = Math.max(1, Math.ceil(options.testFraction * dated.length));
    cutoff = timestamps[dated[dated.length - testCount]!]!;
  }
  const inTest = new Uint8Array(n);
  for (const i of dated) if (timestamps[i]! >= cutoff) inTest[i] = 1;
  const at = new Date(cutoff).toISOString();
  const split = partition(`time:${at}`, inTest, eligible);
  if (split.train.length === 0 || split.test.length === 0) {
    // Evidence keeps the message only: say what the data looked like, not just that a side is empty.
    const first = timestamps[dated[0] ?? 0]!;
    const why = [
      `${split.train.length} rows before it, ${split.test.length} at or after it`,
      ...(dated.length > 1 && dated.every((i) => timestamps[i] === first) ? [`all ${dated.length} timestamps are ${new Date(first).toISOString()}`] : []),
      ...(dated.length < n ? [`${n - dated.length} of ${n} rows have no timestamp`] : []),
    ];
    throw tooFewRows(`the time split at ${at} leaves no rows on one side: ${why.join('; ')}`, {
      cutoff: at,
      train: split.train.length,
      test: split.test.length,
      undated: n - dated.length,
    });
  }
  return [split];
}

/**
 * The most groups a group split holds out one by one. Each is a partition of its own, evaluated
 * with both versions' metrics and bootstrap and kept in the evidence: a column with a value per
 * row (an id) would make as many partitions as rows, hours of work and an evidence bundle of
 * hundreds of megabytes.
 */
export const MAX_GROUPS = 100;

/**
 * Leave one group out: one split per distinct value of the group column (ascending), validating
 * on that group and training on all other rows. Rows without a value always train. At most
 * MAX_GROUPS groups (VALIDATION_ERROR beyond).
 */
export function groupHoldOutSplits(groupOf: ReadonlyArray<string | null>, column = 'group'): Split[] {
  const groups = [...new Set(groupOf.filter((g): g is string => g !== null))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (groups.length < 2) throw tooFewRows(`a group split needs at least 2 values of ${column}`, { column, groups: groups.length });
  if (groups.length > MAX_GROUPS)
    throw errors.validation(
      `a group split on ${column} would hold out ${groups.length} groups one by one, more than the ${MAX_GROUPS} a validation evaluates: group by a column with fewer values`,
      { column, groups: groups.length, limit: MAX_GROUPS },
    );
  return groups.map((group) => {
    const inTest = new Uint8Array(groupOf.length);
    for (let i = 0; i < groupOf.length; i++) if (groupOf[i] === group) inTest[i] = 1;
    return partition(`group:${column}=${group}`, inTest);
  });
}

function assignFolds(name: string, foldOf: Int32Array, k: number): Split[] {
  return Array.from({ length: k }, (_, f) => {
    const inTest = new Uint8Array(foldOf.length);
    for (let i = 0; i < foldOf.length; i++) if (foldOf[i] === f) inTest[i] = 1;
    return partition(`${name}:${f + 1}/${k}`, inTest);
  });
}

/** Seeded shuffled k-fold; the first n mod k folds hold one row more, as sklearn's KFold. */
export function kFoldSplits(rowCount: number, options: { k: number; seed: number }): Split[] {
  const { k } = options;
  if (rowCount < k) throw tooFewRows(`k-fold with k=${k} needs at least ${k} rows`, { rows: rowCount, k });
  const order = shuffledRows(allRows(rowCount), seededRandom(options.seed));
  const foldOf = new Int32Array(rowCount);
  const base = Math.floor(rowCount / k);
  const larger = rowCount % k;
  let position = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < larger ? 1 : 0);
    for (let j = 0; j < size; j++) foldOf[order[position++]!] = f;
  }
  return assignFolds('kfold', foldOf, k);
}

/**
 * Stratified k-fold: each class's rows are shuffled and dealt round-robin over the folds, starting
 * where the previous class stopped, so every fold holds floor or ceil of count/k rows of each
 * class and fold sizes differ by at most one row.
 */
export function stratifiedKFoldSplits(classes: Int32Array, options: { k: number; seed: number }): Split[] {
  const { k } = options;
  const n = classes.length;
  if (n < k) throw tooFewRows(`stratified k-fold with k=${k} needs at least ${k} rows`, { rows: n, k });
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = classes[i]!;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const random = seededRandom(options.seed);
  const foldOf = new Int32Array(n);
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const row of shuffledRows(Int32Array.from(byClass.get(c)!), random)) {
      foldOf[row] = next;
      next = (next + 1) % k;
    }
  }
  return assignFolds('stratified', foldOf, k);
}

/** What `makeSplits` may need from the validation data set. */
export interface SplitSource {
  readonly rowCount: number;
  /** Epoch milliseconds per row (the model's timestamp column), NaN when missing. */
  readonly timestamps?: Float64Array;
  /** Actual class index per row, for stratification. */
  readonly classes?: Int32Array;
  /** Values of a categorical column, for group hold-out. */
  readonly column?: (name: string) => ReadonlyArray<string | null> | undefined;
}

/** Builds the splits a `validationSplitSchema` config describes. */
export function makeSplits(config: ValidationSplit, source: SplitSource): Split[] {
  switch (config.kind) {
    case 'random':
      return randomSplit(source.rowCount, config);
    case 'kfold':
      return kFoldSplits(source.rowCount, config);
    case 'time':
      if (!source.timestamps) throw errors.validation('a time split needs the timestamp column');
      return timeSplit(source.timestamps, config);
    case 'stratified':
      if (!source.classes) throw errors.validation('a stratified split needs class labels (classification only)');
      return stratifiedKFoldSplits(source.classes, config);
    case 'group': {
      const values = source.column?.(config.column);
      if (!values) throw errors.validation(`a group split needs the column ${config.column}, which the data does not have`, { column: config.column });
      return groupHoldOutSplits(values, config.column);
    }
  }
}

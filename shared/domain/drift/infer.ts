/**
 * Column types for data without a model schema (the `mlops drift` CLI). Readers hand cells over
 * as loose values: numbers (NaN and infinities included, when a file spells or stores them), Date
 * for date-times (Parquet timestamps, ISO 8601 text), text, and null for empty cells.
 *
 * A column is `datetime` when at least 99% of its non-empty cells are date-times; else `numeric`
 * when at least 99% are numbers and more than CATEGORICAL_MAX_UNIQUE distinct finite values occur
 * (fewer count as categories, Evidently's rule); else `categorical`. NaN and infinities are numbers
 * (missing values of a numeric column, never categories), and the 1% of odd cells keeps a
 * handful of `n/a` or `?` cells from flipping a numeric column into categories. Cells left out of
 * the statistics are counted (LeftOut), never dropped silently.
 */
export const CATEGORICAL_MAX_UNIQUE = 5;

/** Share of a column's non-empty cells that may be of another kind without changing its type. */
export const ODD_CELL_SHARE = 0.01;

export type LooseValue = string | number | boolean | Date | null;

export type InferredType = 'numeric' | 'categorical' | 'datetime';

/** Cells of one sample left out of a column's statistics, by why. */
export interface LeftOut {
  /** Empty cells and nulls. */
  missing: number;
  nan: number;
  infinite: number;
  /** Cells that are not of the column's type (text in a numeric column, ...). */
  unparsed: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(nan|inf|infinity)$/i;

const isEmpty = (v: LooseValue): boolean => v === null || (typeof v === 'string' && v.trim() === '');

/** The value as a number (NaN and infinities too, stored or spelled), or undefined when it is not one. */
export function asNumber(v: LooseValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  if (NUMBER.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (!special) return undefined;
  if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

/** The type of a column seen across one or more samples (see the module comment). */
export function inferColumnType(samples: ReadonlyArray<readonly LooseValue[]>): InferredType {
  let nonEmpty = 0;
  let numbers = 0;
  let datetimes = 0;
  const distinct = new Set<number>();
  for (const values of samples) {
    for (const v of values) {
      if (isEmpty(v)) continue;
      nonEmpty += 1;
      if (v instanceof Date) {
        datetimes += 1;
        continue;
      }
      const n = asNumber(v);
      if (n === undefined) continue;
      numbers += 1;
      if (Number.isFinite(n) && distinct.size <= CATEGORICAL_MAX_UNIQUE) distinct.add(n);
    }
  }
  const odd = nonEmpty * ODD_CELL_SHARE;
  if (nonEmpty > 0 && nonEmpty - datetimes <= odd) return 'datetime';
  if (nonEmpty > 0 && nonEmpty - numbers <= odd && distinct.size > CATEGORICAL_MAX_UNIQUE) return 'numeric';
  return 'categorical';
}

/**
 * True for an id column: every row of every sample (each of at least `minRows` rows) has a value
 * of its own, and the values are text, or integers within a range at most twice the row count
 * (a counter). Such a column drifts by construction (new ids, later ids), so it is no feature.
 * A continuous or sparse numeric column is never one, however unique its values.
 */
export function isIdColumn(samples: ReadonlyArray<readonly LooseValue[]>, type: InferredType, minRows: number): boolean {
  if (type === 'datetime' || samples.length === 0) return false;
  for (const values of samples) {
    if (values.length < minRows) return false;
    const seen = new Set<string | number>();
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (isEmpty(v)) return false;
      let key: string | number;
      if (type === 'numeric') {
        const n = asNumber(v);
        if (n === undefined || !Number.isInteger(n)) return false;
        min = Math.min(min, n);
        max = Math.max(max, n);
        key = n;
      } else key = String(v);
      if (seen.has(key)) return false;
      seen.add(key);
    }
    if (type === 'numeric' && max - min + 1 > 2 * values.length) return false;
  }
  return true;
}

const noneLeftOut = (): LeftOut => ({ missing: 0, nan: 0, infinite: 0, unparsed: 0 });

/**
 * A numeric (or, for `datetime`, epoch-millisecond) column: NaN marks every cell left out, and
 * `leftOut` says why each was.
 */
export function toNumericColumn(values: readonly LooseValue[], type: 'numeric' | 'datetime' = 'numeric'): { values: Float64Array; leftOut: LeftOut } {
  const leftOut = noneLeftOut();
  const out = new Float64Array(values.length);
  values.forEach((v, i) => {
    out[i] = Number.NaN;
    if (isEmpty(v)) leftOut.missing += 1;
    else if (v instanceof Date) {
      if (type === 'datetime' && !Number.isNaN(v.getTime())) out[i] = v.getTime();
      else leftOut.unparsed += 1;
    } else {
      const n = type === 'numeric' ? asNumber(v) : undefined;
      if (n === undefined) leftOut.unparsed += 1;
      else if (Number.isNaN(n)) leftOut.nan += 1;
      else if (!Number.isFinite(n)) leftOut.infinite += 1;
      else out[i] = n;
    }
  });
  return { values: out, leftOut };
}

/**
 * Category labels; numbers are written canonically so "1.0" and "1" are one category, date-times
 * as ISO text. NaN and infinities are missing numbers, not categories: left out and counted.
 */
export function toCategoricalColumn(values: readonly LooseValue[]): { values: Array<string | null>; leftOut: LeftOut } {
  const leftOut = noneLeftOut();
  const out = values.map((v): string | null => {
    if (isEmpty(v)) {
      leftOut.missing += 1;
      return null;
    }
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    const n = asNumber(v);
    if (n === undefined) return String(v);
    if (Number.isNaN(n)) leftOut.nan += 1;
    else if (!Number.isFinite(n)) leftOut.infinite += 1;
    else return String(n);
    return null;
  });
  return { values: out, leftOut };
}

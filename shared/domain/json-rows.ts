import { InexactJsonNumber } from './json-number';
import type { RawRows } from './raw-rows';

/** A JSON cell as a client sends it; a number the double does not hold as written may come with its text. */
export type JsonCell = string | number | boolean | null | InexactJsonNumber;

const isEmpty = (cell: JsonCell | undefined) => cell === undefined || cell === null || (typeof cell === 'string' && cell.trim() === '');

/**
 * A number written as text, read as the CSV and Parquet readers read one
 * (shared/adapters/tabular/parse-number.ts): decimal digits with an optional sign, point and
 * exponent, spaces around; `nan`, `inf`, `infinity` in any case. Not `Number()`, which also reads
 * `0x10` as 16, `0b11` as 3 and strips tabs: the same text must not score in a request and be
 * rejected in a drop.
 */
const DECIMAL = /^ *[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)? *$/;
const SPECIAL = /^ *([+-]?)(nan|inf|infinity) *$/i;

function numberOfText(text: string): number {
  if (DECIMAL.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (!special || special[2]!.toLowerCase() === 'nan') return NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

/**
 * A number JSON carries as sent: finite, and whole only up to ±(2^53 - 1), past which doubles skip
 * whole numbers (an int64 key such as 9007199254740993 arrives as ...992). A fraction is kept as
 * its shortest round-trip text, which is the number sent when it had at most 15 significant digits;
 * one with more digits than the double holds is told only by its text (an InexactJsonNumber cell).
 */
export const isExactJsonNumber = (value: number): boolean => Number.isFinite(value) && (Number.isSafeInteger(value) || !Number.isInteger(value));

/** The fields of rows given as JSON: the union of their keys, in the order first seen. */
export function jsonFieldNames(rows: readonly Readonly<Record<string, JsonCell>>[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row)) names.add(name);
  return [...names];
}

/**
 * Rows given as JSON objects (the synchronous scoring API), read through the same RawRows
 * interface as CSV and Parquet so they are validated by the same rules: the columns are `columns`
 * (by default the union of the objects' keys), a missing key is a missing value, numbers and
 * booleans keep their value.
 */
export function jsonRows(rows: readonly Readonly<Record<string, JsonCell>>[], columns: readonly string[] = jsonFieldNames(rows)): RawRows {
  // Own fields only: a row without `constructor` must not read Object.prototype's.
  const cell = (column: number, row: number): JsonCell | undefined => {
    const fields = rows[row]!;
    const name = columns[column]!;
    return Object.hasOwn(fields, name) ? fields[name] : undefined;
  };
  const text = (column: number, row: number): string | null => {
    const value = cell(column, row);
    if (value instanceof InexactJsonNumber) return String(value.value);
    return isEmpty(value) ? null : String(value);
  };
  return {
    columns,
    rowCount: rows.length,
    rowNumber: (row) => row + 1,
    fieldCount: () => columns.length,
    defect: () => undefined,
    isEmpty: (column, row) => isEmpty(cell(column, row)),
    number: (column, row) => {
      const value = cell(column, row);
      if (typeof value === 'number') return value;
      if (value instanceof InexactJsonNumber) return value.value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (isEmpty(value)) return NaN;
      return numberOfText(String(value));
    },
    text,
    lossyNumber: (column, row) => {
      const value = cell(column, row);
      return value instanceof InexactJsonNumber || (typeof value === 'number' && !isExactJsonNumber(value));
    },
    rawCells: (row) => columns.map((_, c) => text(c, row)),
  };
}

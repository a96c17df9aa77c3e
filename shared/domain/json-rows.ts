import type { RawRows } from './raw-rows';

/** A JSON cell as a client sends it. */
export type JsonCell = string | number | boolean | null;

const isEmpty = (cell: JsonCell | undefined) => cell === undefined || cell === null || (typeof cell === 'string' && cell.trim() === '');

/**
 * Rows given as JSON objects (the synchronous scoring API), read through the same RawRows
 * interface as CSV and Parquet so they are validated by the same rules: the columns are the union
 * of the objects' keys, a missing key is a missing value, numbers and booleans keep their value.
 */
export function jsonRows(rows: readonly Readonly<Record<string, JsonCell>>[]): RawRows {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (column: number, row: number): JsonCell | undefined => rows[row]![columns[column]!];
  const text = (column: number, row: number): string | null => {
    const value = cell(column, row);
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
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (isEmpty(value)) return NaN;
      const parsed = Number(String(value).trim());
      return String(value).trim() === '' ? NaN : parsed;
    },
    text,
    rawCells: (row) => columns.map((_, c) => text(c, row)),
  };
}

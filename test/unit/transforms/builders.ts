import type { RowBatch } from '../../../shared/domain/tabular';

/** A RowBatch from columns written as plain arrays: numbers (null = missing) or strings. */
export function aBatch(columns: Record<string, ReadonlyArray<number | string | null>>): RowBatch {
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  let rowCount = 0;
  for (const [name, values] of Object.entries(columns)) {
    rowCount = values.length;
    if (values.some((v) => typeof v === 'string'))
      categorical[name] = values.map((v) => (v === null ? null : String(v)));
    else numeric[name] = Float64Array.from(values, (v) => (v === null ? NaN : Number(v)));
  }
  return { rowCount, numeric, categorical };
}

/** The matrix as an array of rows (numbers), for readable assertions. */
export function rowsOf(matrix: { rows: number; width: number; values: Float32Array }): number[][] {
  return Array.from({ length: matrix.rows }, (_, i) =>
    Array.from(matrix.values.subarray(i * matrix.width, (i + 1) * matrix.width)),
  );
}

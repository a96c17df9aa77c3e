/**
 * A file's text cells typed the way scoring reads them (numbers, booleans as 1/0, ISO 8601
 * date-times as epoch milliseconds, categories as text): as a RowBatch for fitting and applying
 * transforms, or as golden-record inputs.
 */
import { errors } from '../shared/domain/errors';
import { booleanValue, FLOAT32_OVERFLOW, headerDescribed, parseDateTime } from '../shared/domain/row-validation';
import type { RowBatch } from '../shared/domain/tabular';
import type { FeatureType } from '../shared/schemas/model';
import type { RawTable } from './tables';

/** A feature type, or `number` for a transforms' numeric input: a number, a boolean or a date-time. */
export type CellType = FeatureType | 'number';

export interface TypedColumn {
  name: string;
  type: CellType;
}

const WANTED: Record<Exclude<CellType, 'categorical'>, string> = {
  numeric: 'a finite number',
  boolean: 'a boolean',
  datetime: 'an ISO 8601 date-time',
  number: 'a number, a boolean or an ISO 8601 date-time',
};

function numberOf(text: string, type: Exclude<CellType, 'categorical'>): number {
  if (type === 'boolean') return booleanValue(text);
  if (type === 'datetime') return parseDateTime(text);
  const n = Number(text.trim());
  if (type === 'numeric' || Number.isFinite(n)) return n;
  const b = booleanValue(text);
  return Number.isNaN(b) ? parseDateTime(text) : b;
}

/**
 * One cell as a number (booleans 1/0, date-times epoch ms) or text (categorical); null when empty;
 * an Error when unreadable, whose message completes "'<column>' is ...".
 */
function typedCell(text: string | null, type: CellType): number | string | null | Error {
  if (text === null || text.trim() === '') return null;
  if (type === 'categorical') return text;
  const value = numberOf(text, type);
  return Number.isFinite(value) ? value : new Error(`${JSON.stringify(text)}, not ${WANTED[type]}`);
}

/**
 * A cell as a row of the model's input: also an Error for a number float32 cannot hold, which
 * scoring rejects (row-validation.ts), so the training side leaves out the rows production would.
 */
function inputCell(text: string | null, type: CellType): number | string | null | Error {
  const value = typedCell(text, type);
  return typeof value === 'number' && Math.abs(value) >= FLOAT32_OVERFLOW
    ? new Error(`${text}, which float32 (the model's input type) cannot hold`)
    : value;
}

/**
 * The type of each column: `categorical` for the ones named so; otherwise numeric when every
 * cell is a number (or every cell is empty: a step then says it has no value to fit on, not that
 * the column is text), datetime when every one is an ISO 8601 date-time, boolean when every one
 * is true/false (yes/no, t/f, y/n), categorical else.
 */
export function inferColumnTypes(table: RawTable, categorical: ReadonlySet<string>): TypedColumn[] {
  return table.columns.map((name) => {
    if (categorical.has(name)) return { name, type: 'categorical' as const };
    const cells = (table.values[name] as (string | null)[]).filter(
      (c): c is string => c !== null && c.trim() !== '',
    );
    if (cells.length === 0) return { name, type: 'numeric' as const };
    const all = (type: FeatureType) => cells.every((c) => !(typedCell(c, type) instanceof Error));
    const type: FeatureType = all('numeric')
      ? 'numeric'
      : all('datetime')
        ? 'datetime'
        : all('boolean')
          ? 'boolean'
          : 'categorical';
    return { name, type };
  });
}

/**
 * Columns typed categorical although most of their cells are numbers: a numeric column with a
 * few cells of text (`nan`, `n/a`), which a numeric step then refuses as categorical. Each with
 * its count of other cells and the first one, so the user sees why.
 */
export function mostlyNumericCategories(
  table: RawTable,
  columns: readonly TypedColumn[],
  named: ReadonlySet<string>,
): { name: string; cells: number; others: number; first: { row: number; text: string } }[] {
  return columns.flatMap((c) => {
    if (c.type !== 'categorical' || named.has(c.name)) return [];
    let cells = 0;
    let first: { row: number; text: string } | undefined;
    let others = 0;
    (table.values[c.name] as (string | null)[]).forEach((text, r) => {
      if (text === null || text.trim() === '') return;
      cells += 1;
      if (!(typedCell(text, 'numeric') instanceof Error)) return;
      others += 1;
      first ??= { row: r + 1, text };
    });
    return first && others * 2 < cells ? [{ name: c.name, cells, others, first }] : [];
  });
}

export interface TypedRows {
  batch: RowBatch;
  /** Table row (0-based) of each batch row. */
  keptRows: number[];
  /** Rows with a cell that is not of its column's type (row 1-based, as in the file). */
  rejected: { row: number; reason: string }[];
}

/** The columns as a RowBatch; rows with an unreadable cell are left out and listed with the reason. */
export function typedBatch(table: RawTable, columns: readonly TypedColumn[]): TypedRows {
  const missing = columns.filter((c) => !table.values[c.name]).map((c) => `'${c.name}'`);
  if (missing.length > 0) throw errors.invalidInputFile(`the file lacks column(s) ${missing.join(', ')}; ${headerDescribed(table.columns)}`);
  const rejected: TypedRows['rejected'] = [];
  const cells = columns.map((c) =>
    (table.values[c.name] as (string | null)[]).map((text) => inputCell(text, c.type)),
  );
  const keptRows: number[] = [];
  for (let r = 0; r < table.rowCount; r += 1) {
    const problems = columns.flatMap((c, j) => {
      const v = cells[j]![r];
      return v instanceof Error ? [`'${c.name}' is ${v.message}`] : [];
    });
    if (problems.length > 0) rejected.push({ row: r + 1, reason: problems.join('; ') });
    else keptRows.push(r);
  }
  const numeric: Record<string, Float64Array> = Object.create(null) as Record<string, Float64Array>;
  const categorical: Record<string, (string | null)[]> = Object.create(null) as Record<
    string,
    (string | null)[]
  >;
  columns.forEach((c, j) => {
    const values = cells[j]!;
    if (c.type === 'categorical') categorical[c.name] = keptRows.map((r) => values[r] as string | null);
    else numeric[c.name] = Float64Array.from(keptRows, (r) => (values[r] as number | null) ?? NaN);
  });
  return { batch: { rowCount: keptRows.length, numeric, categorical }, keptRows, rejected };
}

/**
 * Rows as golden-record inputs (plain JSON cells keyed by column), typed by `columns`: numbers,
 * booleans, date-times as epoch milliseconds, categories as text; empty cells left out (missing).
 * Header names match after trimming, as scoring matches them. VALIDATION_ERROR naming the columns
 * the file lacks (scoring refuses such a file: records without them could never pass parity), or
 * the file, row and column for a cell of the wrong type.
 */
export function goldenInputs(
  table: RawTable,
  columns: readonly TypedColumn[],
  file: string,
): Record<string, number | string | boolean>[] {
  const byName = new Map(table.columns.map((name) => [name.trim(), table.values[name] as (string | null)[]]));
  const missing = columns.filter((c) => !byName.has(c.name)).map((c) => `'${c.name}'`);
  if (missing.length > 0)
    throw errors.validation(`${file} lacks the model's feature column(s) ${missing.join(', ')} (its columns: ${table.columns.join(', ')})`);
  return Array.from({ length: table.rowCount }, (_, r) => {
    const input: Record<string, number | string | boolean> = {};
    for (const c of columns) {
      const v = inputCell(byName.get(c.name)![r]!, c.type);
      if (v instanceof Error)
        throw errors.validation(`${file}: row ${r + 1}, column '${c.name}' is ${v.message}`);
      if (v === null) continue;
      input[c.name] = c.type === 'boolean' ? v === 1 : v;
    }
    return input;
  });
}

/**
 * Reading a whole local CSV or Parquet file into columns for the commands, with the streaming
 * readers of the scoring pipeline (shared/adapters/tabular): CSV with RFC 4180 quoting, BOM, CRLF
 * and `.csv.gz`; Parquet row group by row group. Cells are loose values (`mlops drift` infers
 * types later, shared/domain/drift/infer.ts) or their text (commands that type them by a feature
 * schema or transforms).
 */
import fs from 'node:fs';
import path from 'node:path';

import { isGzipPath, readCsv } from '../shared/adapters/tabular/csv-reader';
import { hyparquet } from '../shared/adapters/tabular/hyparquet';
import { parquetColumns, readParquetMetadata, readParquetRowGroups } from '../shared/adapters/tabular/parquet-reader';
import type { CsvLimits } from '../shared/domain/csv-limits';
import type { LooseValue } from '../shared/domain/drift/infer';
import { errors } from '../shared/domain/errors';
import type { RawRows } from '../shared/domain/raw-rows';
import { foreignSeparatorHint } from '../shared/domain/row-validation';

export interface RawTable {
  columns: string[];
  rowCount: number;
  values: Record<string, LooseValue[]>;
}

/** How cells are read: `loose` keeps numbers as numbers, `text` gives every cell's text. */
export type CellMode = 'loose' | 'text';

const NAN_TEXT = /^\s*[+-]?nan\s*$/i;

/**
 * One cell as a loose value: date-times (Parquet timestamps, ISO 8601 text) as Date, numbers as
 * numbers (so "1.0" and "1" agree, and NaN or Infinity, stored or spelled, stay numbers for the
 * type inference to leave out), everything else as text; empty cells are null.
 */
function looseCell(rows: RawRows, column: number, row: number): LooseValue {
  if (rows.isEmpty(column, row)) return null;
  const millis = rows.epochMillis?.(column, row);
  if (millis !== undefined && !Number.isNaN(millis)) return new Date(millis);
  const n = rows.number(column, row);
  if (!Number.isNaN(n)) return n;
  const text = rows.symbol?.(column, row) ?? rows.text(column, row);
  return text !== null && NAN_TEXT.test(text) ? Number.NaN : text;
}

const textCell = (rows: RawRows, column: number, row: number): string | null => (rows.isEmpty(column, row) ? null : rows.text(column, row));

/**
 * The columns a table keeps, by their index in the file: all but those without a name (the empty
 * columns trailing commas make, as spreadsheets export them), which nothing can name (a spec,
 * --id, --keep, --columns) and scoring ignores as extra columns. Two of one name are refused.
 */
function namedColumns(columns: readonly string[], file: string): number[] {
  const kept = columns.flatMap((name, i) => (name.trim() === '' ? [] : [i]));
  const duplicate = kept.find((i) => columns.indexOf(columns[i]!) !== i);
  if (duplicate !== undefined) throw errors.validation(`${file}: column '${columns[duplicate]}' appears twice in the header`);
  return kept;
}

/** Appends a batch's rows, `kept` the file's columns the table holds (namedColumns). */
function appendRows(table: RawTable, rows: RawRows, file: string, mode: CellMode, kept: readonly number[]): void {
  const cell = mode === 'text' ? textCell : looseCell;
  // A CSV table learns its columns from its first batch.
  if (table.columns.length === 0) {
    table.columns = kept.map((i) => rows.columns[i]!);
    for (const name of table.columns) table.values[name] = [];
  }
  for (let r = 0; r < rows.rowCount; r++) {
    const defect = rows.defect(r);
    if (defect) throw errors.invalidInputFile(`${file}: row ${rows.rowNumber(r)}: ${defect}`);
    if (rows.fieldCount(r) !== rows.columns.length) {
      throw errors.invalidInputFile(
        `${file}: row ${rows.rowNumber(r)} has ${rows.fieldCount(r)} fields, the header has ${rows.columns.length}`,
      );
    }
  }
  kept.forEach((c, k) => {
    const out = table.values[table.columns[k]!]!;
    for (let r = 0; r < rows.rowCount; r++) out.push(cell(rows, c, r));
  });
  table.rowCount += rows.rowCount;
}

async function readCsvFile(file: string, mode: CellMode, limits?: CsvLimits): Promise<RawTable> {
  const table: RawTable = { columns: [], rowCount: 0, values: {} };
  let kept: number[] | undefined;
  for await (const rows of readCsv(fs.createReadStream(file), { gzip: isGzipPath(file), ...(limits ? { limits } : {}) })) {
    if (!kept) {
      // Said before its rows read as broken quoting or missing columns, which would not say why.
      const separator = foreignSeparatorHint(rows.columns);
      if (separator) throw errors.invalidInputFile(`${file}: ${separator}`);
      kept = namedColumns(rows.columns, file);
    }
    appendRows(table, rows, file, mode, kept);
  }
  if (!kept) throw errors.validation(`${file}: empty file, a header row is needed`);
  return table;
}

async function readParquetFile(file: string, mode: CellMode): Promise<RawTable> {
  const buffer = await hyparquet.asyncBufferFromFile(file);
  const metadata = await readParquetMetadata(buffer);
  const columns = parquetColumns(metadata);
  const kept = namedColumns(columns, file);
  // The footer names the columns: a file of no rows still has them.
  const names = kept.map((i) => columns[i]!);
  const table: RawTable = { columns: names, rowCount: 0, values: Object.fromEntries(names.map((name) => [name, []])) };
  const groups = { start: 0, end: metadata.row_groups.length, columns, firstRowNumber: 1 };
  for await (const rows of readParquetRowGroups(buffer, metadata, groups)) appendRows(table, rows, file, mode, kept);
  return table;
}

/**
 * Reads a .csv, .csv.gz or .parquet file by its extension. A CSV record past the bounds of
 * `limits` (csv-limits.ts; the defaults when absent) refuses the file naming its row, in bounded
 * memory and time.
 */
export async function readTable(file: string, options: { mode?: CellMode; limits?: CsvLimits } = {}): Promise<RawTable> {
  const name = path.basename(file).toLowerCase();
  const mode = options.mode ?? 'loose';
  if (!fs.existsSync(file)) throw errors.validation(`no such file: ${file}`);
  if (name.endsWith('.csv') || name.endsWith('.csv.gz')) return readCsvFile(file, mode, options.limits);
  if (name.endsWith('.parquet') || name.endsWith('.pq')) return readParquetFile(file, mode);
  throw errors.validation(`${file}: only .csv, .csv.gz and .parquet files are supported`);
}

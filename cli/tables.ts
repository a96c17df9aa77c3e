/**
 * Reading a whole local CSV or Parquet file into columns for the commands, with the streaming
 * readers of the scoring pipeline (shared/adapters/tabular): CSV with RFC 4180 quoting, BOM, CRLF
 * and `.csv.gz`; Parquet row group by row group. Cells are loose values (`mlops drift` infers
 * types later) or their text (commands that type them by a feature schema or transforms).
 */
import fs from 'node:fs';
import path from 'node:path';

import { isGzipPath, readCsv } from '../shared/adapters/tabular/csv-reader';
import { hyparquet } from '../shared/adapters/tabular/hyparquet';
import { parquetColumns, readParquetMetadata, readParquetRowGroups } from '../shared/adapters/tabular/parquet-reader';
import type { LooseValue } from '../shared/domain/drift/infer';
import { errors } from '../shared/domain/errors';
import type { RawRows } from '../shared/domain/raw-rows';

export interface RawTable {
  columns: string[];
  rowCount: number;
  values: Record<string, LooseValue[]>;
}

/** How cells are read: `loose` keeps numbers as numbers, `text` gives every cell's text. */
export type CellMode = 'loose' | 'text';

/** Numbers stay numbers (so "1.0" and "1" agree), everything else is text; empty cells are null. */
function looseCell(rows: RawRows, column: number, row: number): LooseValue {
  if (rows.isEmpty(column, row)) return null;
  const n = rows.number(column, row);
  if (Number.isFinite(n)) return n;
  return rows.symbol?.(column, row) ?? rows.text(column, row);
}

const textCell = (rows: RawRows, column: number, row: number): string | null => (rows.isEmpty(column, row) ? null : rows.text(column, row));

function appendRows(table: RawTable, rows: RawRows, file: string, mode: CellMode): void {
  const cell = mode === 'text' ? textCell : looseCell;
  if (table.columns.length === 0) {
    const duplicate = rows.columns.find((name, i) => rows.columns.indexOf(name) !== i);
    if (duplicate !== undefined) throw errors.validation(`${file}: column '${duplicate}' appears twice in the header`);
    table.columns = [...rows.columns];
    for (const name of table.columns) table.values[name] = [];
  }
  for (let r = 0; r < rows.rowCount; r++) {
    const defect = rows.defect(r);
    if (defect) throw errors.invalidInputFile(`${file}: row ${rows.rowNumber(r)}: ${defect}`);
    if (rows.fieldCount(r) !== table.columns.length) {
      throw errors.invalidInputFile(
        `${file}: row ${rows.rowNumber(r)} has ${rows.fieldCount(r)} fields, the header has ${table.columns.length}`,
      );
    }
  }
  table.columns.forEach((name, c) => {
    const out = table.values[name]!;
    for (let r = 0; r < rows.rowCount; r++) out.push(cell(rows, c, r));
  });
  table.rowCount += rows.rowCount;
}

async function readCsvFile(file: string, mode: CellMode): Promise<RawTable> {
  const table: RawTable = { columns: [], rowCount: 0, values: {} };
  for await (const rows of readCsv(fs.createReadStream(file), { gzip: isGzipPath(file) })) appendRows(table, rows, file, mode);
  if (table.columns.length === 0) throw errors.validation(`${file}: empty file, a header row is needed`);
  return table;
}

async function readParquetFile(file: string, mode: CellMode): Promise<RawTable> {
  const buffer = await hyparquet.asyncBufferFromFile(file);
  const metadata = await readParquetMetadata(buffer);
  const columns = parquetColumns(metadata);
  const table: RawTable = { columns, rowCount: 0, values: Object.fromEntries(columns.map((c) => [c, []])) };
  const groups = { start: 0, end: metadata.row_groups.length, columns, firstRowNumber: 1 };
  for await (const rows of readParquetRowGroups(buffer, metadata, groups)) appendRows(table, rows, file, mode);
  return table;
}

/** Reads a .csv, .csv.gz or .parquet file by its extension. */
export async function readTable(file: string, mode: CellMode = 'loose'): Promise<RawTable> {
  const name = path.basename(file).toLowerCase();
  if (!fs.existsSync(file)) throw errors.validation(`no such file: ${file}`);
  if (name.endsWith('.csv') || name.endsWith('.csv.gz')) return readCsvFile(file, mode);
  if (name.endsWith('.parquet') || name.endsWith('.pq')) return readParquetFile(file, mode);
  throw errors.validation(`${file}: only .csv, .csv.gz and .parquet files are supported`);
}

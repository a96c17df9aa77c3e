/**
 * Reading a whole CSV or Parquet file into columns of raw values for `mlops drift`.
 * CSV: RFC 4180 (header row, "," separator, quoted fields with "" escapes and embedded newlines,
 * CRLF or LF). Parquet: hyparquet. Values stay raw here; drift.ts infers the column types.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

import { errors } from '../shared/domain/errors';

export type RawValue = string | number | boolean | null;

export interface RawTable {
  columns: string[];
  rowCount: number;
  values: Record<string, RawValue[]>;
}

/** Parses CSV text into a header and rows. */
export function parseCsv(text: string, source = 'CSV'): { header: string[]; rows: string[][] } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') endField();
    else if (ch === '\n') {
      endRow();
      line++;
    } else if (ch === '\r') {
      if (text[i + 1] !== '\n') endRow();
    } else field += ch;
  }
  if (quoted) throw errors.validation(`${source}: unterminated quoted field (line ${line})`);
  if (field !== '' || row.length > 0) endRow();
  const [header, ...body] = rows;
  if (!header) throw errors.validation(`${source}: empty file, a header row is needed`);
  const duplicate = header.find((name, i) => header.indexOf(name) !== i);
  if (duplicate !== undefined) throw errors.validation(`${source}: column '${duplicate}' appears twice in the header`);
  body.forEach((r, index) => {
    if (r.length !== header.length) {
      throw errors.validation(`${source}: row ${index + 2} has ${r.length} fields, the header has ${header.length}`);
    }
  });
  return { header, rows: body };
}

async function readCsv(file: string): Promise<RawTable> {
  const { header, rows } = parseCsv(await fs.readFile(file, 'utf8'), file);
  const values: Record<string, RawValue[]> = {};
  header.forEach((name, c) => (values[name] = rows.map((r) => r[c]!)));
  return { columns: header, rowCount: rows.length, values };
}

function normalize(v: unknown): RawValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return JSON.stringify(v);
}

async function readParquet(file: string): Promise<RawTable> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const rows = await parquetReadObjects({ file: buffer, metadata });
  const values: Record<string, RawValue[]> = {};
  for (const name of columns) values[name] = rows.map((r) => normalize(r[name]));
  return { columns, rowCount: rows.length, values };
}

/** Reads a .csv or .parquet file by its extension. */
export async function readTable(file: string): Promise<RawTable> {
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.csv') return await readCsv(file);
    if (ext === '.parquet' || ext === '.pq') return await readParquet(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw errors.validation(`no such file: ${file}`);
    throw error;
  }
  throw errors.validation(`${file}: only .csv and .parquet files are supported`);
}

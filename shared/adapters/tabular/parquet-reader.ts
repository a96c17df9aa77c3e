import { DomainError } from '../../domain/errors';
import type { RawRows } from '../../domain/raw-rows';
import type { DataLake } from '../../ports/data-lake';
import { type AsyncBuffer, type FileMetaData, hyparquet } from './hyparquet';

/** A Parquet object read through the lake with ranged reads (footer first, then column chunks). */
export function lakeAsyncBuffer(lake: DataLake, path: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      if (stop <= start) return new ArrayBuffer(0);
      const buf = await lake.readBuffer(path, { offset: start, length: stop - start });
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
}

/** A Parquet file held in memory (CLI, tests). */
export function bufferAsyncBuffer(buf: Buffer): AsyncBuffer {
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
}

/** Reads the footer; a file that is not Parquet or is cut short is an INVALID_INPUT_FILE. */
export async function readParquetMetadata(file: AsyncBuffer): Promise<FileMetaData> {
  try {
    return await hyparquet.parquetMetadataAsync(file);
  } catch (e) {
    throw new DomainError('INVALID_INPUT_FILE', `not a readable Parquet file (truncated or corrupt?): ${(e as Error).message}`);
  }
}

/** Top-level column names, in file order. */
export function parquetColumns(metadata: FileMetaData): string[] {
  return hyparquet.parquetSchema(metadata).children.map((c) => c.element.name);
}

export function rowGroupRows(metadata: FileMetaData): number[] {
  return metadata.row_groups.map((g) => Number(g.num_rows));
}

type Cell = unknown;

/** Decoded Parquet columns of one row group, presented as raw rows. */
export class ParquetRows implements RawRows {
  constructor(
    readonly columns: readonly string[],
    private readonly data: readonly ArrayLike<Cell>[],
    readonly rowCount: number,
    private readonly firstRowNumber: number,
  ) {}

  rowNumber(row: number): number {
    return this.firstRowNumber + row;
  }

  fieldCount(): number {
    return this.columns.length;
  }

  defect(): string | undefined {
    return undefined;
  }

  private cell(column: number, row: number): Cell {
    return this.data[column]?.[row];
  }

  isEmpty(column: number, row: number): boolean {
    const v = this.cell(column, row);
    return v === null || v === undefined || v === '';
  }

  number(column: number, row: number): number {
    const v = this.cell(column, row);
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v instanceof Date) return v.getTime();
    if (typeof v === 'string' && v.trim() !== '') return Number(v);
    return NaN;
  }

  text(column: number, row: number): string | null {
    const v = this.cell(column, row);
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v === '' ? null : v;
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    return null;
  }

  epochMillis(column: number, row: number): number | undefined {
    const v = this.cell(column, row);
    return v instanceof Date ? v.getTime() : undefined;
  }

  rawCells(row: number): (string | null)[] {
    return this.columns.map((_, c) => this.text(c, row));
  }
}

/**
 * Reads row groups [start, end) one at a time (bounded memory): each yields the requested
 * columns of one group. Rows are numbered from `firstRowNumber`.
 */
export async function* readParquetRowGroups(
  file: AsyncBuffer,
  metadata: FileMetaData,
  options: { start: number; end: number; columns: string[]; firstRowNumber: number },
): AsyncGenerator<RawRows> {
  const groups = rowGroupRows(metadata);
  let rowStart = groups.slice(0, options.start).reduce((a, b) => a + b, 0);
  let rowNumber = options.firstRowNumber;
  for (let g = options.start; g < options.end; g += 1) {
    const n = groups[g] ?? 0;
    const pieces = new Map<string, { start: number; data: ArrayLike<Cell> }[]>();
    try {
      await hyparquet.parquetRead({
        file,
        metadata,
        columns: options.columns,
        rowStart,
        rowEnd: rowStart + n,
        onChunk: ({ columnName, columnData, rowStart: s }) => {
          const list = pieces.get(columnName) ?? [];
          list.push({ start: s, data: columnData as ArrayLike<Cell> });
          pieces.set(columnName, list);
        },
      });
    } catch (e) {
      throw new DomainError('INVALID_INPUT_FILE', `row group ${g} cannot be read (truncated or corrupt?): ${(e as Error).message}`);
    }
    const data = options.columns.map((name) => assemble(pieces.get(name) ?? [], rowStart, n));
    yield new ParquetRows(options.columns, data, n, rowNumber);
    rowStart += n;
    rowNumber += n;
  }
}

type TypedArrayLike = ArrayLike<number> & { set(a: ArrayLike<number>, offset: number): void };

/** Joins a column's pages into one array of the group's rows, keeping typed arrays typed. */
function assemble(pieces: { start: number; data: ArrayLike<Cell> }[], groupStart: number, n: number): ArrayLike<Cell> {
  if (pieces.length === 1 && pieces[0]!.start === groupStart && pieces[0]!.data.length === n) return pieces[0]!.data;
  const first = pieces[0]?.data;
  const typed =
    first !== undefined && ArrayBuffer.isView(first) && pieces.every((p) => p.data.constructor === first.constructor)
      ? (first.constructor as new (n: number) => TypedArrayLike)
      : undefined;
  if (typed && pieces.every((p) => p.start >= groupStart && p.start - groupStart + p.data.length <= n)) {
    const out = new typed(n);
    for (const p of pieces) out.set(p.data as ArrayLike<number>, p.start - groupStart);
    return out;
  }
  const out = new Array<Cell>(n).fill(null);
  for (const p of pieces) {
    for (let i = 0; i < p.data.length; i += 1) {
      const at = p.start - groupStart + i;
      if (at >= 0 && at < n) out[at] = p.data[i];
    }
  }
  return out;
}

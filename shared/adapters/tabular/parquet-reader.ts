import { z } from 'zod';

import { errors } from '../../domain/errors';
import type { RawRows, Utf8Cells } from '../../domain/raw-rows';
import type { DataLake } from '../../ports/data-lake';
import { DecodeArena, type DecodeArrays, freshArrays } from './decode-arrays';
import { type AsyncBuffer, type ColumnMetaData, type Compressors, type FileMetaData, hyparquet, type RowGroup, type SchemaElement } from './hyparquet';
import { BoxedCells, type ColumnCells } from './parquet-cells';
import { columnKind, decodeColumnChunk, gunzipPage, UnsupportedColumn } from './parquet-column-decoder';

/** A Parquet object read through the lake with ranged reads (footer first, then column chunks). */
export function lakeAsyncBuffer(lake: DataLake, path: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      if (stop <= start) return new ArrayBuffer(0);
      const buf = await lake.readBuffer(path, { offset: start, length: stop - start });
      // A buffer that is its whole ArrayBuffer is handed over as is: no second copy of a row group.
      if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
}

/** A Parquet file held in memory (CLI, tests). */
export function bufferAsyncBuffer(buf: Buffer): AsyncBuffer {
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
}

/**
 * Bytes read from the end of a file for its footer in one request. hyparquet's default (512 KiB)
 * is a fifth of a predictions part; footers are a few KiB (one more read fetches a larger one).
 */
const FOOTER_FETCH_BYTES = 64 * 1024;

/** A row group's row count as a footer gives it (INT64): plans and readers size arrays by it. */
const groupRowsSchema = z.union([z.bigint(), z.number()]).transform(Number).pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER));

/** Reads the footer; a file that is not Parquet, is cut short or counts rows below zero is an INVALID_INPUT_FILE. */
export async function readParquetMetadata(file: AsyncBuffer): Promise<FileMetaData> {
  let metadata: FileMetaData;
  try {
    metadata = await hyparquet.parquetMetadataAsync(file, { initialFetchSize: FOOTER_FETCH_BYTES });
  } catch (e) {
    throw errors.invalidInputFile(`not a readable Parquet file (truncated or corrupt?): ${(e as Error).message}`);
  }
  metadata.row_groups.forEach((group, g) => {
    if (!groupRowsSchema.safeParse(group.num_rows).success)
      throw errors.invalidInputFile(`not a readable Parquet file: its footer gives row group ${g} ${String(group.num_rows)} rows`);
  });
  return metadata;
}

/** Top-level column names, in file order. */
export function parquetColumns(metadata: FileMetaData): string[] {
  return hyparquet.parquetSchema(metadata).children.map((c) => c.element.name);
}

export function rowGroupRows(metadata: FileMetaData): number[] {
  return metadata.row_groups.map((g) => Number(g.num_rows));
}

type Cell = unknown;

/** Cells per batch handed on from a decoded row group (13k rows of 20 columns). */
const BATCH_CELLS = 1 << 18;
const MIN_BATCH_ROWS = 256;
/** Row groups up to this size are fetched ahead (DuckDB writes 122,880-row groups). */
const PREFETCH_MAX_ROWS = 262_144;

/** Rows `[offset, offset + rowCount)` of a decoded row group, presented as raw rows. */
export class ParquetRows implements RawRows {
  constructor(
    readonly columns: readonly string[],
    private readonly cells: readonly ColumnCells[],
    readonly rowCount: number,
    private readonly firstRowNumber: number,
    private readonly offset = 0,
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

  isEmpty(column: number, row: number): boolean {
    return this.cells[column]!.isEmpty(this.offset + row);
  }

  number(column: number, row: number): number {
    return this.cells[column]!.number(this.offset + row);
  }

  numbers(column: number, out: Float64Array): void {
    this.cells[column]!.numbers(out.subarray(0, this.rowCount), this.offset);
  }

  text(column: number, row: number): string | null {
    return this.cells[column]!.text(this.offset + row);
  }

  symbol(column: number, row: number): string | null {
    return this.cells[column]!.symbol(this.offset + row);
  }

  epochMillis(column: number, row: number): number | undefined {
    return this.cells[column]!.epochMillis(this.offset + row);
  }

  utf8(column: number): Utf8Cells | undefined {
    return this.cells[column]!.utf8?.(this.offset, this.rowCount);
  }

  rawCells(row: number): (string | null)[] {
    return this.columns.map((_, c) => this.text(c, row));
  }
}

/** Decompressors hyparquet lacks, for the column chunks it decodes: GZIP inflated no further than the page's size. */
const compressors: Compressors = { GZIP: (input, outputLength) => gunzipPage(input, outputLength) };
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP']);

/** The bytes [start, end) of a file, fetched once for all the columns of a row group. */
interface ByteRange {
  start: number;
  bytes: Uint8Array;
}

const chunkStart = (meta: ColumnMetaData) => Number(meta.dictionary_page_offset || meta.data_page_offset);

/** The column chunks of `names` in a row group by dotted path: a flat column's path is its name; nested leaves count for the byte range. */
function chunksOf(group: RowGroup, names: readonly string[]): Map<string, ColumnMetaData> {
  const wanted = new Set(names);
  const found = new Map<string, ColumnMetaData>();
  for (const c of group.columns) {
    const meta = c.meta_data;
    if (meta && wanted.has(meta.path_in_schema[0]!)) found.set(meta.path_in_schema.join('.'), meta);
  }
  return found;
}

async function fetchGroup(file: AsyncBuffer, group: RowGroup, names: readonly string[]): Promise<ByteRange> {
  let start = Infinity;
  let end = 0;
  for (const meta of chunksOf(group, names).values()) {
    start = Math.min(start, chunkStart(meta));
    end = Math.max(end, chunkStart(meta) + Number(meta.total_compressed_size));
  }
  if (end <= start) return { start: 0, bytes: new Uint8Array(0) };
  return { start, bytes: new Uint8Array(await file.slice(start, end)) };
}

/** An AsyncBuffer that answers from a row group's fetched bytes, for hyparquet. */
function withPrefetched(file: AsyncBuffer, range: ByteRange): AsyncBuffer {
  const end = range.start + range.bytes.length;
  return {
    byteLength: file.byteLength,
    slice: (start, stop) => {
      const to = stop ?? file.byteLength;
      if (start < range.start || to > end) return file.slice(start, stop);
      return range.bytes.slice(start - range.start, to - range.start).buffer;
    },
  };
}

const unreadable = (g: number, e: unknown) =>
  errors.invalidInputFile(`row group ${g} cannot be read (truncated or corrupt?): ${(e as Error).message}`);

/**
 * Decodes the columns of one row group: flat columns with our decoder, the rest (nested, other
 * encodings or types) with hyparquet, as cells that answer the same either way.
 */
async function decodeGroup(
  file: AsyncBuffer,
  metadata: FileMetaData,
  range: ByteRange,
  g: number,
  rowStart: number,
  columns: readonly string[],
  elements: ReadonlyMap<string, SchemaElement>,
  arrays: DecodeArrays,
): Promise<ColumnCells[]> {
  const group = metadata.row_groups[g]!;
  const n = Number(group.num_rows);
  const chunks = chunksOf(group, columns);
  const decoded = new Map<string, ColumnCells>();
  const rest: string[] = [];
  for (const name of new Set(columns)) {
    const meta = chunks.get(name);
    const element = elements.get(name);
    const kind = element && columnKind(element);
    if (meta && !CODECS.has(meta.codec))
      throw errors.invalidInputFile(
        `the column '${name}' is compressed with ${meta.codec}, which cannot be read: write the file with SNAPPY, GZIP or no compression`,
      );
    if (!meta || !element || !kind) {
      rest.push(name);
      continue;
    }
    const from = chunkStart(meta) - range.start;
    const bytes = range.bytes.subarray(from, from + Number(meta.total_compressed_size));
    try {
      decoded.set(name, decodeColumnChunk(bytes, meta, element, kind, n, arrays));
    } catch (e) {
      if (!(e instanceof UnsupportedColumn)) throw unreadable(g, new Error(`column '${name}': ${(e as Error).message}`));
      rest.push(name);
    }
  }
  if (rest.length > 0) {
    const pieces = new Map<string, { start: number; data: ArrayLike<Cell> }[]>();
    try {
      await hyparquet.parquetRead({
        file: withPrefetched(file, range),
        metadata,
        columns: rest,
        rowStart,
        rowEnd: rowStart + n,
        compressors,
        onChunk: ({ columnName, columnData, rowStart: s }) => {
          const list = pieces.get(columnName) ?? [];
          list.push({ start: s, data: columnData as ArrayLike<Cell> });
          pieces.set(columnName, list);
        },
      });
    } catch (e) {
      throw unreadable(g, e);
    }
    for (const name of rest) decoded.set(name, new BoxedCells(assemble(pieces.get(name) ?? [], rowStart, n)));
  }
  return columns.map((name) => decoded.get(name)!);
}

/**
 * Reads row groups [start, end): each yields the requested columns of one group. Rows are
 * numbered from `firstRowNumber`. A group's column chunks are fetched in one read, and the next
 * group's while this one is decoded and used, so at most two groups are in memory at a time.
 * With `reuseBuffers` (the consumer is done with a batch before it asks for the next), a group's
 * arrays go back to a pool when the next group is asked for (decode-arrays.ts).
 */
export async function* readParquetRowGroups(
  file: AsyncBuffer,
  metadata: FileMetaData,
  options: { start: number; end: number; columns: string[]; firstRowNumber: number; reuseBuffers?: boolean },
): AsyncGenerator<RawRows> {
  const groups = rowGroupRows(metadata);
  // The schema is the file's: read once, not per row group.
  const elements = new Map(hyparquet.parquetSchema(metadata).children.map((c) => [c.element.name, c.element]));
  let rowStart = groups.slice(0, options.start).reduce((a, b) => a + b, 0);
  let rowNumber = options.firstRowNumber;
  const batchRows = Math.max(MIN_BATCH_ROWS, Math.floor(BATCH_CELLS / Math.max(1, options.columns.length)));
  const fetch = (g: number) => {
    const pending = fetchGroup(file, metadata.row_groups[g]!, options.columns);
    // A prefetch the consumer never awaits (it stopped early) must not be an unhandled rejection.
    pending.catch(() => undefined);
    return pending;
  };
  let next = options.start < options.end ? fetch(options.start) : undefined;
  const arena = options.reuseBuffers ? new DecodeArena() : undefined;
  try {
    for (let g = options.start; g < options.end; g += 1) {
      const n = groups[g] ?? 0;
      let current = next;
      // The next group's bytes are fetched while this one is scored, unless it is large: then
      // holding both would double what a chunk needs.
      const prefetch = g + 1 < options.end && (groups[g + 1] ?? 0) <= PREFETCH_MAX_ROWS;
      next = prefetch ? fetch(g + 1) : undefined;
      const cells = await decodeGroup(file, metadata, await (current ?? fetch(g)), g, rowStart, options.columns, elements, arena ?? freshArrays);
      // Decoded: the group's compressed bytes can go while its batches are scored.
      current = undefined;
      // A row group can hold millions of rows: it is handed on in batches of about the size of a
      // CSV window, so what each batch costs downstream (validated columns, the feature matrix,
      // the model's tensors) stays small.
      for (let from = 0; from < n || (from === 0 && n === 0); from += batchRows)
        yield new ParquetRows(options.columns, cells, Math.min(batchRows, n - from), rowNumber + from, from);
      // The consumer asked for the next group: it is done with this one's batches.
      arena?.release();
      rowStart += n;
      rowNumber += n;
    }
  } finally {
    arena?.release();
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

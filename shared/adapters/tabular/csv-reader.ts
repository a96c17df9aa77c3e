import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { errors } from '../../domain/errors';
import type { RawRows } from '../../domain/raw-rows';
import { headerIndex } from '../../domain/row-validation';
import { parseCsvWindow } from './csv-parser';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface CsvReadOptions {
  /** Column names when the stream starts after the header (a planned chunk); otherwise the first record is the header. */
  columns?: readonly string[];
  /** Row number of the first data record in the stream (1 for a whole file). */
  firstRowNumber?: number;
  gzip?: boolean;
  /** Bytes parsed at a time; each window becomes one batch of rows (more if it holds over MAX_BATCH_CELLS cells). */
  windowBytes?: number;
  /** Columns to parse as numbers while tokenizing (see parseCsvWindow). */
  numericColumns?: readonly string[];
}

/**
 * Cells per batch at most: a batch's index and validated columns take memory per row and column,
 * so a window of very short rows under a wide header is split into several batches.
 */
const MAX_BATCH_CELLS = 1 << 20;
const MIN_BATCH_ROWS = 256;

export const isGzipPath = (path: string) => path.toLowerCase().endsWith('.gz');

export function stripBom(buf: Buffer): Buffer {
  return buf.subarray(0, 3).equals(BOM) ? buf.subarray(3) : buf;
}

/** Parses a header record; a header that cannot be read makes the whole file invalid. */
export function headerOf(buf: Buffer, eof: boolean): { columns: string[]; end: number } | undefined {
  const parsed = parseCsvWindow(buf, { columns: [], firstRowNumber: 0, eof, maxRows: 1 });
  if (parsed.rows.rowCount === 0) return undefined;
  const defect = parsed.rows.defect(0);
  if (defect) throw errors.invalidInputFile(`the CSV header cannot be read: ${defect}`);
  const columns = parsed.rows.rawCells(0).map((c) => (c ?? '').trim());
  return { columns, end: parsed.consumed };
}

/**
 * Streams CSV records in batches (one per window of bytes, bounded in cells): RFC 4180 quoting with embedded
 * delimiters, quotes and newlines, CRLF or LF, a UTF-8 BOM, gzip. A file with a header yields at
 * least one (maybe empty) batch, so callers learn its columns; an empty file yields none.
 */
export async function* readCsv(source: Readable, options: CsvReadOptions = {}): AsyncGenerator<RawRows> {
  const windowBytes = options.windowBytes ?? 2 * 1024 * 1024;
  const stream = options.gzip ? source.pipe(createGunzip()) : source;
  if (options.gzip) source.on('error', (e) => stream.destroy(e));
  let columns = options.columns;
  let rowNumber = options.firstRowNumber ?? 1;
  let carry: Buffer = Buffer.alloc(0);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = columns === undefined;
  let yielded = false;
  let numericIndexes: number[] = [];
  const resolveNumeric = (names: readonly string[]) => {
    const index = headerIndex(names);
    numericIndexes = (options.numericColumns ?? []).flatMap((name) => index.get(name) ?? []);
  };
  if (columns) resolveNumeric(columns);

  const take = function* (eof: boolean): Generator<RawRows> {
    let window = pending.length === 0 ? carry : Buffer.concat([carry, ...pending]);
    pending = [];
    pendingBytes = 0;
    if (first) {
      window = stripBom(window);
      const header = headerOf(window, eof);
      if (!header) {
        carry = window;
        return;
      }
      first = false;
      columns = header.columns;
      resolveNumeric(columns);
      window = window.subarray(header.end);
    }
    const width = Math.max(1, columns?.length ?? 0);
    const maxRows = Math.max(MIN_BATCH_ROWS, Math.floor(MAX_BATCH_CELLS / width));
    for (;;) {
      const parsed = parseCsvWindow(window, { columns: columns ?? [], firstRowNumber: rowNumber, eof, numericColumns: numericIndexes, maxRows });
      window = window.subarray(parsed.consumed);
      rowNumber += parsed.rows.rowCount;
      if (parsed.rows.rowCount > 0 || (eof && !yielded)) {
        yielded = true;
        yield parsed.rows;
      }
      if (parsed.rows.rowCount < maxRows) break;
    }
    carry = window;
  };

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes + carry.length >= windowBytes) yield* take(false);
    }
    yield* take(true);
  } catch (e) {
    if (options.gzip && (e as { code?: string }).code?.startsWith('Z_'))
      throw errors.invalidInputFile(`the gzip stream is corrupt: ${(e as Error).message}`);
    throw e;
  } finally {
    // A consumer that stops early (or fails) must not leave the download open.
    source.destroy();
    if (stream !== source) stream.destroy();
  }
}


import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { CSV_BOUND_NAMES, type CsvLimits, DEFAULT_CSV_LIMITS } from '../../domain/csv-limits';
import { errors } from '../../domain/errors';
import type { RawRows } from '../../domain/raw-rows';
import { headerIndex } from '../../domain/row-validation';
import { parseCsvWindow } from './csv-parser';
import { bytes, OversizedRecord } from './csv-rows';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;

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
  /** Record and field bounds (csv-limits.ts); the defaults when absent. */
  limits?: CsvLimits;
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

/**
 * Files that are not text under a CSV name, by their first bytes: read as CSV they would fail as
 * 'not valid UTF-8' (or a header of binary noise), which does not say what is wrong.
 */
const NOT_CSV: ReadonlyArray<{ magic: Buffer; what: string }> = [
  // 'PAR1' and then a page header's binary byte: a CSV column may be named PAR1.
  { magic: Buffer.from('PAR1\x15', 'latin1'), what: "a Parquet file (it begins with 'PAR1'): name it .parquet" },
  { magic: Buffer.from([0x1f, 0x8b]), what: 'gzip-compressed: name it .csv.gz (a .gz name is decompressed once)' },
  { magic: Buffer.from([0x50, 0x4b, 0x03, 0x04]), what: 'a ZIP archive (an Excel .xlsx workbook is one): export the sheet as CSV' },
];

function assertTextNotBinary(buf: Buffer): void {
  for (const { magic, what } of NOT_CSV) {
    if (buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic)) throw errors.invalidInputFile(`the file is not CSV text: it is ${what}`);
  }
}

/**
 * Lines ended by a lone CR (as classic Mac OS and some exporters write them) read as one endless
 * header, whose "columns" are whole lines: the first line break, met before any quote, says so.
 */
function assertNotLoneCrLines(buf: Buffer): void {
  for (let i = 0; i < buf.length; i += 1) {
    const c = buf[i]!;
    if (c === LF || c === QUOTE) return;
    if (c !== CR) continue;
    if (i + 1 < buf.length && buf[i + 1] !== LF) {
      throw errors.invalidInputFile(
        "the file's lines end with a lone carriage return (CR, as classic Mac OS wrote them): only LF or CRLF line ends are read; save it with LF or CRLF line ends",
      );
    }
    return;
  }
}

/** Parses a header record; a header that cannot be read makes the whole file invalid. */
export function headerOf(buf: Buffer, eof: boolean, limits: CsvLimits = DEFAULT_CSV_LIMITS): { columns: string[]; end: number } | undefined {
  assertTextNotBinary(buf);
  assertNotLoneCrLines(buf);
  const parsed = parseCsvWindow(buf, { columns: [], firstRowNumber: 0, eof, maxRows: 1, limits });
  if (parsed.oversized) throw errors.invalidInputFile(`the CSV header is longer than ${bytes(limits.maxRecordBytes)} (${CSV_BOUND_NAMES.maxRecordBytes})`);
  if (parsed.rows.rowCount === 0) return undefined;
  const defect = parsed.rows.defect(0);
  if (defect) throw errors.invalidInputFile(`the CSV header cannot be read: ${defect}`);
  const columns = parsed.rows.rawCells(0).map((c) => (c ?? '').trim());
  return { columns, end: parsed.consumed };
}

/** An oversized record being skipped: where it started and how long it is so far. */
interface Skipped {
  row: number;
  excerpt: string;
  length: number;
}

const EXCERPT_BYTES = 64;

/**
 * Streams CSV records in batches (one per window of bytes, bounded in cells): RFC 4180 quoting with embedded
 * delimiters, quotes and newlines, CRLF or LF, a UTF-8 BOM, gzip. A file with a header yields at
 * least one (maybe empty) batch, so callers learn its columns; an empty file yields none.
 *
 * Memory and time stay bounded by `limits` whatever the file holds (csv-limits.ts): a record is
 * parsed again only once the bytes waiting for it have grown by half (so a long record costs
 * linear time), an unclosed quote costs the rest of its line, and an oversized record is
 * skipped as it streams by, without being held, and comes out as one unreadable row.
 */
export async function* readCsv(source: Readable, options: CsvReadOptions = {}): AsyncGenerator<RawRows> {
  const windowBytes = options.windowBytes ?? 2 * 1024 * 1024;
  const limits = options.limits ?? DEFAULT_CSV_LIMITS;
  const stream = options.gzip ? source.pipe(createGunzip()) : source;
  if (options.gzip) source.on('error', (e) => stream.destroy(e));
  let columns = options.columns;
  let rowNumber = options.firstRowNumber ?? 1;
  let carry: Buffer = Buffer.alloc(0);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = columns === undefined;
  let yielded = false;
  let skipping: Skipped | undefined;
  let numericIndexes: number[] = [];
  const resolveNumeric = (names: readonly string[]) => {
    const index = headerIndex(names);
    numericIndexes = (options.numericColumns ?? []).flatMap((name) => index.get(name) ?? []);
  };
  if (columns) resolveNumeric(columns);

  const skipped = (s: Skipped): RawRows => {
    yielded = true;
    return new OversizedRecord(columns ?? [], s.row, s.length, s.excerpt, limits);
  };

  const take = function* (eof: boolean): Generator<RawRows> {
    let window = pending.length === 0 ? carry : Buffer.concat([carry, ...pending]);
    pending = [];
    pendingBytes = 0;
    if (first) {
      window = stripBom(window);
      const header = headerOf(window, eof, limits);
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
      const parsed = parseCsvWindow(window, { columns: columns ?? [], firstRowNumber: rowNumber, eof, numericColumns: numericIndexes, maxRows, limits });
      window = window.subarray(parsed.consumed);
      rowNumber += parsed.rows.rowCount;
      if (parsed.rows.rowCount > 0 || (eof && !yielded && !parsed.oversized)) {
        yielded = true;
        yield parsed.rows;
      }
      if (parsed.oversized) {
        // The window holds more than maxRecordBytes of the record, so the excerpt never depends on it.
        const excerpt = window.toString('utf8', 0, Math.min(EXCERPT_BYTES, limits.maxRecordBytes));
        const record: Skipped = { row: rowNumber, excerpt, length: 0 };
        rowNumber += 1;
        if (parsed.oversized.end < 0) {
          // Its end has not arrived yet: skip it as it streams by.
          record.length = window.length;
          skipping = record;
          window = window.subarray(window.length);
          break;
        }
        record.length = parsed.oversized.end - parsed.consumed;
        yield skipped(record);
        window = window.subarray(record.length);
        continue;
      }
      if (parsed.rows.rowCount < maxRows) break;
    }
    carry = window;
  };

  try {
    for await (const received of stream as AsyncIterable<Buffer>) {
      let chunk = received;
      if (skipping) {
        const lf = chunk.indexOf(LF);
        skipping.length += lf < 0 ? chunk.length : lf + 1;
        if (lf < 0) continue;
        yield skipped(skipping);
        skipping = undefined;
        chunk = chunk.subarray(lf + 1);
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      // A record longer than a window is parsed again only once half as many bytes again have
      // come: linear time for long records, instead of a pass per network buffer.
      if (pendingBytes + carry.length >= windowBytes && pendingBytes * 2 >= carry.length) yield* take(false);
    }
    if (skipping) yield skipped(skipping);
    else yield* take(true);
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

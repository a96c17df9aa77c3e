import type { Readable } from 'node:stream';

import { type CsvLimits, DEFAULT_CSV_LIMITS } from '../../domain/csv-limits';
import { errors } from '../../domain/errors';
import type { CsvChunk } from '../../schemas/scoring';
import { endOfBrokenRecord } from './csv-limits';
import { headerOf } from './csv-reader';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export interface CsvPlan {
  columns: string[];
  /** Data rows in the file (blank lines not counted). */
  rows: number;
  chunks: CsvChunk[];
}

const bomLength = (buf: Buffer) => (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0);

/**
 * Splits an uncompressed CSV into byte ranges that each start at a record start.
 *
 * Why a sequential pass: from an arbitrary offset one cannot tell whether a newline ends a
 * record or sits inside a quoted field (the bytes before decide, and a quoted field can be
 * arbitrarily long). So the planner reads the whole object once, front to back, tracking quote
 * parity exactly as the parser does (every `"` toggles; `""` toggles twice), and records the
 * offset after the first record-ending LF outside quotes past each nominal boundary, together
 * with the number of data rows before it (so chunks report file row numbers). The pass uses
 * `Buffer.indexOf` and holds one network buffer at a time, plus the bytes of a record that
 * spans buffers (at most `limits.maxRecordBytes`): about disk speed. Records that break the
 * bounds are framed by the parser's rule (csv-limits.ts), so ranges still start where the
 * parser starts a record.
 */
export async function planCsvChunks(source: Readable, targetChunkBytes: number, limits: CsvLimits = DEFAULT_CSV_LIMITS): Promise<CsvPlan> {
  const max = limits.maxRecordBytes;
  let headerBytes: Buffer[] = [];
  let headerLength = 0;
  let headerTried = 0;
  let header: { columns: string[]; end: number } | undefined;
  let absolute = 0; // offset of the next byte to arrive
  let rows = 0;
  let chunkStart = 0;
  let chunkFirstRow = 1;
  let nextBoundary = 0;
  const chunks: CsvChunk[] = [];

  // The open record: where it starts, its quote state, and its bytes from earlier buffers.
  let lineStart = 0;
  let inQuotes = false;
  let lineHasContent = false;
  let prevByte = -1;
  let held: Buffer[] = [];
  let heldBytes = 0;
  // Inside an oversized record whose end (the first LF past the bound) has not come yet.
  let skipping = false;

  const closeChunk = (at: number) => {
    if (at > chunkStart && rows >= chunkFirstRow) {
      chunks.push({
        format: 'csv',
        index: chunks.length,
        offset: chunkStart,
        length: at - chunkStart,
        firstRow: chunkFirstRow,
        rows: rows - chunkFirstRow + 1,
        columns: header!.columns,
        compression: 'none',
      });
    }
    chunkStart = at;
    chunkFirstRow = rows + 1;
    nextBoundary = at + targetChunkBytes;
  };

  const startRecord = (at: number, lastByte: number) => {
    lineStart = at;
    inQuotes = false;
    lineHasContent = false;
    prevByte = lastByte;
    // Most records start and end in one buffer: no array to drop (this runs once per row).
    if (held.length > 0) {
      held = [];
      heldBytes = 0;
    }
    if (lineStart >= nextBoundary) closeChunk(lineStart);
  };

  /**
   * Frames the open record by the bounds rule (csv-limits.ts) and counts it. Its bytes are the
   * held ones followed by `buf`, up to `upto` in `buf`. Returns where scanning goes on: in `buf`,
   * or in the held bytes and `buf` joined when the record began in an earlier buffer; undefined
   * while skipping an oversized record whose end has not come.
   */
  function frameBroken(buf: Buffer, base: number, upto: number, eof: boolean): { buf: Buffer; base: number; i: number } | undefined {
    const joined = held.length > 0;
    const window = joined ? Buffer.concat([...held, buf]) : buf;
    const windowBase = joined ? lineStart : base;
    const start = lineStart - windowBase;
    const framed = endOfBrokenRecord(window, start, (joined ? heldBytes : 0) + upto, eof, max);
    if (framed.kind === 'oversized' && framed.end < 0) {
      skipping = true;
      held = [];
      heldBytes = 0;
      return undefined;
    }
    const next = framed.kind === 'cut' ? framed.lineEnd + 1 : framed.kind === 'oversized' ? framed.end : window.length;
    rows += 1;
    startRecord(windowBase + next, window[next - 1]!);
    return { buf: window, base: windowBase, i: next };
  }

  /** Scans `input`, the bytes from absolute offset `inputBase` on, from `from`, for record ends. */
  function scan(input: Buffer, inputBase: number, from = 0): void {
    let buf = input;
    let base = inputBase;
    let i = from;
    for (;;) {
      if (skipping) {
        const lf = buf.indexOf(LF, i);
        if (lf < 0) return;
        skipping = false;
        rows += 1;
        startRecord(base + lf + 1, LF);
        i = lf + 1;
      }
      let resume: ReturnType<typeof frameBroken> | null = null;
      let nextQuote = buf.indexOf(QUOTE, i);
      if (nextQuote < 0) nextQuote = buf.length;
      while (i < buf.length) {
        if (inQuotes) {
          if (nextQuote >= buf.length) {
            lineHasContent = true;
            break;
          }
          inQuotes = false;
          i = nextQuote + 1;
          nextQuote = buf.indexOf(QUOTE, i);
          if (nextQuote < 0) nextQuote = buf.length;
          continue;
        }
        let lf = buf.indexOf(LF, i);
        if (lf < 0) lf = buf.length;
        if (nextQuote < lf) {
          lineHasContent = true;
          inQuotes = true;
          i = nextQuote + 1;
          nextQuote = buf.indexOf(QUOTE, i);
          if (nextQuote < 0) nextQuote = buf.length;
          continue;
        }
        if (lf >= buf.length) break;
        if (base + lf - lineStart > max) {
          resume = frameBroken(buf, base, lf + 1, false);
          break;
        }
        // A blank line (skipped by the parser, not a row) is empty or a lone CR before the LF.
        const lineLength = base + lf - lineStart;
        const before = lf > 0 ? buf[lf - 1] : prevByte;
        const blank = !lineHasContent && (lineLength === 0 || (lineLength === 1 && before === CR));
        if (!blank) rows += 1;
        startRecord(base + lf + 1, LF);
        i = lf + 1;
      }
      if (resume === null) {
        if (buf.length > 0) prevByte = buf[buf.length - 1]!;
        const end = base + buf.length;
        if (end <= lineStart) return;
        // The record goes on into the next buffer: keep its bytes, or frame it once it is too long.
        if (end - lineStart <= max) {
          const tail = buf.subarray(Math.max(0, lineStart - base));
          held.push(tail);
          heldBytes += tail.length;
          return;
        }
        resume = frameBroken(buf, base, buf.length, false);
      }
      if (!resume) return;
      ({ buf, base, i } = resume);
    }
  }

  for await (const chunk of source as AsyncIterable<Buffer>) {
    const base = absolute;
    absolute += chunk.length;
    if (header) {
      scan(chunk, base);
      continue;
    }
    headerBytes.push(chunk);
    headerLength += chunk.length;
    // A header split over many buffers is tried again only once its bytes have doubled.
    if (headerLength < 2 * headerTried) continue;
    headerTried = headerLength;
    const joined = Buffer.concat(headerBytes);
    const bom = bomLength(joined);
    header = headerOf(joined.subarray(bom), false, limits);
    if (!header) continue;
    const dataStart = bom + header.end;
    headerBytes = [];
    chunkStart = dataStart;
    nextBoundary = dataStart + targetChunkBytes;
    startRecord(dataStart, LF);
    scan(joined.subarray(dataStart), dataStart);
  }

  if (!header) {
    const joined = Buffer.concat(headerBytes);
    const bom = bomLength(joined);
    header = headerOf(joined.subarray(bom), true, limits);
    if (!header) throw errors.invalidInputFile('the file is empty: no header row');
    const dataStart = bom + header.end;
    chunkStart = dataStart;
    nextBoundary = dataStart + targetChunkBytes;
    startRecord(dataStart, LF);
    scan(joined.subarray(dataStart), dataStart);
  }
  // The end of the input ends the open record; a quote still open there, or a record past the
  // bound, is framed as the parser does at its end of input.
  while (skipping || absolute > lineStart) {
    if (skipping) {
      skipping = false;
      rows += 1;
      break;
    }
    const trailing = Buffer.concat(held);
    if (inQuotes || trailing.length > max) {
      held = [];
      heldBytes = 0;
      const resume = frameBroken(trailing, lineStart, trailing.length, true);
      if (resume) scan(resume.buf, resume.base, resume.i);
      continue;
    }
    if (lineHasContent || trailing.length > 1 || trailing[0] !== CR) rows += 1;
    break;
  }
  closeChunk(absolute);
  return { columns: header.columns, rows, chunks };
}

import type { Readable } from 'node:stream';

import { errors } from '../../domain/errors';
import type { CsvChunk } from '../../schemas/scoring';
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

/**
 * Splits an uncompressed CSV into byte ranges that each start at a record start.
 *
 * Why a sequential pass: from an arbitrary offset one cannot tell whether a newline ends a
 * record or sits inside a quoted field (the bytes before decide, and a quoted field can be
 * arbitrarily long). So the planner reads the whole object once, front to back, tracking quote
 * parity exactly as the parser does (every `"` toggles; `""` toggles twice), and records the
 * offset after the first record-ending LF outside quotes past each nominal boundary, together
 * with the number of data rows before it (so chunks report file row numbers). The pass uses
 * `Buffer.indexOf` and holds one network buffer at a time: O(1) memory, about disk speed.
 */
export async function planCsvChunks(source: Readable, targetChunkBytes: number): Promise<CsvPlan> {
  let headerBytes: Buffer[] = [];
  let header: { columns: string[]; end: number } | undefined;
  let absolute = 0; // offset of buf[0] in the file
  let inQuotes = false;
  let lineStart = 0; // absolute offset where the current record began
  let lineHasContent = false;
  let rows = 0;
  let chunkStart = 0;
  let chunkFirstRow = 1;
  let nextBoundary = 0;
  let prevByte = -1;
  const chunks: CsvChunk[] = [];

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

  for await (const chunk of source as AsyncIterable<Buffer>) {
    let buf = chunk;
    let base = absolute;
    absolute += chunk.length;
    if (!header) {
      headerBytes.push(chunk);
      const joined = Buffer.concat(headerBytes);
      const bom = joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf ? 3 : 0;
      header = headerOf(joined.subarray(bom), false);
      if (!header) continue;
      const dataStart = bom + header.end;
      headerBytes = [];
      buf = joined.subarray(dataStart);
      base = dataStart;
      chunkStart = dataStart;
      lineStart = dataStart;
      nextBoundary = dataStart + targetChunkBytes;
    }
    scan(buf, base);
  }

  function scan(buf: Buffer, base: number) {
    let i = 0;
    let nextQuote = buf.indexOf(QUOTE, 0);
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
      if (lf >= buf.length) {
        if (lf > i) lineHasContent = true;
        break;
      }
      const lineLength = base + lf - lineStart;
      const before = lf > 0 ? buf[lf - 1] : prevByte;
      const blank = !lineHasContent && (lineLength === 0 || (lineLength === 1 && before === CR));
      if (!blank) rows += 1;
      lineStart = base + lf + 1;
      lineHasContent = false;
      if (lineStart >= nextBoundary) closeChunk(lineStart);
      i = lf + 1;
    }
    if (buf.length > 0) prevByte = buf[buf.length - 1]!;
  }

  if (!header) {
    const joined = Buffer.concat(headerBytes);
    const bom = joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf ? 3 : 0;
    header = headerOf(joined.subarray(bom), true);
    if (!header) throw errors.invalidInputFile('the file is empty: no header row');
    chunkStart = lineStart = bom + header.end;
    scan(joined.subarray(chunkStart), chunkStart);
  }
  const trailing = absolute - lineStart;
  if (trailing > 0 && (lineHasContent || trailing > 1 || prevByte !== CR)) rows += 1;
  closeChunk(absolute);
  return { columns: header.columns, rows, chunks };
}

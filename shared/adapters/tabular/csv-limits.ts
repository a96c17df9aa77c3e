/**
 * The framing rule for CSV records that break the bounds of shared/domain/csv-limits.ts (its
 * module comment states the rule), shared by the chunk planner and the parser so that they cut
 * records at the same places.
 */

const QUOTE = 0x22;
const LF = 0x0a;

/** Where a record that did not end normally ends instead (see shared/domain/csv-limits.ts). */
export type BrokenRecordEnd =
  /** An unclosed quote: the record is `[start, lineEnd)`; the LF at `lineEnd` is dropped with it. */
  | { kind: 'cut'; lineEnd: number }
  /** Too long: skip up to `end` (just past its LF, or the input's end); -1 when that LF is not in the buffer yet. */
  | { kind: 'oversized'; end: number }
  /** At the end of the input, within the limit, with no line end after the open quote: the record runs to the end. */
  | { kind: 'to-end' };

/**
 * Frames a record starting at `start` in `buf[start, end)` that has no LF outside quotes there:
 * either it already runs past `maxRecordBytes` (`end - start > maxRecordBytes`) or the input
 * ends at `end` (`eof`). Reads at most `maxRecordBytes` bytes for the quote state, then searches
 * one LF: linear, and the same answer for any buffer that holds those bytes.
 */
export function endOfBrokenRecord(buf: Uint8Array, start: number, end: number, eof: boolean, maxRecordBytes: number): BrokenRecordEnd {
  const limit = Math.min(end, start + maxRecordBytes);
  let inQuotes = false;
  let opened = -1;
  for (let q = buf.indexOf(QUOTE, start); q >= 0 && q < limit; q = buf.indexOf(QUOTE, q + 1)) {
    inQuotes = !inQuotes;
    if (inQuotes) opened = q;
  }
  if (inQuotes) {
    const lineEnd = buf.indexOf(LF, opened);
    if (lineEnd >= 0 && lineEnd < limit) return { kind: 'cut', lineEnd };
  }
  if (end - start <= maxRecordBytes) return { kind: 'to-end' };
  const lf = buf.indexOf(LF, start + maxRecordBytes);
  return { kind: 'oversized', end: lf >= 0 && lf < end ? lf + 1 : eof ? end : -1 };
}

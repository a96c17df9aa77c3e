import { type CsvLimits, DEFAULT_CSV_LIMITS } from '../../domain/csv-limits';
import { endOfBrokenRecord } from './csv-limits';
import { CsvIndex, CsvRows, ROW_CUT, ROW_FIELD_TOO_LONG, ROW_HIGH_BYTES, ROW_MALFORMED, ROW_TOO_MANY_FIELDS, ROW_UNTERMINATED } from './csv-rows';
import { parseNumberInto, parsePlainNumberField } from './parse-number';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Quote semantics shared with the chunk planner: every `"` toggles the quoted state and only a
 * delimiter or LF outside quotes ends a field or record. A field is clean when it has no quote,
 * or when it is entirely quoted with inner quotes doubled (RFC 4180); anything else (a stray
 * quote, text after the closing quote, a quote never closed) makes the row malformed, and it is
 * rejected with its bytes kept. Because the planner counts the same parity, a chunk boundary it
 * picks is a record start for this parser.
 */
export interface ParsedCsv {
  rows: CsvRows;
  /** Bytes of the input consumed by complete records (the rest belongs to the next window). */
  consumed: number;
  /**
   * Parsing stopped at an oversized record starting at `consumed` (csv-limits.ts): the caller
   * skips it to `end` (-1: its end is past this window) and reports it as one unreadable row.
   */
  oversized?: { end: number };
}

const specialTables = new Map<number, Uint8Array>();

/** 1 for the bytes that end or change an unquoted field: delimiter, LF, quote, non-ASCII. */
function specialBytes(delimiter: number): Uint8Array {
  let table = specialTables.get(delimiter);
  if (!table) {
    table = new Uint8Array(256);
    table[delimiter] = 1;
    table[LF] = 1;
    table[QUOTE] = 1;
    table.fill(1, 0x80);
    specialTables.set(delimiter, table);
  }
  return table;
}

export interface CsvWindowOptions {
  columns: readonly string[];
  firstRowNumber: number;
  eof: boolean;
  delimiter?: number;
  maxRows?: number;
  /**
   * Indexes of columns to parse as numbers while tokenizing (the model's numeric features): a
   * plain decimal is read in the same pass that finds the field's end, instead of a second pass.
   */
  numericColumns?: readonly number[];
  /** Record and field bounds (csv-limits.ts); the defaults when absent. */
  limits?: CsvLimits;
}

/**
 * Parses the complete records in `buf[0, end)`. Without `eof`, a record that runs past the end is
 * left for the next window. Blank lines are skipped and not counted as rows. Records that break
 * the bounds of `limits` are framed by the rule in csv-limits.ts: one cut at its line end comes
 * back as an unreadable row; at an oversized one parsing stops (`oversized`) for the caller to
 * skip it.
 */
export function parseCsvWindow(buf: Buffer, options: CsvWindowOptions): ParsedCsv {
  const delimiter = options.delimiter ?? 0x2c;
  const special = specialBytes(delimiter);
  const limits = options.limits ?? DEFAULT_CSV_LIMITS;
  const { maxRecordBytes, maxFields } = limits;
  const width = Math.max(1, options.columns.length);
  const numericColumns = [...new Set(options.numericColumns)].filter((c) => c >= 0 && c < width);
  // Position k of a column in `numericColumns` plus one, 0 for the others.
  const numericSlot = new Int32Array(width);
  numericColumns.forEach((c, k) => (numericSlot[c] = k + 1));
  const maxRows = options.maxRows ?? Infinity;
  // Typical cells are 5-10 bytes: size for that and let the storage grow for narrower data.
  const out = new CsvIndex(width, numericColumns, Math.min(maxRows, Math.ceil(buf.length / (width * 8)) + 1));
  // Where the current record's input ends: the buffer, or a line end when an unclosed quote is cut.
  let end = buf.length;
  let eof = options.eof;
  let cutAt = -1;
  let oversizedEnd: number | undefined;
  let consumed = 0;
  let i = 0;

  while (i < end && out.rows < maxRows) {
    const recordStart = i;
    const c0 = buf[i];
    if (c0 === LF) {
      i += 1;
      consumed = i;
      continue;
    }
    if (c0 === CR && (i + 1 >= end || buf[i + 1] === LF)) {
      if (i + 1 >= end && !eof) break;
      i = Math.min(end, i + 2);
      consumed = i;
      continue;
    }
    out.reserveRow();
    const row = out.rows;
    const base = row * width;
    const { fieldBegin, fieldEnd, numeric } = out;
    let extra: number[] | undefined;
    let column = 0;
    let flags = 0;
    let quoteOpen = false;
    let pastWindow = false;
    for (;; column += 1) {
      const b = i;
      const slot = column < width ? numericSlot[column]! : 0;
      let fb = b;
      let fe: number;
      let c = 0;
      // A plain decimal in a numeric column is read in the same pass that finds its end.
      const plainEnd = slot > 0 ? parsePlainNumberField(buf, b, end, delimiter, numeric[slot - 1]!, row) : -1;
      if (plainEnd >= 0) {
        i = plainEnd;
        fe = plainEnd;
        c = buf[i]!;
      } else {
        let quotes = 0;
        let inQuotes = false;
        // Hot path: an unquoted field; one table lookup per byte finds the bytes that matter.
        for (;;) {
          while (i < end && special[buf[i]!] === 0) i += 1;
          if (i >= end) break;
          c = buf[i]!;
          if (c < 0x80) break;
          flags |= ROW_HIGH_BYTES;
          i += 1;
        }
        if (i < end && c === QUOTE) {
          while (i < end) {
            c = buf[i]!;
            if (c === QUOTE) {
              inQuotes = !inQuotes;
              quotes += 1;
            } else if (!inQuotes && (c === delimiter || c === LF)) break;
            else if (c >= 0x80) flags |= ROW_HIGH_BYTES;
            i += 1;
          }
        }
        quoteOpen = inQuotes;
        if (i >= end && !eof) {
          pastWindow = true;
          break;
        }
        fe = i;
        if (fe > b && buf[fe - 1] === CR && (i >= end || c === LF)) fe -= 1;
        if (quotes > 0) {
          if (!inQuotes && fe - b >= 2 && buf[b] === QUOTE && buf[fe - 1] === QUOTE && innerQuotesDoubled(buf, b + 1, fe - 1)) {
            fb = b + 1;
            fe -= 1;
          } else flags |= inQuotes ? ROW_UNTERMINATED : ROW_MALFORMED;
        }
        if (slot > 0) parseNumberInto(buf, fb, fe, numeric[slot - 1]!, row);
      }
      if (column < width) {
        fieldBegin[base + column] = fb;
        fieldEnd[base + column] = fe;
      } else if (column < maxFields) (extra ??= []).push(fb, fe);
      else flags |= ROW_TOO_MANY_FIELDS;
      if (i >= end) break;
      if (c === delimiter) {
        i += 1;
        if (i < end) continue;
        if (!eof) {
          pastWindow = true;
          break;
        }
        // A delimiter at the end of the file: the record ends with an empty field.
        column += 1;
        if (column < width) {
          fieldBegin[base + column] = end;
          fieldEnd[base + column] = end;
        } else if (column < maxFields) (extra ??= []).push(end, end);
        else flags |= ROW_TOO_MANY_FIELDS;
        if (column < width && numericSlot[column]! > 0) numeric[numericSlot[column]! - 1]![row] = NaN;
        break;
      }
      i += 1; // LF
      break;
    }
    // A record that goes on past the window waits for more bytes, unless it is already past the
    // bound; one past the bound (its content, without the LF), or with a quote still open at the
    // end of the input, is framed by the rule of csv-limits.ts before it is taken.
    const contentEnd = i > recordStart && buf[i - 1] === LF && i <= end ? i - 1 : i;
    if (cutAt < 0 && (pastWindow || contentEnd - recordStart > maxRecordBytes || quoteOpen)) {
      if (pastWindow && end - recordStart <= maxRecordBytes) break;
      const framed = endOfBrokenRecord(buf, recordStart, end, eof, maxRecordBytes);
      if (framed.kind === 'oversized') {
        oversizedEnd = framed.end;
        break;
      }
      if (framed.kind === 'cut') {
        // Parse the record again as if the input ended at its line end (no closure: `i` stays a register).
        i = recordStart;
        end = cutAt = framed.lineEnd;
        eof = true;
        continue;
      }
    }
    const count = column + 1;
    // Numeric columns the row is too short to have read as missing.
    for (let c = count; c < width; c += 1) if (numericSlot[c]! > 0) numeric[numericSlot[c]! - 1]![row] = NaN;
    if (extra) out.extraFields.set(row, extra);
    if (contentEnd - recordStart > limits.maxFieldBytes && hasLongField(out, row, count, extra, limits.maxFieldBytes)) flags |= ROW_FIELD_TOO_LONG;
    out.fieldCount[row] = count;
    out.rowStart[row] = recordStart;
    out.rowEnd[row] = i;
    out.rowFlags[row] = cutAt < 0 ? flags : flags | ROW_CUT;
    out.rows += 1;
    if (cutAt >= 0) {
      // The cut record ended at its line end: the LF goes with it, and the window is whole again.
      i = cutAt + 1;
      out.rowEnd[row] = i;
      end = buf.length;
      eof = options.eof;
      cutAt = -1;
    }
    consumed = i;
  }
  const rows = new CsvRows(buf, options.columns, options.firstRowNumber, out, limits);
  return oversizedEnd === undefined ? { consumed, rows } : { consumed, rows, oversized: { end: oversizedEnd } };
}

/** Whether a field of the row is longer than `max` bytes. */
function hasLongField(index: CsvIndex, row: number, count: number, extra: readonly number[] | undefined, max: number): boolean {
  const base = row * index.width;
  for (let c = 0; c < Math.min(count, index.width); c += 1) if (index.fieldEnd[base + c]! - index.fieldBegin[base + c]! > max) return true;
  for (let k = 0; k + 1 < (extra?.length ?? 0); k += 2) if (extra![k + 1]! - extra![k]! > max) return true;
  return false;
}

function innerQuotesDoubled(buf: Buffer, b: number, e: number): boolean {
  let i = buf.indexOf(QUOTE, b);
  while (i !== -1 && i < e) {
    if (i + 1 >= e || buf[i + 1] !== QUOTE) return false;
    i = buf.indexOf(QUOTE, i + 2);
  }
  return true;
}


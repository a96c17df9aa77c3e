import { CsvIndex, CsvRows, ROW_HIGH_BYTES, ROW_MALFORMED, ROW_UNTERMINATED } from './csv-rows';
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
}

/**
 * Parses the complete records in `buf[0, end)`. Without `eof`, a record that runs past the end is
 * left for the next window. Blank lines are skipped and not counted as rows.
 */
export function parseCsvWindow(buf: Buffer, options: CsvWindowOptions): ParsedCsv {
  const delimiter = options.delimiter ?? 0x2c;
  const special = specialBytes(delimiter);
  const end = buf.length;
  const width = Math.max(1, options.columns.length);
  const numericColumns = [...new Set(options.numericColumns)].filter((c) => c >= 0 && c < width);
  // Position k of a column in `numericColumns` plus one, 0 for the others.
  const numericSlot = new Int32Array(width);
  numericColumns.forEach((c, k) => (numericSlot[c] = k + 1));
  const maxRows = options.maxRows ?? Infinity;
  // Typical cells are 5-10 bytes: size for that and let the storage grow for narrower data.
  const out = new CsvIndex(width, numericColumns, Math.min(maxRows, Math.ceil(end / (width * 8)) + 1));
  let consumed = 0;
  let i = 0;

  records: while (i < end && out.rows < maxRows) {
    const recordStart = i;
    const c0 = buf[i];
    if (c0 === LF) {
      i += 1;
      consumed = i;
      continue;
    }
    if (c0 === CR && (i + 1 >= end || buf[i + 1] === LF)) {
      if (i + 1 >= end && !options.eof) break;
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
        if (i >= end && !options.eof) break records;
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
      } else (extra ??= []).push(fb, fe);
      if (i >= end) break;
      if (c === delimiter) {
        i += 1;
        if (i < end) continue;
        if (!options.eof) break records;
        // A delimiter at the end of the file: the record ends with an empty field.
        column += 1;
        if (column < width) {
          fieldBegin[base + column] = end;
          fieldEnd[base + column] = end;
        } else (extra ??= []).push(end, end);
        if (column < width && numericSlot[column]! > 0) numeric[numericSlot[column]! - 1]![row] = NaN;
        break;
      }
      i += 1; // LF
      break;
    }
    const count = column + 1;
    // Numeric columns the row is too short to have read as missing.
    for (let c = count; c < width; c += 1) if (numericSlot[c]! > 0) numeric[numericSlot[c]! - 1]![row] = NaN;
    if (count > width) out.extraFields.set(row, extra!);
    out.fieldCount[row] = count;
    out.rowStart[row] = recordStart;
    out.rowEnd[row] = i;
    out.rowFlags[row] = flags;
    out.rows += 1;
    consumed = i;
  }
  return { consumed, rows: new CsvRows(buf, options.columns, options.firstRowNumber, out) };
}

function innerQuotesDoubled(buf: Buffer, b: number, e: number): boolean {
  let i = buf.indexOf(QUOTE, b);
  while (i !== -1 && i < e) {
    if (i + 1 >= e || buf[i + 1] !== QUOTE) return false;
    i = buf.indexOf(QUOTE, i + 2);
  }
  return true;
}


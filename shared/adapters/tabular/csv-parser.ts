import { isUtf8 } from 'node:buffer';

import type { RawRows } from '../../domain/raw-rows';
import { parseDateTimeCodes } from '../../domain/row-validation';
import { parseNumberBytes, parseNumberInto } from './parse-number';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_ESCAPED = 1;
const ROW_HIGH_BYTES = 1;
const ROW_MALFORMED = 2;
const ROW_UNTERMINATED = 4;

/** Int32 storage that doubles as it fills. */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

class ByteList {
  data: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Uint8Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint8Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

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

/**
 * Parses the complete records in `buf[0, end)`. Without `eof`, a record that runs past the end is
 * left for the next window. Blank lines are skipped and not counted as rows.
 */
export function parseCsvWindow(
  buf: Buffer,
  options: { columns: readonly string[]; firstRowNumber: number; eof: boolean; delimiter?: number; maxRows?: number },
): ParsedCsv {
  const delimiter = options.delimiter ?? 0x2c;
  const special = specialBytes(delimiter);
  const end = buf.length;
  const width = Math.max(1, options.columns.length);
  // Typical cells are 5-10 bytes: size for that and let the lists grow for narrower data.
  const estimatedRows = Math.ceil(end / (width * 8)) + 1;
  const fieldBegin = new IntList(estimatedRows * width);
  const fieldEnd = new IntList(estimatedRows * width);
  const fieldFlags = new ByteList(estimatedRows * width);
  const rowFirstField = new IntList(estimatedRows + 1);
  const rowStart = new IntList(estimatedRows);
  const rowEnd = new IntList(estimatedRows);
  const rowFlags = new ByteList(estimatedRows);
  let consumed = 0;
  const maxRows = options.maxRows ?? Infinity;
  let i = 0;

  records: while (i < end && rowStart.length < maxRows) {
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
    const fieldsBefore = fieldBegin.length;
    let flags = 0;
    for (;;) {
      const b = i;
      let quotes = 0;
      let inQuotes = false;
      let c = 0;
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
      if (i >= end && !options.eof) {
        fieldBegin.length = fieldsBefore;
        fieldEnd.length = fieldsBefore;
        fieldFlags.length = fieldsBefore;
        break records;
      }
      let e = i;
      if (e > b && buf[e - 1] === CR && (i >= end || c === LF)) e -= 1;
      if (quotes === 0) {
        fieldBegin.push(b);
        fieldEnd.push(e);
        fieldFlags.push(0);
      } else if (!inQuotes && e - b >= 2 && buf[b] === QUOTE && buf[e - 1] === QUOTE && innerQuotesDoubled(buf, b + 1, e - 1)) {
        fieldBegin.push(b + 1);
        fieldEnd.push(e - 1);
        fieldFlags.push(quotes > 2 ? FIELD_ESCAPED : 0);
      } else {
        flags |= inQuotes ? ROW_UNTERMINATED : ROW_MALFORMED;
        fieldBegin.push(b);
        fieldEnd.push(e);
        fieldFlags.push(0);
      }
      if (i >= end) break;
      if (c === delimiter) {
        i += 1;
        if (i >= end && !options.eof) {
          fieldBegin.length = fieldsBefore;
          fieldEnd.length = fieldsBefore;
          fieldFlags.length = fieldsBefore;
          break records;
        }
        if (i >= end) {
          fieldBegin.push(end);
          fieldEnd.push(end);
          fieldFlags.push(0);
          break;
        }
        continue;
      }
      i += 1; // LF
      break;
    }
    rowFirstField.push(fieldsBefore);
    rowStart.push(recordStart);
    rowEnd.push(i);
    rowFlags.push(flags);
    consumed = i;
  }
  rowFirstField.push(fieldBegin.length);
  return {
    consumed,
    rows: new CsvRows(buf, options.columns, options.firstRowNumber, {
      fieldBegin: fieldBegin.data,
      fieldEnd: fieldEnd.data,
      fieldFlags: fieldFlags.data,
      rowFirstField: rowFirstField.data,
      rowStart: rowStart.data,
      rowEnd: rowEnd.data,
      rowFlags: rowFlags.data,
      rowCount: rowStart.length,
    }),
  };
}

function innerQuotesDoubled(buf: Buffer, b: number, e: number): boolean {
  let i = buf.indexOf(QUOTE, b);
  while (i !== -1 && i < e) {
    if (i + 1 >= e || buf[i + 1] !== QUOTE) return false;
    i = buf.indexOf(QUOTE, i + 2);
  }
  return true;
}

const MAX_SYMBOL_BYTES = 64;
const MAX_SYMBOLS = 4096;

/**
 * Interns short byte strings: one decoded string per distinct value (FNV-1a hash, bytes compared
 * on a hit), so a categorical column does not allocate a string per row. Bounded: past
 * MAX_SYMBOLS distinct values it starts afresh.
 */
class SymbolTable {
  private readonly table = new Map<number, { bytes: Buffer; text: string }[]>();
  private size = 0;

  get(buf: Buffer, b: number, e: number): string {
    let h = 0x811c9dc5 ^ (e - b);
    for (let i = b; i < e; i += 1) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const bucket = this.table.get(h);
    if (bucket) {
      for (const entry of bucket) if (sameBytes(entry.bytes, buf, b, e)) return entry.text;
    }
    const text = buf.toString('utf8', b, e);
    if (this.size >= MAX_SYMBOLS) {
      this.table.clear();
      this.size = 0;
    }
    const entry = { bytes: Buffer.from(buf.subarray(b, e)), text };
    if (bucket && this.table.has(h)) bucket.push(entry);
    else this.table.set(h, [entry]);
    this.size += 1;
    return text;
  }
}

function sameBytes(a: Buffer, buf: Buffer, b: number, e: number): boolean {
  if (a.length !== e - b) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== buf[b + i]) return false;
  return true;
}

interface CsvIndex {
  fieldBegin: Int32Array;
  fieldEnd: Int32Array;
  fieldFlags: Uint8Array;
  rowFirstField: Int32Array;
  rowStart: Int32Array;
  rowEnd: Int32Array;
  rowFlags: Uint8Array;
  rowCount: number;
}

/** Parsed CSV records over one window of bytes: cells are decoded only when asked for. */
export class CsvRows implements RawRows {
  readonly rowCount: number;
  private readonly symbols = new SymbolTable();

  constructor(
    private readonly buf: Buffer,
    readonly columns: readonly string[],
    private readonly firstRowNumber: number,
    private readonly index: CsvIndex,
  ) {
    this.rowCount = index.rowCount;
  }

  rowNumber(row: number): number {
    return this.firstRowNumber + row;
  }

  fieldCount(row: number): number {
    return this.index.rowFirstField[row + 1]! - this.index.rowFirstField[row]!;
  }

  defect(row: number): string | undefined {
    const flags = this.index.rowFlags[row]!;
    if (flags & ROW_UNTERMINATED) return 'a quoted field is never closed';
    if (flags & ROW_MALFORMED) return 'malformed quoting (a stray quote or text after a closing quote)';
    if (flags & ROW_HIGH_BYTES && !isUtf8(this.buf.subarray(this.index.rowStart[row], this.index.rowEnd[row])))
      return 'the row is not valid UTF-8';
    return undefined;
  }

  private field(column: number, row: number): number {
    const first = this.index.rowFirstField[row]!;
    return column < this.index.rowFirstField[row + 1]! - first ? first + column : -1;
  }

  isEmpty(column: number, row: number): boolean {
    const f = this.field(column, row);
    return f < 0 || this.index.fieldBegin[f] === this.index.fieldEnd[f];
  }

  number(column: number, row: number): number {
    const f = this.field(column, row);
    if (f < 0) return NaN;
    return parseNumberBytes(this.buf, this.index.fieldBegin[f]!, this.index.fieldEnd[f]!);
  }

  numbers(column: number, out: Float64Array): void {
    const { rowFirstField, fieldBegin, fieldEnd } = this.index;
    for (let r = 0; r < this.rowCount; r += 1) {
      const first = rowFirstField[r]!;
      if (column < rowFirstField[r + 1]! - first) parseNumberInto(this.buf, fieldBegin[first + column]!, fieldEnd[first + column]!, out, r);
      else out[r] = NaN;
    }
  }

  text(column: number, row: number): string | null {
    const f = this.field(column, row);
    if (f < 0) return null;
    const b = this.index.fieldBegin[f]!;
    const e = this.index.fieldEnd[f]!;
    if (b === e) return null;
    const s = this.buf.toString('utf8', b, e);
    return this.index.fieldFlags[f] === FIELD_ESCAPED ? s.replaceAll('""', '"') : s;
  }

  epochMillis(column: number, row: number): number | undefined {
    const f = this.field(column, row);
    if (f < 0 || this.index.fieldFlags[f] === FIELD_ESCAPED) return undefined;
    return parseDateTimeCodes(this.buf, this.index.fieldBegin[f]!, this.index.fieldEnd[f]!);
  }

  symbol(column: number, row: number): string | null {
    const f = this.field(column, row);
    if (f < 0) return null;
    const b = this.index.fieldBegin[f]!;
    const e = this.index.fieldEnd[f]!;
    if (b === e) return null;
    if (e - b > MAX_SYMBOL_BYTES || this.index.fieldFlags[f] === FIELD_ESCAPED) return this.text(column, row);
    return this.symbols.get(this.buf, b, e);
  }

  rawCells(row: number): (string | null)[] {
    const n = this.fieldCount(row);
    const cells: (string | null)[] = [];
    for (let c = 0; c < n; c += 1) cells.push(this.text(c, row) ?? '');
    return cells;
  }

  rawBytes(row: number): string | undefined {
    return this.index.rowFlags[row]! & ROW_HIGH_BYTES
      ? this.buf.subarray(this.index.rowStart[row], this.index.rowEnd[row]).toString('base64')
      : undefined;
  }
}

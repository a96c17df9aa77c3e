import { isUtf8 } from 'node:buffer';

import { CSV_BOUND_NAMES, type CsvLimits } from '../../domain/csv-limits';
import type { RawRows } from '../../domain/raw-rows';
import { parseDateTimeCodes } from '../../domain/row-validation';
import { parseNumberBytes, parseNumberInto } from './parse-number';

const QUOTE = 0x22;

export const ROW_HIGH_BYTES = 1;
export const ROW_MALFORMED = 2;
export const ROW_UNTERMINATED = 4;
/** An unclosed quote: the record was cut at the end of the line the quote opened on (csv-limits.ts). */
export const ROW_CUT = 8;
export const ROW_TOO_MANY_FIELDS = 16;
export const ROW_FIELD_TOO_LONG = 32;

/**
 * Where the tokenizer left the records of one window, in typed arrays that grow as it fills them.
 * Fields are stored with a fixed stride of `width` (the header's column count) so a cell is found
 * by arithmetic; the fields of a row past `width` (a ragged row) are kept aside in `extraFields`.
 * Memory is rows x width: readers bound the rows per window (see readCsv).
 */
export class CsvIndex {
  rows = 0;
  private capacity: number;
  /** Field bounds at `row * width + column`; a quoted field's bounds exclude its quotes. */
  fieldBegin: Int32Array;
  fieldEnd: Int32Array;
  fieldCount: Int32Array;
  rowStart: Int32Array;
  rowEnd: Int32Array;
  rowFlags: Uint8Array;
  /**
   * Bounds of fields at index >= width, as [begin, end, begin, end, ...] per ragged row; a row
   * past the field bound keeps only the first `maxFields`.
   */
  readonly extraFields = new Map<number, number[]>();
  /** Values of the columns parsed as numbers while tokenizing (NaN where not a number), in `numericColumns` order. */
  numeric: Float64Array[];

  constructor(
    readonly width: number,
    readonly numericColumns: readonly number[],
    capacity: number,
  ) {
    this.capacity = Math.max(16, capacity);
    this.fieldBegin = new Int32Array(this.capacity * width);
    this.fieldEnd = new Int32Array(this.capacity * width);
    this.fieldCount = new Int32Array(this.capacity);
    this.rowStart = new Int32Array(this.capacity);
    this.rowEnd = new Int32Array(this.capacity);
    this.rowFlags = new Uint8Array(this.capacity);
    this.numeric = numericColumns.map(() => new Float64Array(this.capacity));
  }

  /** Makes room for one more row. */
  reserveRow(): void {
    if (this.rows < this.capacity) return;
    this.capacity *= 2;
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T, size: number): T => {
      const next = new (a.constructor as new (n: number) => T)(size);
      next.set(a);
      return next;
    };
    this.fieldBegin = grow(this.fieldBegin, this.capacity * this.width);
    this.fieldEnd = grow(this.fieldEnd, this.capacity * this.width);
    this.fieldCount = grow(this.fieldCount, this.capacity);
    this.rowStart = grow(this.rowStart, this.capacity);
    this.rowEnd = grow(this.rowEnd, this.capacity);
    this.rowFlags = grow(this.rowFlags, this.capacity);
    this.numeric = this.numeric.map((a) => grow(a, this.capacity));
  }
}

const MAX_SYMBOL_BYTES = 64;
const MAX_SYMBOLS = 4096;
const SLOTS = MAX_SYMBOLS * 2; // a power of two, at most half full

/**
 * Interns short byte strings: one decoded string per distinct value, so a categorical column
 * does not allocate a string per row. Open addressing over typed arrays (FNV-1a hash, linear
 * probing, bytes compared on a hit) keeps a lookup to a few loads. Bounded: past MAX_SYMBOLS
 * distinct values it starts afresh.
 */
class SymbolTable {
  /** Symbol number + 1 per slot, 0 when free. */
  private readonly slots = new Int32Array(SLOTS);
  private readonly hashes = new Int32Array(MAX_SYMBOLS);
  private readonly offsets = new Int32Array(MAX_SYMBOLS + 1);
  private bytes = new Uint8Array(MAX_SYMBOLS * 16);
  private readonly texts: string[] = [];

  get(buf: Buffer, b: number, e: number): string {
    let h = 0x811c9dc5 ^ (e - b);
    for (let i = b; i < e; i += 1) h = Math.imul(h ^ buf[i]!, 0x01000193);
    for (let slot = h & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return this.add(buf, b, e, h, slot);
      if (this.hashes[entry] === h && this.sameBytes(entry, buf, b, e)) return this.texts[entry]!;
    }
  }

  private sameBytes(entry: number, buf: Buffer, b: number, e: number): boolean {
    const from = this.offsets[entry]!;
    if (this.offsets[entry + 1]! - from !== e - b) return false;
    for (let i = 0; i < e - b; i += 1) if (this.bytes[from + i] !== buf[b + i]) return false;
    return true;
  }

  private add(buf: Buffer, b: number, e: number, h: number, slot: number): string {
    const text = buf.toString('utf8', b, e);
    let entry = this.texts.length;
    if (entry === MAX_SYMBOLS) {
      this.slots.fill(0);
      this.texts.length = 0;
      entry = 0;
      slot = h & (SLOTS - 1);
    }
    const from = this.offsets[entry]!;
    if (from + (e - b) > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, from + (e - b)));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    buf.copy(this.bytes, from, b, e);
    this.offsets[entry + 1] = from + (e - b);
    this.hashes[entry] = h;
    this.texts.push(text);
    this.slots[slot] = entry + 1;
    return text;
  }
}

/** Parsed CSV records over one window of bytes: cells are decoded only when asked for. */
export class CsvRows implements RawRows {
  readonly rowCount: number;
  private readonly symbols = new SymbolTable();
  private readonly width: number;
  /** Columns parsed while tokenizing and not yet handed over, by column index. */
  private readonly parsed: Map<number, Float64Array>;

  constructor(
    private readonly buf: Buffer,
    readonly columns: readonly string[],
    private readonly firstRowNumber: number,
    private readonly index: CsvIndex,
    private readonly limits: CsvLimits,
  ) {
    this.rowCount = index.rows;
    this.width = index.width;
    this.parsed = new Map(index.numericColumns.map((column, k) => [column, index.numeric[k]!]));
  }

  rowNumber(row: number): number {
    return this.firstRowNumber + row;
  }

  fieldCount(row: number): number {
    return this.index.fieldCount[row]!;
  }

  defect(row: number): string | undefined {
    const flags = this.index.rowFlags[row]!;
    if (flags & ROW_CUT)
      return `a quote on this line is not closed within ${bytes(this.limits.maxRecordBytes)} (${CSV_BOUND_NAMES.maxRecordBytes}) or before the end: the row was cut at its line end and reading went on with the next line`;
    if (flags & ROW_UNTERMINATED) return 'a quoted field is never closed';
    if (flags & ROW_TOO_MANY_FIELDS)
      return `the row has ${this.index.fieldCount[row]} fields, more than the ${this.limits.maxFields} allowed (${CSV_BOUND_NAMES.maxFields}); the first ${this.limits.maxFields} are kept`;
    if (flags & ROW_FIELD_TOO_LONG) return `a field is longer than ${bytes(this.limits.maxFieldBytes)} (${CSV_BOUND_NAMES.maxFieldBytes})`;
    if (flags & ROW_MALFORMED) return 'malformed quoting (a stray quote or text after a closing quote)';
    if (flags & ROW_HIGH_BYTES && !isUtf8(this.buf.subarray(this.index.rowStart[row], this.index.rowEnd[row])))
      return 'the row is not valid UTF-8 (Latin-1 or another legacy encoding?): save the file as UTF-8';
    return undefined;
  }

  /** Fields of the row whose bounds are kept (all but those past the field-count bound). */
  private keptFields(row: number): number {
    const count = this.index.fieldCount[row]!;
    return count <= this.width ? count : this.width + (this.index.extraFields.get(row)?.length ?? 0) / 2;
  }

  /** Start of the cell, or -1 when the row has no such field. */
  private begin(column: number, row: number): number {
    if (column >= this.index.fieldCount[row]!) return -1;
    if (column < this.width) return this.index.fieldBegin[row * this.width + column]!;
    return this.index.extraFields.get(row)?.[(column - this.width) * 2] ?? -1;
  }

  private end(column: number, row: number): number {
    if (column < this.width) return this.index.fieldEnd[row * this.width + column]!;
    return this.index.extraFields.get(row)![(column - this.width) * 2 + 1]!;
  }

  /**
   * A field written in quotes (its bounds exclude them) that holds a quote: in a clean quoted
   * field every inner quote is doubled, so its bytes are not its text.
   */
  private escaped(begin: number, end: number): boolean {
    if (begin === 0 || this.buf[begin - 1] !== QUOTE) return false;
    for (let i = begin; i < end; i += 1) if (this.buf[i] === QUOTE) return true;
    return false;
  }

  isEmpty(column: number, row: number): boolean {
    const b = this.begin(column, row);
    return b < 0 || b === this.end(column, row);
  }

  number(column: number, row: number): number {
    const parsed = this.parsed.get(column);
    if (parsed) return parsed[row]!;
    const b = this.begin(column, row);
    return b < 0 ? NaN : parseNumberBytes(this.buf, b, this.end(column, row));
  }

  numbers(column: number, out: Float64Array): void {
    const parsed = this.parsed.get(column);
    if (parsed) {
      out.set(parsed.subarray(0, this.rowCount));
      return;
    }
    for (let r = 0; r < this.rowCount; r += 1) {
      const b = this.begin(column, r);
      if (b >= 0) parseNumberInto(this.buf, b, this.end(column, r), out, r);
      else out[r] = NaN;
    }
  }

  takeNumbers(column: number): Float64Array | undefined {
    const parsed = this.parsed.get(column);
    this.parsed.delete(column);
    return parsed?.subarray(0, this.rowCount);
  }

  text(column: number, row: number): string | null {
    const b = this.begin(column, row);
    if (b < 0) return null;
    const e = this.end(column, row);
    if (b === e) return null;
    const s = this.buf.toString('utf8', b, e);
    return this.escaped(b, e) ? s.replaceAll('""', '"') : s;
  }

  epochMillis(column: number, row: number): number | undefined {
    const b = this.begin(column, row);
    if (b < 0) return undefined;
    const e = this.end(column, row);
    return this.escaped(b, e) ? undefined : parseDateTimeCodes(this.buf, b, e);
  }

  symbol(column: number, row: number): string | null {
    const b = this.begin(column, row);
    if (b < 0) return null;
    const e = this.end(column, row);
    if (b === e) return null;
    if (e - b > MAX_SYMBOL_BYTES || this.escaped(b, e)) return this.text(column, row);
    return this.symbols.get(this.buf, b, e);
  }

  rawCells(row: number): (string | null)[] {
    const n = this.keptFields(row);
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

/**
 * One oversized record (csv-limits.ts), skipped without being held: an unreadable row that says
 * how long it was and how it starts, so it can be found in the file.
 */
export class OversizedRecord implements RawRows {
  readonly rowCount = 1;

  constructor(
    readonly columns: readonly string[],
    private readonly row: number,
    private readonly length: number,
    private readonly excerpt: string,
    private readonly limits: CsvLimits,
  ) {}

  rowNumber(): number {
    return this.row;
  }

  fieldCount(): number {
    return 0;
  }

  defect(): string {
    return `the record is ${this.length.toLocaleString('en-US')} bytes long, more than the ${bytes(this.limits.maxRecordBytes)} allowed (${CSV_BOUND_NAMES.maxRecordBytes}): it was skipped; it starts with ${JSON.stringify(this.excerpt)}`;
  }

  isEmpty(): boolean {
    return true;
  }

  number(): number {
    return NaN;
  }

  text(): string | null {
    return null;
  }

  rawCells(): (string | null)[] {
    return [];
  }
}

/** A byte count as people read it: 4 MiB, 1 KiB, 300 bytes. */
export function bytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

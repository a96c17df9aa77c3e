import type { Utf8Cells } from '../../domain/raw-rows';

/**
 * One column of one Parquet row group, read cell by cell. The answers are the ones the reader gave
 * when every cell was a value hyparquet decoded (number, bigint, boolean, Date, string): decoded
 * columns keep typed arrays and byte ranges instead, and build a string or a Date only when asked.
 */
export interface ColumnCells {
  isEmpty(row: number): boolean;
  number(row: number): number;
  /** `number(from + r)` into `out[r]` for every r of `out`. */
  numbers(out: Float64Array, from: number): void;
  text(row: number): string | null;
  /** `text(row)`, shared per dictionary entry where the column has one. */
  symbol(row: number): string | null;
  epochMillis(row: number): number | undefined;
  /** Rows [from, from + count) as UTF-8 byte ranges, for text columns that hold their bytes. */
  utf8?(from: number, count: number): Utf8Cells;
}

const TWO_32 = 4294967296;
/** Date's range: a Date further from the epoch is invalid (getTime() is NaN). */
const MAX_DATE_MS = 8.64e15;

/** Cells of any shape hyparquet decodes (nested, decimal, JSON, ...): the fallback. */
export class BoxedCells implements ColumnCells {
  constructor(private readonly data: ArrayLike<unknown>) {}

  isEmpty(row: number): boolean {
    const v = this.data[row];
    return v === null || v === undefined || v === '';
  }

  number(row: number): number {
    const v = this.data[row];
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v instanceof Date) return v.getTime();
    if (typeof v === 'string' && v.trim() !== '') return Number(v);
    return NaN;
  }

  numbers(out: Float64Array, from: number): void {
    for (let r = 0; r < out.length; r += 1) out[r] = this.number(from + r);
  }

  text(row: number): string | null {
    const v = this.data[row];
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v === '' ? null : v;
    // An invalid Date (outside Date's range) reads as 'Invalid Date': validation rejects the row.
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (typeof v === 'object')
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    return null;
  }

  symbol(row: number): string | null {
    return this.text(row);
  }

  epochMillis(row: number): number | undefined {
    const v = this.data[row];
    return v instanceof Date ? v.getTime() : undefined;
  }
}

/**
 * `present` is undefined when no row is null; otherwise 1 for a value, 0 for a null. The defaults
 * answer `numbers`, `symbol` and `epochMillis` from the cell-by-cell methods.
 */
abstract class NullableCells implements ColumnCells {
  constructor(protected readonly present: Uint8Array | undefined) {}

  abstract number(row: number): number;
  abstract text(row: number): string | null;

  numbers(out: Float64Array, from: number): void {
    for (let r = 0; r < out.length; r += 1) out[r] = this.number(from + r);
  }

  symbol(row: number): string | null {
    return this.text(row);
  }

  epochMillis(_row: number): number | undefined {
    return undefined;
  }

  protected absent(row: number): boolean {
    return this.present !== undefined && this.present[row] === 0;
  }

  isEmpty(row: number): boolean {
    return this.absent(row);
  }

  /** Copies `values` from row `from` and sets NaN where a row is null. */
  protected copyNumbers(values: Float64Array, out: Float64Array, from: number): void {
    out.set(values.subarray(from, from + out.length));
    const present = this.present;
    if (present) for (let r = 0; r < out.length; r += 1) if (present[from + r] === 0) out[r] = NaN;
  }
}

/** INT32, FLOAT and DOUBLE columns, held as doubles. */
export class NumberCells extends NullableCells {
  constructor(
    private readonly values: Float64Array,
    present: Uint8Array | undefined,
  ) {
    super(present);
  }

  number(row: number): number {
    return this.absent(row) ? NaN : this.values[row]!;
  }

  override numbers(out: Float64Array, from: number): void {
    this.copyNumbers(this.values, out, from);
  }

  text(row: number): string | null {
    return this.absent(row) ? null : String(this.values[row]);
  }
}

export class BooleanCells extends NullableCells {
  constructor(
    private readonly values: Int32Array,
    present: Uint8Array | undefined,
  ) {
    super(present);
  }

  number(row: number): number {
    return this.absent(row) ? NaN : this.values[row] !== 0 ? 1 : 0;
  }

  text(row: number): string | null {
    return this.absent(row) ? null : this.values[row] !== 0 ? 'true' : 'false';
  }
}

/** The signed 64-bit integer in two 32-bit words, as the nearest double (what Number(bigint) gives). */
const int64Number = (lo: number, hi: number) => hi * TWO_32 + (lo >>> 0);

/** The signed 64-bit integer in two 32-bit words, in decimal; a BigInt only past 2^53. */
function int64Text(lo: number, hi: number): string {
  const n = int64Number(lo, hi);
  return Number.isSafeInteger(n)
    ? String(n)
    : BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** Plain INT64 columns: two words a row (little-endian: low word first). */
export class Int64Cells extends NullableCells {
  constructor(
    private readonly words: Int32Array,
    present: Uint8Array | undefined,
  ) {
    super(present);
  }

  number(row: number): number {
    return this.absent(row) ? NaN : int64Number(this.words[2 * row]!, this.words[2 * row + 1]!);
  }

  text(row: number): string | null {
    return this.absent(row) ? null : int64Text(this.words[2 * row]!, this.words[2 * row + 1]!);
  }
}

/** Milliseconds as a Date would hold them: NaN outside Date's range, never -0. */
export const dateMillis = (ms: number) => (ms > MAX_DATE_MS || ms < -MAX_DATE_MS ? NaN : ms + 0);

let remainder = 0;

/**
 * floor(|v| / divisor) for the 64-bit integer v = hi * 2^32 + lo (hi signed, or unsigned when
 * `unsigned`), exact without BigInt: the high word is divided first so every intermediate stays
 * below 2^53. Leaves |v| mod divisor in `remainder`. `divisor` must be at most 2^21.
 */
function divideMagnitude(lo: number, hi: number, divisor: number, unsigned: boolean): number {
  let high = unsigned ? hi >>> 0 : hi;
  let low = lo >>> 0;
  if (high < 0) {
    // Two's complement negation of the pair.
    if (low === 0) high = -high;
    else {
      high = -high - 1;
      low = TWO_32 - low;
    }
  }
  const highQuotient = Math.floor(high / divisor);
  const rest = (high - highQuotient * divisor) * TWO_32 + low;
  const restQuotient = Math.floor(rest / divisor);
  remainder = rest - restQuotient * divisor;
  return highQuotient * TWO_32 + restQuotient;
}

/** An INT64 timestamp in `unitsPerMs` units to epoch ms, truncated towards zero as BigInt division does. */
export function int64TimestampMillis(lo: number, hi: number, unitsPerMs: 1 | 1000 | 1_000_000): number {
  if (unitsPerMs === 1) return dateMillis(int64Number(lo, hi));
  const q = divideMagnitude(lo, hi, unitsPerMs, false);
  return dateMillis(hi < 0 ? -q : q);
}

const JULIAN_EPOCH_DAY = 2_440_588;

/**
 * An INT96 timestamp (nanoseconds of the day as an unsigned 64-bit integer, then the Julian day) to
 * epoch ms, as hyparquet computes it with BigInt: nanoseconds since the epoch divided by 10^6,
 * truncated towards zero. hyparquet reads the nanoseconds as signed, so a value with the top bit
 * set borrows from the day: that is kept.
 */
export function int96TimestampMillis(nanosLo: number, nanosHi: number, julianDay: number): number {
  const days = (nanosHi < 0 ? -1 : julianDay) - JULIAN_EPOCH_DAY;
  const dayMs = days * 86_400_000;
  const wholeMs = divideMagnitude(nanosLo, nanosHi, 1_000_000, true);
  const floorMs = dayMs + wholeMs;
  // A negative total truncates up: add the partial millisecond back.
  return dateMillis(floorMs < 0 && remainder !== 0 ? floorMs + 1 : floorMs);
}

export type TimeUnit = 'days' | 'millis' | 'micros' | 'nanos' | 'int96';

const UNIT_NAMES = { days: 'days', millis: 'milliseconds', micros: 'microseconds', nanos: 'nanoseconds' };

/**
 * The stored value of a time cell outside Date's range, with its unit: INT32 days, INT64 in
 * `unit`, or INT96 (nanoseconds of the day in `a`, `b`, then the Julian day in `c`).
 */
export function outOfRangeTimeText(unit: TimeUnit, a: number, b: number, c: number): string {
  if (unit === 'days') return `${a} days since 1970-01-01`;
  if (unit === 'int96')
    return `Julian day ${c}, ${(BigInt(b >>> 0) << 32n) | BigInt(a >>> 0)} nanoseconds`;
  return `${int64Text(a, b)} ${UNIT_NAMES[unit]} since 1970-01-01`;
}

/** DATE, TIMESTAMP and INT96 columns, as epoch milliseconds (NaN where a Date would be invalid). */
export class TimeCells extends NullableCells {
  constructor(
    private readonly millis: Float64Array,
    present: Uint8Array | undefined,
    /** The text of each row outside Date's range (outOfRangeTimeText), which has no ISO form. */
    private readonly outOfRange: ReadonlyMap<number, string> = new Map(),
  ) {
    super(present);
  }

  number(row: number): number {
    return this.absent(row) ? NaN : this.millis[row]!;
  }

  override numbers(out: Float64Array, from: number): void {
    this.copyNumbers(this.millis, out, from);
  }

  text(row: number): string | null {
    if (this.absent(row)) return null;
    const ms = this.millis[row]!;
    // NaN epochMillis sends validation here: the stored value, never a RangeError from toISOString.
    return ms === ms ? new Date(ms).toISOString() : (this.outOfRange.get(row) ?? 'Invalid Date');
  }

  override epochMillis(row: number): number | undefined {
    return this.absent(row) ? undefined : this.millis[row]!;
  }
}

/**
 * BYTE_ARRAY columns as UTF-8 text: each row is a byte range of `bytes` (a dictionary entry's or
 * its own), decoded on demand; rows from a dictionary share one string per entry.
 */
export class TextCells extends NullableCells {
  private readonly symbols: (string | undefined)[];

  constructor(
    private readonly bytes: Buffer,
    private readonly starts: Int32Array,
    private readonly lengths: Int32Array,
    present: Uint8Array | undefined,
    /** Dictionary entry of each row, -1 for a row stored in a PLAIN page; undefined without a dictionary. */
    private readonly entries: Int32Array | undefined,
    dictionarySize: number,
  ) {
    super(present);
    this.symbols = new Array<string | undefined>(dictionarySize);
  }

  /** Where the text starts: TextDecoder (what hyparquet used) drops a leading byte order mark. */
  private begin(row: number): number {
    const b = this.starts[row]!;
    const bytes = this.bytes;
    return this.lengths[row]! >= 3 && bytes[b] === 0xef && bytes[b + 1] === 0xbb && bytes[b + 2] === 0xbf
      ? b + 3
      : b;
  }

  private decode(row: number): string | null {
    const b = this.begin(row);
    const e = this.starts[row]! + this.lengths[row]!;
    return b === e ? null : this.bytes.toString('utf8', b, e);
  }

  override isEmpty(row: number): boolean {
    return this.absent(row) || this.begin(row) === this.starts[row]! + this.lengths[row]!;
  }

  utf8(from: number, count: number): Utf8Cells {
    const starts = new Int32Array(count);
    const lengths = new Int32Array(count);
    for (let r = 0; r < count; r += 1) {
      const row = from + r;
      const begin = this.begin(row);
      const length = this.starts[row]! + this.lengths[row]! - begin;
      starts[r] = begin;
      lengths[r] = this.absent(row) || length === 0 ? -1 : length;
    }
    return { bytes: this.bytes, starts, lengths };
  }

  text(row: number): string | null {
    if (this.absent(row)) return null;
    return this.entries !== undefined && this.entries[row]! >= 0 ? this.symbol(row) : this.decode(row);
  }

  override symbol(row: number): string | null {
    if (this.absent(row)) return null;
    const entry = this.entries === undefined ? -1 : this.entries[row]!;
    if (entry < 0) return this.decode(row);
    const known = this.symbols[entry];
    if (known !== undefined) return known;
    const s = this.decode(row);
    if (s !== null) this.symbols[entry] = s;
    return s;
  }

  number(row: number): number {
    const s = this.text(row);
    return s !== null && s.trim() !== '' ? Number(s) : NaN;
  }
}

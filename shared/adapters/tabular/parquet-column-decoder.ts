/**
 * Decodes the column chunks of flat Parquet columns (top-level, REQUIRED or OPTIONAL, primitive)
 * straight into typed arrays: PLAIN and dictionary encodings, DATA_PAGE and DATA_PAGE_V2,
 * UNCOMPRESSED, SNAPPY and GZIP. hyparquet decodes to a JS value per cell (a BigInt per INT64,
 * a Date per timestamp, a string per dictionary-coded cell) and assembles nullable columns value
 * by value, which made reading Parquet slower than parsing CSV. Anything else throws
 * UnsupportedColumn, and the reader hands that column chunk to hyparquet.
 */
import { gunzipSync } from 'node:zlib';

import { type DecodeArrays, freshArrays } from './decode-arrays';
import { type ColumnMetaData, parquetHeader, type SchemaElement } from './hyparquet';
import {
  BooleanCells,
  type ColumnCells,
  dateMillis,
  Int64Cells,
  int64TimestampMillis,
  int96TimestampMillis,
  NumberCells,
  outOfRangeTimeText,
  TextCells,
  TimeCells,
  type TimeUnit,
} from './parquet-cells';
import { snappyUncompress } from './snappy';

/** This column chunk needs hyparquet (an encoding, codec or type not decoded here). */
export class UnsupportedColumn extends Error {}

/** How the cells of a column read, following hyparquet's conversions (convert.js) case by case. */
export type ParquetCellKind =
  | { cells: 'number'; unsigned: boolean }
  | { cells: 'boolean' }
  | { cells: 'int64' }
  | { cells: 'time'; unit: TimeUnit }
  | { cells: 'text' };

const TIME_UNITS: Record<string, TimeUnit> = { MILLIS: 'millis', MICROS: 'micros', NANOS: 'nanos' };

/**
 * The kind of a top-level column decoded here, or undefined for one left to hyparquet. The order
 * of the checks is hyparquet's, so a column annotated twice reads as it did.
 */
export function columnKind(element: SchemaElement): ParquetCellKind | undefined {
  const { type, converted_type: converted, logical_type: logical } = element;
  if (element.num_children || element.repetition_type === 'REPEATED') return undefined;
  if (converted === 'DECIMAL') return undefined;
  if (type === 'INT96') return converted ? undefined : { cells: 'time', unit: 'int96' };
  if (converted === 'DATE') return type === 'INT32' ? { cells: 'time', unit: 'days' } : undefined;
  if (converted === 'TIMESTAMP_MILLIS')
    return type === 'INT64' ? { cells: 'time', unit: 'millis' } : undefined;
  if (converted === 'TIMESTAMP_MICROS')
    return type === 'INT64' ? { cells: 'time', unit: 'micros' } : undefined;
  if (converted === 'JSON' || converted === 'BSON' || converted === 'INTERVAL') return undefined;
  if (logical?.type === 'GEOMETRY' || logical?.type === 'GEOGRAPHY' || logical?.type === 'UUID')
    return undefined;
  if (converted === 'UTF8' || logical?.type === 'STRING' || type === 'BYTE_ARRAY')
    return type === 'BYTE_ARRAY' ? { cells: 'text' } : undefined;
  const unsignedInteger = logical?.type === 'INTEGER' && !logical.isSigned;
  if (converted === 'UINT_64' || (unsignedInteger && logical.bitWidth === 64)) return undefined;
  if (converted === 'UINT_32' || (unsignedInteger && logical.bitWidth === 32))
    return type === 'INT32' ? { cells: 'number', unsigned: true } : undefined;
  if (logical?.type === 'FLOAT16') return undefined;
  if (logical?.type === 'TIMESTAMP')
    return type === 'INT64' ? { cells: 'time', unit: TIME_UNITS[logical.unit]! } : undefined;
  switch (type) {
    case 'BOOLEAN':
      return { cells: 'boolean' };
    case 'INT32':
    case 'FLOAT':
    case 'DOUBLE':
      return { cells: 'number', unsigned: false };
    case 'INT64':
      return { cells: 'int64' };
    default:
      return undefined;
  }
}

let scratch = new Uint8Array(1 << 16);
let staged = new Int32Array(1 << 14);

const stage = (n: number) =>
  staged.length >= n ? staged : (staged = new Int32Array(Math.max(n, 2 * staged.length)));

/**
 * A GZIP page body of `size` bytes, inflated no further than that: a page that claims a few bytes
 * and inflates to hundreds of MB stops at the limit instead of filling memory.
 */
export function gunzipPage(input: Uint8Array, size: number): Uint8Array {
  try {
    // maxOutputLength must be at least 1; a page of 0 bytes that inflates to 1 fails the length check.
    return gunzipSync(input, { maxOutputLength: Math.max(1, size) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`a GZIP page inflates past the ${size} bytes its header says`);
    throw e;
  }
}

/** A page body of `size` bytes once decompressed; SNAPPY pages land in a buffer reused page after page. */
function decompress(codec: ColumnMetaData['codec'], input: Uint8Array, size: number): Uint8Array {
  let page: Uint8Array;
  switch (codec) {
    case 'UNCOMPRESSED':
      page = input;
      break;
    case 'SNAPPY':
      if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
      page = scratch.subarray(0, size);
      snappyUncompress(input, page);
      break;
    case 'GZIP':
      page = gunzipPage(input, size);
      break;
    default:
      throw new UnsupportedColumn(`${codec} compression`);
  }
  if (page.length !== size) throw new Error(`a page holds ${page.length} bytes, its header says ${size}`);
  return page;
}

const uint32At = (b: Uint8Array, i: number) =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x1000000;

/**
 * Reads `count` values of the RLE/bit-packed hybrid encoding from `src[pos, end)` into
 * `out[at, at + count)`; returns how many of them are non-zero (for definition levels: present).
 */
function decodeHybrid(
  src: Uint8Array,
  pos: number,
  end: number,
  width: number,
  out: Int32Array | Uint8Array,
  at: number,
  count: number,
): number {
  if (width > 32) throw new Error(`a bit width of ${width}`);
  const stop = at + count;
  const mask = width === 32 ? -1 : (1 << width) - 1;
  let nonZero = 0;
  while (at < stop) {
    let header = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift > 28) throw new Error('RLE/bit-packed data ends early');
      const b = src[pos++]!;
      header += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (header % 2 === 0) {
      const run = Math.min(header / 2, stop - at);
      let value = 0;
      for (let k = 0; k < (width + 7) >> 3; k += 1) value |= src[pos++]! << (8 * k);
      if (pos > end) throw new Error('RLE/bit-packed data ends early');
      out.fill(value, at, at + run);
      if (value !== 0) nonZero += run;
      at += run;
      continue;
    }
    const values = Math.floor(header / 2) * 8;
    const bytes = (values * width) / 8;
    if (pos + bytes > end) throw new Error('RLE/bit-packed data ends early');
    const take = Math.min(values, stop - at);
    // Each value is read from the (up to 5) bytes that hold it, masked to its width; bytes past
    // the array read as 0 (the last values of a run at the end of the page).
    for (let k = 0; k < take; k += 1) {
      const bit = k * width;
      const i = pos + (bit >>> 3);
      const shift = bit & 7;
      let v =
        (src[i]! | ((src[i + 1] ?? 0) << 8) | ((src[i + 2] ?? 0) << 16) | ((src[i + 3] ?? 0) << 24)) >>>
        shift;
      if (shift + width > 32) v |= (src[i + 4] ?? 0) << (32 - shift);
      v &= mask;
      out[at + k] = v;
      if (v !== 0) nonZero += 1;
    }
    at += take;
    pos += bytes;
  }
  return nonZero;
}

/** Where a page's values go: the rows [row, row + count), of which `nonNull` have a value. */
interface PageSlot {
  row: number;
  count: number;
  nonNull: number;
  present: Uint8Array | undefined;
}

interface ValueStore {
  dictionary(page: Uint8Array, count: number): void;
  plain(page: Uint8Array, pos: number, slot: PageSlot): void;
  /** Dictionary indexes already decoded into `indexes[0, slot.nonNull)`. */
  indexed(indexes: Int32Array, slot: PageSlot): void;
  /** RLE-encoded booleans decoded into `values[0, slot.nonNull)`. */
  booleans?(values: Int32Array, slot: PageSlot): void;
}

/** Fixed-width values as `width` 32-bit words a row (little-endian, as Parquet stores them). */
class WordStore implements ValueStore {
  readonly words: Int32Array;
  private dict = new Int32Array(0);
  private dictSize = 0;

  constructor(
    rows: number,
    private readonly width: number,
    private readonly isBoolean: boolean,
    readonly isFloat: boolean,
    arrays: DecodeArrays,
  ) {
    this.words = arrays.int32(rows * width);
  }

  dictionary(page: Uint8Array, count: number): void {
    if (this.isBoolean) throw new UnsupportedColumn('a BOOLEAN dictionary');
    const bytes = count * this.width * 4;
    if (bytes > page.length)
      throw new Error(`a dictionary page of ${count} values holds ${page.length} bytes`);
    this.dict = new Int32Array(count * this.width);
    new Uint8Array(this.dict.buffer).set(page.subarray(0, bytes));
    this.dictSize = count;
  }

  /** Copies dense words to their rows, leaving null rows zero. */
  private scatter(dense: Int32Array, slot: PageSlot): void {
    const { words, width } = this;
    const present = slot.present;
    let k = 0;
    for (let r = slot.row; r < slot.row + slot.count; r += 1) {
      if (present !== undefined && present[r] === 0) continue;
      for (let j = 0; j < width; j += 1) words[r * width + j] = dense[k * width + j]!;
      k += 1;
    }
  }

  plain(page: Uint8Array, pos: number, slot: PageSlot): void {
    if (this.isBoolean) {
      if (pos + Math.ceil(slot.nonNull / 8) > page.length) throw new Error('a BOOLEAN page ends early');
      const dense = stage(slot.nonNull);
      for (let k = 0; k < slot.nonNull; k += 1) dense[k] = (page[pos + (k >>> 3)]! >>> (k & 7)) & 1;
      this.scatter(dense, slot);
      return;
    }
    const bytes = slot.nonNull * this.width * 4;
    if (pos + bytes > page.length)
      throw new Error(`a page of ${slot.nonNull} values holds ${page.length - pos} bytes`);
    const source = page.subarray(pos, pos + bytes);
    // Without nulls the page is the rows' bytes: one copy (the source may be unaligned).
    if (slot.nonNull === slot.count) {
      new Uint8Array(this.words.buffer, slot.row * this.width * 4, bytes).set(source);
      return;
    }
    const dense = stage(slot.nonNull * this.width);
    new Uint8Array(dense.buffer, 0, bytes).set(source);
    this.scatter(dense, slot);
  }

  indexed(indexes: Int32Array, slot: PageSlot): void {
    const { words, width, dict, dictSize } = this;
    const present = slot.present;
    let k = 0;
    for (let r = slot.row; r < slot.row + slot.count; r += 1) {
      if (present !== undefined && present[r] === 0) continue;
      const entry = indexes[k++]!;
      // Unsigned compare: an index with the top bit set (negative here) is past the end too.
      if (entry >>> 0 >= dictSize) throw new Error(`dictionary index ${entry >>> 0} past the ${dictSize} entries`);
      for (let j = 0; j < width; j += 1) words[r * width + j] = dict[entry * width + j]!;
    }
  }

  booleans(values: Int32Array, slot: PageSlot): void {
    this.scatter(values, slot);
  }
}

/** BYTE_ARRAY values as byte ranges of one buffer holding the dictionary and the PLAIN pages. */
class ByteStore implements ValueStore {
  bytes: Buffer;
  length = 0;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  entries: Int32Array | undefined;
  private dictStarts = new Int32Array(0);
  private dictLengths = new Int32Array(0);
  dictSize = 0;

  constructor(
    private readonly rows: number,
    capacity: number,
    private readonly arrays: DecodeArrays,
  ) {
    this.bytes = arrays.bytes(Math.max(1024, capacity));
    this.starts = arrays.int32(rows);
    this.lengths = arrays.int32(rows);
  }

  private append(src: Uint8Array): number {
    const at = this.length;
    if (at + src.length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, at + src.length));
      this.bytes.copy(grown, 0, 0, at);
      this.bytes = grown;
    }
    this.bytes.set(src, at);
    this.length += src.length;
    return at;
  }

  dictionary(page: Uint8Array, count: number): void {
    const base = this.append(page);
    this.dictStarts = new Int32Array(count);
    this.dictLengths = new Int32Array(count);
    let p = 0;
    for (let k = 0; k < count; k += 1) {
      if (p + 4 > page.length) throw new Error(`a dictionary page ends after ${k} of ${count} values`);
      const n = uint32At(page, p);
      if (p + 4 + n > page.length) throw new Error(`a dictionary page ends after ${k} of ${count} values`);
      this.dictStarts[k] = base + p + 4;
      this.dictLengths[k] = n;
      p += 4 + n;
    }
    this.dictSize = count;
    this.entries = this.arrays.int32(this.rows).fill(-1);
  }

  plain(page: Uint8Array, pos: number, slot: PageSlot): void {
    const base = this.append(page.subarray(pos)) - pos;
    const present = slot.present;
    let p = pos;
    for (let r = slot.row; r < slot.row + slot.count; r += 1) {
      if (present !== undefined && present[r] === 0) continue;
      if (p + 4 > page.length) throw new Error('a BYTE_ARRAY page ends early');
      const n = uint32At(page, p);
      if (p + 4 + n > page.length) throw new Error('a BYTE_ARRAY page ends early');
      this.starts[r] = base + p + 4;
      this.lengths[r] = n;
      p += 4 + n;
    }
  }

  indexed(indexes: Int32Array, slot: PageSlot): void {
    const { dictStarts, dictLengths, dictSize, starts, lengths } = this;
    const entries = this.entries!;
    const present = slot.present;
    let k = 0;
    for (let r = slot.row; r < slot.row + slot.count; r += 1) {
      if (present !== undefined && present[r] === 0) continue;
      const entry = indexes[k++]!;
      // Unsigned compare: an index with the top bit set (negative here) is past the end too.
      if (entry >>> 0 >= dictSize) throw new Error(`dictionary index ${entry >>> 0} past the ${dictSize} entries`);
      starts[r] = dictStarts[entry]!;
      lengths[r] = dictLengths[entry]!;
      entries[r] = entry;
    }
  }
}

const WORDS: Record<string, number> = { BOOLEAN: 1, INT32: 1, FLOAT: 1, INT64: 2, DOUBLE: 2, INT96: 3 };

/** Decodes one page's values (after its levels) into the store. */
function decodeValues(
  store: ValueStore,
  encoding: string,
  page: Uint8Array,
  pos: number,
  slot: PageSlot,
  physical: string,
): void {
  switch (encoding) {
    case 'PLAIN':
      store.plain(page, pos, slot);
      return;
    case 'PLAIN_DICTIONARY':
    case 'RLE_DICTIONARY': {
      if (pos >= page.length && slot.nonNull > 0) throw new Error('a dictionary-coded page ends early');
      const indexes = stage(slot.nonNull);
      const width = page[pos]!;
      // Bit width 0: every index is 0, with or without runs after it (as hyparquet reads it).
      if (width === 0) indexes.fill(0, 0, slot.nonNull);
      else if (slot.nonNull > 0) decodeHybrid(page, pos + 1, page.length, width, indexes, 0, slot.nonNull);
      store.indexed(indexes, slot);
      return;
    }
    case 'RLE':
      if (physical === 'BOOLEAN' && store.booleans) {
        if (pos + 4 > page.length) throw new Error('an RLE page ends early');
        const values = stage(slot.nonNull);
        decodeHybrid(
          page,
          pos + 4,
          Math.min(page.length, pos + 4 + uint32At(page, pos)),
          1,
          values,
          0,
          slot.nonNull,
        );
        store.booleans(values, slot);
        return;
      }
      throw new UnsupportedColumn(`RLE-encoded ${physical} values`);
    default:
      throw new UnsupportedColumn(`the ${encoding} encoding`);
  }
}

function cellsOf(
  kind: ParquetCellKind,
  store: WordStore | ByteStore,
  present: Uint8Array | undefined,
  rows: number,
  arrays: DecodeArrays,
): ColumnCells {
  if (store instanceof ByteStore)
    return new TextCells(store.bytes, store.starts, store.lengths, present, store.entries, store.dictSize);
  const words = store.words;
  switch (kind.cells) {
    case 'boolean':
      return new BooleanCells(words, present);
    case 'int64':
      return new Int64Cells(words, present);
    case 'number': {
      if (words.length === 2 * rows) return new NumberCells(new Float64Array(words.buffer, 0, rows), present);
      const values = arrays.float64(rows);
      if (kind.unsigned) for (let r = 0; r < rows; r += 1) values[r] = words[r]! >>> 0;
      else if (store.isFloat) values.set(new Float32Array(words.buffer, 0, rows));
      else values.set(words);
      return new NumberCells(values, present);
    }
    case 'time': {
      const millis = arrays.float64(rows);
      const outOfRange = new Map<number, string>();
      const unit = kind.unit;
      const width = unit === 'days' ? 1 : unit === 'int96' ? 3 : 2;
      for (let r = 0; r < rows; r += 1) {
        if (present !== undefined && present[r] === 0) continue;
        const w = width * r;
        let ms: number;
        if (unit === 'days') ms = dateMillis(words[w]! * 86_400_000);
        else if (unit === 'int96') ms = int96TimestampMillis(words[w]!, words[w + 1]!, words[w + 2]!);
        else ms = int64TimestampMillis(words[w]!, words[w + 1]!, unit === 'millis' ? 1 : unit === 'micros' ? 1000 : 1_000_000);
        millis[r] = ms;
        if (ms !== ms) outOfRange.set(r, outOfRangeTimeText(unit, words[w]!, words[w + 1] ?? 0, words[w + 2] ?? 0));
      }
      return new TimeCells(millis, present, outOfRange);
    }
    case 'text':
      throw new UnsupportedColumn('text in a fixed-width column');
  }
}

/**
 * Decodes the column chunk `chunk` (its bytes from the first page to the last) of a row group of
 * `rows` rows. Corrupt data throws an Error; what is not decoded here throws UnsupportedColumn.
 */
export function decodeColumnChunk(
  chunk: Uint8Array,
  meta: ColumnMetaData,
  element: SchemaElement,
  kind: ParquetCellKind,
  rows: number,
  arrays: DecodeArrays = freshArrays,
): ColumnCells {
  const physical = meta.type;
  const optional = element.repetition_type === 'OPTIONAL';
  if (kind.cells === 'text' ? physical !== 'BYTE_ARRAY' : WORDS[physical] === undefined)
    throw new UnsupportedColumn(`${physical} values`);
  const present = optional ? arrays.uint8(rows) : undefined;
  const store =
    kind.cells === 'text'
      ? new ByteStore(rows, Number(meta.total_uncompressed_size), arrays)
      : new WordStore(rows, WORDS[physical]!, physical === 'BOOLEAN', physical === 'FLOAT', arrays);
  const reader = { view: new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), offset: 0 };
  let row = 0;
  let nulls = 0;
  // Pages left once the footer's rows are read are read too: rows past its count must fail the chunk, not vanish.
  while (row < rows || reader.offset < chunk.length) {
    if (reader.offset >= chunk.length) throw new Error(`the column chunk ends after ${row} of ${rows} rows`);
    const header = parquetHeader(reader);
    // Bytes that are not a page header (a file cut or shifted) parse to one without sizes: the
    // reader's offset would become NaN, which no end-of-chunk check stops, and the loop never ends.
    const sized = Number.isInteger(header.compressed_page_size) && Number.isInteger(header.uncompressed_page_size);
    if (!sized || !(reader.offset <= chunk.length))
      throw new Error('a page header is unreadable (no page sizes): the column chunk does not start where the footer says');
    // A negative size would move the reader back to pages already read (or loop on one forever).
    if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0)
      throw new Error(
        `a page header gives a negative size (${header.compressed_page_size} compressed, ${header.uncompressed_page_size} uncompressed)`,
      );
    const bodyStart = reader.offset;
    const bodyEnd = bodyStart + header.compressed_page_size;
    if (bodyEnd > chunk.length) throw new Error('a page runs past the end of its column chunk');
    reader.offset = bodyEnd;
    const body = chunk.subarray(bodyStart, bodyEnd);
    if (header.type === 'DICTIONARY_PAGE') {
      const h = header.dictionary_page_header;
      if (!h) throw new Error('a dictionary page without its header');
      if (h.encoding !== 'PLAIN' && h.encoding !== 'PLAIN_DICTIONARY')
        throw new UnsupportedColumn(`a ${h.encoding} dictionary`);
      store.dictionary(decompress(meta.codec, body, header.uncompressed_page_size), h.num_values);
    } else if (header.type === 'DATA_PAGE') {
      const h = header.data_page_header;
      if (!h) throw new Error('a data page without its header');
      const count = h.num_values;
      if (count < 0) throw new Error(`a data page of ${count} values`);
      if (row + count > rows) throw new Error(`the column chunk holds more than ${rows} rows`);
      const page = decompress(meta.codec, body, header.uncompressed_page_size);
      let pos = 0;
      let nonNull = count;
      if (present) {
        if (h.definition_level_encoding !== 'RLE')
          throw new UnsupportedColumn(`${h.definition_level_encoding} definition levels`);
        if (page.length < 4) throw new Error('a data page ends in its definition levels');
        const end = 4 + uint32At(page, 0);
        if (end > page.length) throw new Error('a data page ends in its definition levels');
        nonNull = decodeHybrid(page, 4, end, 1, present, row, count);
        pos = end;
      }
      decodeValues(store, h.encoding, page, pos, { row, count, nonNull, present }, physical);
      row += count;
      nulls += count - nonNull;
    } else if (header.type === 'DATA_PAGE_V2') {
      const h = header.data_page_header_v2;
      if (!h) throw new Error('a data page without its header');
      const count = h.num_rows;
      if (count < 0) throw new Error(`a data page of ${count} rows`);
      if (row + count > rows) throw new Error(`the column chunk holds more than ${rows} rows`);
      const levelsEnd = h.repetition_levels_byte_length + h.definition_levels_byte_length;
      if (h.repetition_levels_byte_length !== 0)
        throw new Error(`repetition levels (${h.repetition_levels_byte_length} bytes) in a flat column`);
      if (h.num_values !== count)
        throw new Error(`a data page of ${count} rows holds ${h.num_values} values (a flat column has one a row)`);
      if (h.definition_levels_byte_length < 0) throw new Error('a data page gives a negative definition levels length');
      if (levelsEnd > body.length) throw new Error('a data page ends in its definition levels');
      let nonNull = count;
      if (present) {
        if (h.definition_levels_byte_length === 0 && h.num_nulls === 0) present.fill(1, row, row + count);
        else nonNull = decodeHybrid(body, 0, levelsEnd, 1, present, row, count);
      }
      const size = header.uncompressed_page_size - levelsEnd;
      const values = body.subarray(levelsEnd);
      const page = h.is_compressed !== false && size > 0 ? decompress(meta.codec, values, size) : values;
      decodeValues(store, h.encoding, page, 0, { row, count, nonNull, present }, physical);
      row += count;
      nulls += count - nonNull;
    }
  }
  return cellsOf(kind, store, nulls > 0 ? present : undefined, rows, arrays);
}

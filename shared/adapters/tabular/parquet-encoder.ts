/**
 * Column chunk encoding for the flat prediction schema (strings, doubles, int32, millisecond
 * timestamps), straight from typed arrays. hyparquet-writer handles every Parquet shape and pays
 * for it per value (boxed numbers, a BigInt per timestamp, a Map probe per string, a TextEncoder
 * call per string); here a double or int column is one byte copy and a string one `Buffer.write`.
 * hyparquet-writer still provides the byte writer, page headers and the footer; Snappy is ours
 * (snappy.ts).
 */
import type { OutputColumn, OutputColumnType } from '../../ports/tabular-files';
import { type ByteWriter, writePageHeader, type WriterColumnChunk, type WriterSchemaElement } from './hyparquet';
import { snappyCompress } from './snappy';

/** The schema element of each output type; strings and timestamps may be null. */
export function schemaElement(name: string, type: OutputColumnType): WriterSchemaElement {
  switch (type) {
    case 'string':
      return { type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', name, converted_type: 'UTF8' };
    case 'timestamp':
      return { type: 'INT64', repetition_type: 'OPTIONAL', name, converted_type: 'TIMESTAMP_MILLIS' };
    case 'double':
      return { type: 'DOUBLE', repetition_type: 'REQUIRED', name };
    case 'int32':
      return { type: 'INT32', repetition_type: 'REQUIRED', name };
  }
}

/** Grows as it fills; `bytes()` is a view, valid until the next write. */
class Bytes {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  reset(): this {
    this.length = 0;
    return this;
  }

  ensure(extra: number): Buffer {
    if (this.length + extra > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    return this.buf;
  }

  byte(v: number): void {
    this.ensure(1)[this.length++] = v;
  }

  varint(v: number): void {
    while (v > 0x7f) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  raw(src: Uint8Array): void {
    this.ensure(src.length).set(src, this.length);
    this.length += src.length;
  }

  /** PLAIN BYTE_ARRAY: 4-byte little-endian length, then the UTF-8 bytes. */
  string(s: string): void {
    const buf = this.ensure(4 + s.length * 3);
    const n = buf.write(s, this.length + 4, 'utf8');
    buf.writeUInt32LE(n, this.length);
    this.length += 4 + n;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Reused across columns and row groups: encoding allocates nothing per value. */
const levels = new Bytes();
const page = new Bytes();
const dictionaryBytes = new Bytes();
let indexes = new Int32Array(1 << 16);
let words = new Int32Array(1 << 17);

/** A dictionary is kept only while it stays small: unique columns (ids) give up early. */
const dictionaryLimit = (rows: number) => Math.max(1024, rows >> 3);

const isNull = (v: unknown) => v === null || v === undefined;

/** Definition levels (bit width 1) as RLE runs: one run when nothing is null. */
function writeDefinitionLevels(out: Bytes, present: (i: number) => boolean, rows: number): number {
  let i = 0;
  while (i < rows) {
    const v = present(i);
    let j = i + 1;
    while (j < rows && present(j) === v) j += 1;
    out.varint((j - i) << 1);
    out.byte(v ? 1 : 0);
    i = j;
  }
  return rows;
}

/** A repeat at least this long is written as one RLE run instead of bit-packed groups. */
const MIN_RLE_RUN = 16;

/** Values [from, from + count) as one bit-packed run (groups of 8, the last one padded with zeros). */
function writeBitPacked(out: Bytes, values: Int32Array, from: number, count: number, bitWidth: number): void {
  const groups = Math.ceil(count / 8);
  out.varint((groups << 1) | 1);
  const buf = out.ensure(groups * bitWidth);
  let at = out.length;
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < groups * 8; k += 1) {
    acc |= (k < count ? values[from + k]! : 0) << bits;
    bits += bitWidth;
    while (bits >= 8) {
      buf[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out.length = at;
}

/**
 * Dictionary indices in the RLE/bit-packed hybrid, after its bit width: long repeats (a run id,
 * a constant column, sorted segments) as RLE runs a reader fills in one go, the rest bit-packed.
 * A bit-packed run holds whole groups of 8 unless it is the last, so repeats are looked for at
 * group boundaries.
 */
function writeIndexes(out: Bytes, values: Int32Array, count: number, bitWidth: number): void {
  out.byte(bitWidth);
  const valueBytes = (bitWidth + 7) >> 3;
  let packedFrom = 0;
  let i = 0;
  while (i < count) {
    const value = values[i]!;
    let end = i + 1;
    while (end < count && values[end] === value) end += 1;
    if (end - i < MIN_RLE_RUN) {
      i = Math.min(count, i + 8);
      continue;
    }
    if (i > packedFrom) writeBitPacked(out, values, packedFrom, i - packedFrom, bitWidth);
    out.varint((end - i) * 2);
    for (let k = 0; k < valueBytes; k += 1) out.byte((value >>> (8 * k)) & 0xff);
    i = end;
    packedFrom = end;
  }
  if (count > packedFrom || count === 0) writeBitPacked(out, values, packedFrom, count - packedFrom, bitWidth);
}

interface Encoded {
  encoding: 'PLAIN' | 'RLE_DICTIONARY';
  nulls: number;
  /** PLAIN-encoded dictionary values, when dictionary-encoded. */
  dictionary?: { bytes: Uint8Array; count: number };
  statistics?: { min_value: bigint; max_value: bigint; null_count: bigint };
}

function encodeStrings(values: ArrayLike<string | number | null>, rows: number): Encoded {
  if (indexes.length < rows) indexes = new Int32Array(rows);
  const dictionary = new Map<string, number>();
  const limit = dictionaryLimit(rows);
  let nulls = 0;
  let count = 0;
  dictionaryBytes.reset();
  for (let i = 0; i < rows && dictionary.size <= limit; i += 1) {
    const v = values[i];
    if (isNull(v)) {
      nulls += 1;
      continue;
    }
    const s = String(v);
    let k = dictionary.get(s);
    if (k === undefined) {
      k = dictionary.size;
      dictionary.set(s, k);
      dictionaryBytes.string(s);
    }
    indexes[count++] = k;
  }
  if (dictionary.size <= limit) {
    writeIndexes(page.reset(), indexes, count, Math.max(1, Math.ceil(Math.log2(dictionary.size))));
    return { encoding: 'RLE_DICTIONARY', nulls, dictionary: { bytes: dictionaryBytes.bytes(), count: dictionary.size } };
  }
  page.reset();
  nulls = 0;
  for (let i = 0; i < rows; i += 1) {
    const v = values[i];
    if (isNull(v)) nulls += 1;
    else page.string(String(v));
  }
  return { encoding: 'PLAIN', nulls };
}

/** Epoch milliseconds (NaN or null = null) as little-endian INT64, without a BigInt per value. */
function encodeTimestamps(values: ArrayLike<string | number | null>, rows: number): Encoded {
  if (words.length < 2 * rows) words = new Int32Array(2 * rows);
  let nulls = 0;
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rows; i += 1) {
    const v = values[i] as number | null;
    if (v === null || v !== v) {
      nulls += 1;
      continue;
    }
    if (!Number.isSafeInteger(v)) throw new RangeError(`the timestamp ${v} is not a whole number of milliseconds`);
    const high = Math.floor(v / 4294967296);
    words[2 * count] = v - high * 4294967296;
    words[2 * count + 1] = high;
    count += 1;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  page.reset().raw(new Uint8Array(words.buffer, 0, 8 * count));
  // Min/max only here: readers prune by time ranges.
  const statistics = count > 0 ? { min_value: BigInt(min), max_value: BigInt(max), null_count: BigInt(nulls) } : undefined;
  return { encoding: 'PLAIN', nulls, ...(statistics ? { statistics } : { }) };
}

/**
 * Double and int32 columns are REQUIRED (every value present): a typed array cannot hold a null,
 * but a plain array can, and would be written as 0 without a word. Such a value is refused.
 */
function assertEveryValueNumber(name: string, values: ArrayLike<string | number | null>, rows: number, type: 'double' | 'int32'): void {
  for (let i = 0; i < rows; i += 1) {
    if (typeof values[i] !== 'number')
      throw new Error(`the ${type} column '${name}' has ${JSON.stringify(values[i] ?? null)} at row ${i}: its values are all required numbers${type === 'double' ? ' (NaN for a missing one)' : ''}`);
  }
}

function encodeFixed(name: string, values: ArrayLike<string | number | null>, rows: number, type: 'double' | 'int32'): Encoded {
  if (!(values instanceof Float64Array || values instanceof Int32Array)) assertEveryValueNumber(name, values, rows, type);
  const typed =
    type === 'double'
      ? values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>)
      : values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  const view = typed.subarray(0, rows);
  page.reset().raw(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return { encoding: 'PLAIN', nulls: 0 };
}

function encode(column: OutputColumn, rows: number): Encoded {
  switch (column.type) {
    case 'string':
      return encodeStrings(column.values, rows);
    case 'timestamp':
      return encodeTimestamps(column.values, rows);
    default:
      return encodeFixed(column.name, column.values, rows, column.type);
  }
}

/** Writes one page (header, then body compressed with Snappy); returns its uncompressed size. */
function writePage(writer: ByteWriter, header: (compressedBody: number) => Parameters<typeof writePageHeader>[1], body: Uint8Array, levelBytes?: Uint8Array): number {
  const compressed = snappyCompress(body);
  const start = writer.offset;
  writePageHeader(writer, header(compressed.length));
  const headerSize = writer.offset - start;
  if (levelBytes) writer.appendBytes(levelBytes);
  writer.appendBytes(compressed);
  return headerSize + (levelBytes?.length ?? 0) + body.length;
}

/**
 * Writes one column chunk of `rows` values at the writer's offset: an optional dictionary page
 * and one DATA_PAGE_V2 (definition levels uncompressed, values Snappy-compressed), the layout
 * hyparquet-writer used for these columns. Returns its footer entry.
 */
export function writeColumnChunk(writer: ByteWriter, column: OutputColumn, rows: number): WriterColumnChunk {
  const element = schemaElement(column.name, column.type);
  const optional = element.repetition_type === 'OPTIONAL';
  const encoded = encode(column, rows);
  const chunkStart = writer.offset;
  let uncompressed = 0;
  let dictionaryOffset: bigint | undefined;
  if (encoded.dictionary) {
    dictionaryOffset = BigInt(writer.offset);
    const { bytes, count } = encoded.dictionary;
    uncompressed += writePage(
      writer,
      (size) => ({
        type: 'DICTIONARY_PAGE',
        uncompressed_page_size: bytes.length,
        compressed_page_size: size,
        dictionary_page_header: { num_values: count, encoding: 'PLAIN' },
      }),
      bytes,
    );
  }
  let levelBytes: Uint8Array | undefined;
  if (optional) {
    const values = column.values;
    const present =
      column.type === 'timestamp'
        ? (i: number) => values[i] === values[i] && !isNull(values[i])
        : (i: number) => !isNull(values[i]);
    writeDefinitionLevels(levels.reset(), present, rows);
    levelBytes = levels.bytes();
  }
  const dataOffset = BigInt(writer.offset);
  const body = page.bytes();
  uncompressed += writePage(
    writer,
    (size) => ({
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: (levelBytes?.length ?? 0) + body.length,
      compressed_page_size: (levelBytes?.length ?? 0) + size,
      data_page_header_v2: {
        num_values: rows,
        num_nulls: encoded.nulls,
        num_rows: rows,
        encoding: encoded.encoding,
        definition_levels_byte_length: levelBytes?.length ?? 0,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    }),
    body,
    levelBytes,
  );
  return {
    file_offset: BigInt(chunkStart),
    meta_data: {
      type: element.type!,
      encodings: encoded.dictionary ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'],
      path_in_schema: [column.name],
      codec: 'SNAPPY',
      num_values: BigInt(rows),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(writer.offset - chunkStart),
      data_page_offset: dataOffset,
      ...(dictionaryOffset !== undefined ? { dictionary_page_offset: dictionaryOffset } : {}),
      ...(encoded.statistics ? { statistics: encoded.statistics } : {}),
    },
  };
}

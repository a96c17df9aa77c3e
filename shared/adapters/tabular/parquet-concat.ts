/**
 * Concatenates Parquet files of one schema into one file without decoding a page: the row group
 * bytes are copied as they are and one footer lists every row group, its offsets moved to where
 * the bytes landed. Memory stays at one copy buffer plus the footers.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';

import type { DataLake } from '../../ports/data-lake';
import {
  type ColumnChunk,
  type FileMetaData,
  hyparquet,
  hyparquetWriter,
  type RowGroup,
  type SchemaElement,
  writeMetadata,
  type WriterColumnChunk,
  type WriterRowGroup,
  type WriterSchemaElement,
} from './hyparquet';
import { lakeAsyncBuffer } from './parquet-reader';

const MAGIC = 0x31524150; // "PAR1"
const COPY_BYTES = 8 << 20;

type WriterColumnMetaData = NonNullable<WriterColumnChunk['meta_data']>;

interface Part {
  metadata: FileMetaData;
  /** Row group bytes are [4, dataEnd): after the leading magic, before the footer. */
  dataEnd: number;
}

function readRange(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
  return buf;
}

function readPart(fd: number, file: string): Part {
  const size = fs.fstatSync(fd).size;
  if (size < 12 || readRange(fd, 0, 4).readUInt32LE(0) !== MAGIC) throw new Error(`${file} is not a Parquet file`);
  const tail = readRange(fd, size - 8, 8);
  const footerLength = tail.readUInt32LE(0);
  if (tail.readUInt32LE(4) !== MAGIC || footerLength > size - 12) throw new Error(`${file} has no Parquet footer`);
  const footer = readRange(fd, size - 8 - footerLength, footerLength + 8);
  // Timestamps stay bigint: a Date would round statistics outside its range.
  const metadata = hyparquet.parquetMetadata(footer, { geoparquet: false, parsers: { timestampFromMilliseconds: (ms: bigint) => ms } });
  return { metadata, dataEnd: size - 8 - footerLength };
}

function copyRange(from: number, to: number, start: number, end: number, at: number): void {
  const buf = Buffer.allocUnsafe(Math.min(COPY_BYTES, Math.max(0, end - start)));
  for (let pos = start; pos < end; ) {
    const n = fs.readSync(from, buf, 0, Math.min(buf.length, end - pos), pos);
    if (n === 0) throw new Error(`unexpected end of file at byte ${pos}`);
    fs.writeSync(to, buf, 0, n, at + (pos - start));
    pos += n;
  }
}

function writerSchema(e: SchemaElement): WriterSchemaElement {
  return {
    name: e.name,
    ...(e.type !== undefined ? { type: e.type } : {}),
    ...(e.type_length !== undefined ? { type_length: e.type_length } : {}),
    ...(e.repetition_type !== undefined ? { repetition_type: e.repetition_type } : {}),
    ...(e.num_children !== undefined ? { num_children: e.num_children } : {}),
    ...(e.converted_type !== undefined ? { converted_type: e.converted_type } : {}),
    ...(e.scale !== undefined ? { scale: e.scale } : {}),
    ...(e.precision !== undefined ? { precision: e.precision } : {}),
    ...(e.field_id !== undefined ? { field_id: e.field_id } : {}),
    ...(e.logical_type !== undefined ? { logical_type: e.logical_type as WriterSchemaElement['logical_type'] } : {}),
  };
}

function movedColumn(c: ColumnChunk, by: bigint): WriterColumnChunk {
  const m = c.meta_data;
  const meta: WriterColumnMetaData | undefined = m && {
    type: m.type,
    // The reader knows encodings (ALP) the writer's pinned hyparquet does not; our parts use PLAIN, RLE and RLE_DICTIONARY.
    encodings: m.encodings as WriterColumnMetaData['encodings'],
    path_in_schema: m.path_in_schema,
    codec: m.codec,
    num_values: m.num_values,
    total_uncompressed_size: m.total_uncompressed_size,
    total_compressed_size: m.total_compressed_size,
    data_page_offset: m.data_page_offset + by,
    ...(m.key_value_metadata ? { key_value_metadata: m.key_value_metadata } : {}),
    ...(m.index_page_offset !== undefined ? { index_page_offset: m.index_page_offset + by } : {}),
    ...(m.dictionary_page_offset !== undefined ? { dictionary_page_offset: m.dictionary_page_offset + by } : {}),
    ...(m.statistics ? { statistics: m.statistics } : {}),
    ...(m.encoding_stats ? { encoding_stats: m.encoding_stats as WriterColumnMetaData['encoding_stats'] } : {}),
    ...(m.bloom_filter_offset !== undefined ? { bloom_filter_offset: m.bloom_filter_offset + by } : {}),
    ...(m.bloom_filter_length !== undefined ? { bloom_filter_length: m.bloom_filter_length } : {}),
    ...(m.size_statistics ? { size_statistics: m.size_statistics } : {}),
  };
  return {
    file_offset: c.file_offset + by,
    ...(meta ? { meta_data: meta } : {}),
    ...(c.offset_index_offset !== undefined ? { offset_index_offset: c.offset_index_offset + by, offset_index_length: c.offset_index_length } : {}),
    ...(c.column_index_offset !== undefined ? { column_index_offset: c.column_index_offset + by, column_index_length: c.column_index_length } : {}),
  };
}

function movedRowGroup(g: RowGroup, by: bigint): WriterRowGroup {
  return {
    columns: g.columns.map((c) => movedColumn(c, by)),
    total_byte_size: g.total_byte_size,
    num_rows: g.num_rows,
    ...(g.file_offset !== undefined ? { file_offset: g.file_offset + by } : {}),
    ...(g.total_compressed_size !== undefined ? { total_compressed_size: g.total_compressed_size } : {}),
    ...(g.sorting_columns ? { sorting_columns: g.sorting_columns } : {}),
  };
}

/** The footer (with its length word and the closing magic) of a file of `first`'s schema holding `rowGroups`. */
function footerOf(first: FileMetaData, rowGroups: WriterRowGroup[], rows: bigint): Uint8Array {
  const footer = new hyparquetWriter.ByteWriter(1 << 16);
  // writeMetadata appends the footer length itself.
  writeMetadata(footer, {
    version: first.version,
    schema: first.schema.map(writerSchema),
    num_rows: rows,
    row_groups: rowGroups,
    ...(first.created_by !== undefined ? { created_by: first.created_by } : {}),
    metadata_length: 0,
  });
  footer.appendUint32(MAGIC);
  return new Uint8Array(footer.getBuffer());
}

const schemaKey = (schema: SchemaElement[]) => JSON.stringify(schema.map((e) => [e.name, e.type, e.repetition_type, e.converted_type, e.num_children]));

/**
 * Writes `output` as the concatenation of `parts` (same schema, in order): their row groups in
 * order, the schema and `created_by` of the first part. `afterCopy` runs once a part's bytes are
 * in, so the caller can delete it and keep disk use to the output plus one part.
 */
export function concatParquetFiles(parts: readonly string[], output: string, afterCopy: (part: string) => void = () => undefined): void {
  if (parts.length === 0) throw new Error('nothing to concatenate: no Parquet parts');
  const out = fs.openSync(output, 'w');
  try {
    let first: FileMetaData | undefined;
    const rowGroups: WriterRowGroup[] = [];
    let rows = 0n;
    let at = 4;
    fs.writeSync(out, Buffer.from('PAR1'), 0, 4, 0);
    for (const file of parts) {
      const fd = fs.openSync(file, 'r');
      try {
        const part = readPart(fd, file);
        first ??= part.metadata;
        if (schemaKey(part.metadata.schema) !== schemaKey(first.schema)) throw new Error(`${file} has another schema than ${parts[0]}`);
        copyRange(fd, out, 4, part.dataEnd, at);
        const by = BigInt(at - 4);
        for (const g of part.metadata.row_groups) rowGroups.push(movedRowGroup(g, by));
        rows += part.metadata.num_rows;
        at += part.dataEnd - 4;
      } finally {
        fs.closeSync(fd);
      }
      afterCopy(file);
    }
    const bytes = footerOf(first!, rowGroups, rows);
    fs.writeSync(out, bytes, 0, bytes.length, at);
  } finally {
    fs.closeSync(out);
  }
}

/**
 * `concatParquetFiles` for objects in the data lake: footers are read with ranged reads, the row
 * group bytes streamed from each part into the output in turn, so memory stays at what the
 * upload buffers whatever the parts' sizes.
 */
export async function concatLakeParquet(lake: DataLake, parts: readonly string[], output: string): Promise<void> {
  if (parts.length === 0) throw new Error('nothing to concatenate: no Parquet parts');
  const ranges: { part: string; dataEnd: number }[] = [];
  const rowGroups: WriterRowGroup[] = [];
  let first: FileMetaData | undefined;
  let rows = 0n;
  let at = 4;
  for (const part of parts) {
    const info = await lake.stat(part);
    if (!info) throw new Error(`the Parquet part '${part}' does not exist`);
    // Timestamps stay bigint: a Date would round statistics outside its range.
    const metadata = await hyparquet.parquetMetadataAsync(lakeAsyncBuffer(lake, part, info.size), {
      geoparquet: false,
      parsers: { timestampFromMilliseconds: (ms: bigint) => ms },
    });
    first ??= metadata;
    if (schemaKey(metadata.schema) !== schemaKey(first.schema)) throw new Error(`${part} has another schema than ${parts[0]}`);
    const dataEnd = info.size - 8 - metadata.metadata_length;
    for (const g of metadata.row_groups) rowGroups.push(movedRowGroup(g, BigInt(at - 4)));
    rows += metadata.num_rows;
    ranges.push({ part, dataEnd });
    at += dataEnd - 4;
  }
  const footer = footerOf(first!, rowGroups, rows);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('PAR1');
    for (const { part, dataEnd } of ranges) if (dataEnd > 4) yield* await lake.read(part, { offset: 4, length: dataEnd - 4 });
    yield footer;
  }
  await lake.write(output, Readable.from(bytes()), { contentType: 'application/vnd.apache.parquet' });
}

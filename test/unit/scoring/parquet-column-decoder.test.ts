import { gzipSync } from 'node:zlib';

import {
  type ColumnMetaData,
  hyparquet,
  hyparquetWriter,
  type SchemaElement,
  writeMetadata,
  writePageHeader,
  type WriterSchemaElement,
} from '../../../shared/adapters/tabular/hyparquet';
import { decodeColumnChunk, type ParquetCellKind } from '../../../shared/adapters/tabular/parquet-column-decoder';
import {
  bufferAsyncBuffer,
  parquetColumns,
  readParquetMetadata,
  readParquetRowGroups,
} from '../../../shared/adapters/tabular/parquet-reader';

/** Hand-made pages: each test crafts the bytes of one defect. */
type PageHeader = Parameters<typeof writePageHeader>[1];

function headerBytes(header: PageHeader): Buffer {
  const writer = new hyparquetWriter.ByteWriter();
  writePageHeader(writer, header);
  return Buffer.from(writer.getBuffer());
}

const DOUBLE: SchemaElement = { name: 'd', type: 'DOUBLE', repetition_type: 'REQUIRED' };
const TEXT: SchemaElement = { name: 's', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' };
/** A column hyparquet decodes for us (DECIMAL is not decoded natively). */
const DECIMAL: SchemaElement = {
  name: 'dec',
  type: 'INT32',
  repetition_type: 'REQUIRED',
  converted_type: 'DECIMAL',
  scale: 2,
  precision: 9,
};

const metaOf = (element: SchemaElement, codec: ColumnMetaData['codec'], chunk: Buffer): ColumnMetaData => ({
  type: element.type!,
  encodings: ['PLAIN'],
  path_in_schema: [element.name],
  codec,
  num_values: 0n,
  total_uncompressed_size: BigInt(chunk.length),
  total_compressed_size: BigInt(chunk.length),
  data_page_offset: 4n,
});

const dictionaryPage = (body: Buffer, values: number) =>
  Buffer.concat([
    headerBytes({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: body.length,
      dictionary_page_header: { num_values: values, encoding: 'PLAIN_DICTIONARY' },
    }),
    body,
  ]);

const dataPage = (body: Buffer, values: number, encoding: 'PLAIN' | 'RLE_DICTIONARY', uncompressed = body.length) =>
  Buffer.concat([
    headerBytes({
      type: 'DATA_PAGE',
      uncompressed_page_size: uncompressed,
      compressed_page_size: body.length,
      data_page_header: {
        num_values: values,
        encoding,
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    }),
    body,
  ]);

/** A Parquet file of one row group holding one column chunk. */
function oneColumnFile(element: SchemaElement, codec: ColumnMetaData['codec'], chunk: Buffer, rows: number): Buffer {
  const writer = new hyparquetWriter.ByteWriter();
  writer.appendUint32(0x31524150);
  writer.appendBytes(chunk);
  const footerStart = writer.offset;
  writeMetadata(writer, {
    version: 2,
    schema: [{ name: 'root', num_children: 1 }, element as WriterSchemaElement],
    num_rows: BigInt(rows),
    row_groups: [
      {
        columns: [
          {
            file_offset: 4n,
            meta_data: {
              type: element.type!,
              encodings: ['PLAIN'],
              path_in_schema: [element.name],
              codec,
              num_values: BigInt(rows),
              total_uncompressed_size: BigInt(chunk.length),
              total_compressed_size: BigInt(chunk.length),
              data_page_offset: 4n,
            },
          },
        ],
        total_byte_size: BigInt(chunk.length),
        num_rows: BigInt(rows),
      },
    ],
    metadata_length: 0,
  });
  writer.appendUint32(writer.offset - footerStart);
  writer.appendUint32(0x31524150);
  return Buffer.from(writer.getBuffer());
}

async function readAll(buf: Buffer): Promise<void> {
  const file = bufferAsyncBuffer(buf);
  const metadata = await readParquetMetadata(file);
  const options = { start: 0, end: 1, columns: parquetColumns(metadata), firstRowNumber: 1 };
  for await (const rows of readParquetRowGroups(file, metadata, options)) rows.rawCells(0);
}

describe('Parquet column chunk decoder on corrupt pages', () => {
  it('when a GZIP page inflates far past the size its header says, then reading stops at that size with INVALID_INPUT_FILE, in our decoder and in hyparquet', async () => {
    // 32 MB of zeros in a 32 KB page that claims 8 bytes (one value).
    const bomb = gzipSync(Buffer.alloc(32 << 20));
    for (const element of [DOUBLE, DECIMAL]) {
      const size = element === DOUBLE ? 8 : 4;
      const chunk = dataPage(bomb, 1, 'PLAIN', size);
      await expect(readAll(oneColumnFile(element, 'GZIP', chunk, 1))).rejects.toMatchObject({
        code: 'INVALID_INPUT_FILE',
        message: expect.stringContaining(`a GZIP page inflates past the ${size} bytes its header says`),
      });
    }
    const good = Buffer.alloc(8);
    good.writeDoubleLE(1.25);
    const cells = decodeColumnChunk(
      new Uint8Array(dataPage(gzipSync(good), 1, 'PLAIN', 8)),
      metaOf(DOUBLE, 'GZIP', good),
      DOUBLE,
      { cells: 'number', unsigned: false },
      1,
    );
    expect(cells.number(0)).toBe(1.25);
  });

  it('when a page header gives a negative size, then decoding throws instead of reading pages again or looping', () => {
    const value = Buffer.alloc(8);
    value.writeDoubleLE(7);
    const page = dataPage(value, 1, 'PLAIN');
    // A dictionary page after the data page whose negative size points back at the data page.
    // (A size of the same varint length as the real one: the header's length does not change.)
    const backLength = headerBytes({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: 0,
      compressed_page_size: -(page.length + 16),
      dictionary_page_header: { num_values: 0, encoding: 'PLAIN' },
    }).length;
    const back = headerBytes({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: 0,
      compressed_page_size: -(page.length + backLength),
      dictionary_page_header: { num_values: 0, encoding: 'PLAIN' },
    });
    expect(back.length).toBe(backLength);
    const chunk = Buffer.concat([page, back]);
    const decode = (bytes: Buffer) => () =>
      decodeColumnChunk(new Uint8Array(bytes), metaOf(DOUBLE, 'UNCOMPRESSED', bytes), DOUBLE, { cells: 'number', unsigned: false }, 2);
    expect(decode(chunk)).toThrow('a page header gives a negative size');
    // A page pointing at its own header.
    const self = headerBytes({
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: 0,
      compressed_page_size: -backLength,
      dictionary_page_header: { num_values: 0, encoding: 'PLAIN' },
    });
    expect(decode(self)).toThrow('a page header gives a negative size');
  });

  it('when the bytes where a page header should start are not one (a file cut at its start), then decoding throws instead of looping forever', () => {
    const decode = (bytes: Buffer) => () =>
      decodeColumnChunk(new Uint8Array(bytes), metaOf(DOUBLE, 'UNCOMPRESSED', bytes), DOUBLE, { cells: 'number', unsigned: false }, 1);
    // A Thrift stop byte: a header struct with no fields, so no page sizes.
    expect(decode(Buffer.from([0, 0, 0, 0]))).toThrow('a page header is unreadable (no page sizes)');
    // A real page seen from inside its header: what a reader finds when the file lost its first bytes.
    const value = Buffer.alloc(8);
    value.writeDoubleLE(7);
    expect(decode(dataPage(value, 1, 'PLAIN').subarray(3))).toThrow('a page header is unreadable (no page sizes)');
  });

  it('when a data page gives a negative count or level length, or a V2 page more values than rows, then decoding says so', () => {
    const OPTIONAL: SchemaElement = { ...DOUBLE, repetition_type: 'OPTIONAL' };
    const value = Buffer.alloc(8);
    const decode = (element: SchemaElement, bytes: Buffer) => () =>
      decodeColumnChunk(new Uint8Array(bytes), metaOf(element, 'UNCOMPRESSED', bytes), element, { cells: 'number', unsigned: false }, 1);
    expect(decode(DOUBLE, dataPage(value, -1, 'PLAIN'))).toThrow('a data page of -1 values');
    const v2 = (levels: number, values: number) =>
      Buffer.concat([
        headerBytes({
          type: 'DATA_PAGE_V2',
          uncompressed_page_size: 8,
          compressed_page_size: 8,
          data_page_header_v2: {
            num_values: values,
            num_nulls: 0,
            num_rows: 1,
            encoding: 'PLAIN',
            definition_levels_byte_length: levels,
            repetition_levels_byte_length: 0,
            is_compressed: false,
          },
        }),
        value,
      ]);
    expect(decode(OPTIONAL, v2(-4, 1))).toThrow('a data page gives a negative definition levels length');
    expect(decode(DOUBLE, v2(0, 2))).toThrow('a data page of 1 rows holds 2 values (a flat column has one a row)');
    expect(decode(DOUBLE, v2(0, 1))().number(0)).toBe(0);
  });

  it('when INT96, DATE and millisecond timestamps lie outside the Date range, then they read as their stored value with its unit, never throwing', () => {
    const cases: [SchemaElement, ParquetCellKind, number[], string][] = [
      [{ name: 't', type: 'INT96', repetition_type: 'REQUIRED' }, { cells: 'time', unit: 'int96' }, [5, 0, 2 ** 31 - 1], 'Julian day 2147483647, 5 nanoseconds'],
      [{ name: 't', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'DATE' }, { cells: 'time', unit: 'days' }, [-(2 ** 31)], '-2147483648 days since 1970-01-01'],
      [
        { name: 't', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'TIMESTAMP_MILLIS' },
        { cells: 'time', unit: 'millis' },
        [-1, 2 ** 31 - 1],
        '9223372036854775807 milliseconds since 1970-01-01',
      ],
    ];
    for (const [element, kind, words, text] of cases) {
      const good = Int32Array.from(words.map(() => 0));
      const body = Buffer.from(Int32Array.from([...good, ...words]).buffer);
      const chunk = dataPage(body, 2, 'PLAIN');
      const cells = decodeColumnChunk(new Uint8Array(chunk), metaOf(element, 'UNCOMPRESSED', chunk), element, kind, 2);
      expect([cells.epochMillis(1), cells.text(1), cells.symbol(1)]).toEqual([NaN, text, text]);
      expect(cells.text(0)).toMatch(/^(1970-01-01|-004713-11-24)T/);
    }
  });

  it('when dictionary indexes have bit width 0 and no runs, then every row reads the first entry, as hyparquet reads it', async () => {
    const entry = Buffer.alloc(8);
    entry.writeDoubleLE(2.5);
    const chunk = Buffer.concat([dictionaryPage(entry, 1), dataPage(Buffer.from([0]), 3, 'RLE_DICTIONARY')]);
    const cells = decodeColumnChunk(new Uint8Array(chunk), metaOf(DOUBLE, 'UNCOMPRESSED', chunk), DOUBLE, { cells: 'number', unsigned: false }, 3);
    const numbers = new Float64Array(3);
    cells.numbers(numbers, 0);
    expect(Array.from(numbers)).toEqual([2.5, 2.5, 2.5]);
    const file = oneColumnFile(DOUBLE, 'UNCOMPRESSED', chunk, 3);
    const theirs = await hyparquet.parquetReadObjects({ file: bufferAsyncBuffer(file) });
    expect(theirs.map((r) => r.d)).toEqual([2.5, 2.5, 2.5]);
  });

  it('when a dictionary index has its top bit set, then decoding throws rather than reading a null or a zero', () => {
    // Index 0xFFFFFFFF (negative as a 32-bit integer) in an RLE run of 3 at bit width 32.
    const indexes = Buffer.from([32, 3 << 1, 0xff, 0xff, 0xff, 0xff]);
    const text = Buffer.concat([dictionaryPage(Buffer.from([3, 0, 0, 0, 0x61, 0x62, 0x63]), 1), dataPage(indexes, 3, 'RLE_DICTIONARY')]);
    expect(() => decodeColumnChunk(new Uint8Array(text), metaOf(TEXT, 'UNCOMPRESSED', text), TEXT, { cells: 'text' }, 3)).toThrow(
      'dictionary index 4294967295 past the 1 entries',
    );
    const number = Buffer.concat([dictionaryPage(Buffer.alloc(8), 1), dataPage(indexes, 3, 'RLE_DICTIONARY')]);
    expect(() =>
      decodeColumnChunk(new Uint8Array(number), metaOf(DOUBLE, 'UNCOMPRESSED', number), DOUBLE, { cells: 'number', unsigned: false }, 3),
    ).toThrow('dictionary index 4294967295 past the 1 entries');
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';

import { hyparquet, hyparquetWriter } from '../../../shared/adapters/tabular/hyparquet';
import {
  BoxedCells,
  type ColumnCells,
  int64TimestampMillis,
  int96TimestampMillis,
} from '../../../shared/adapters/tabular/parquet-cells';
import { columnKind, decodeColumnChunk } from '../../../shared/adapters/tabular/parquet-column-decoder';
import {
  bufferAsyncBuffer,
  parquetColumns,
  readParquetMetadata,
  readParquetRowGroups,
} from '../../../shared/adapters/tabular/parquet-reader';
import { BufferedParquetSink } from '../../../shared/adapters/tabular/parquet-writer';
import { snappyCompress, snappyUncompress } from '../../../shared/adapters/tabular/snappy';
import { seededRandom } from '../../../shared/domain/random';
import type { RawRows } from '../../../shared/domain/raw-rows';
import { layoutColumns, validateRows } from '../../../shared/domain/row-validation';
import { modelInputSchema } from '../../../shared/schemas/model';

/** What a cell answers to every question of RawRows; a question that throws answers 'throws'. */
function answers(cells: ColumnCells, row: number): unknown[] {
  const ask = (f: () => unknown) => {
    try {
      return f();
    } catch {
      return 'throws';
    }
  };
  return [
    cells.isEmpty(row),
    cells.number(row),
    ask(() => cells.text(row)),
    ask(() => cells.symbol(row)),
    cells.epochMillis(row),
  ];
}

/** Every column of the file as hyparquet decodes it, one BoxedCells per column over all rows. */
async function hyparquetCells(buf: Buffer): Promise<Map<string, ColumnCells>> {
  const file = bufferAsyncBuffer(buf);
  const metadata = await readParquetMetadata(file);
  const rows = await hyparquet.parquetReadObjects({
    file,
    metadata,
    compressors: { GZIP: (input) => gunzipSync(input) },
  });
  return new Map(parquetColumns(metadata).map((name) => [name, new BoxedCells(rows.map((r) => r[name]))]));
}

/** Cells that differ between ours and hyparquet's, as readable lines (empty when all agree). */
function differences(
  ours: ColumnCells,
  theirs: ColumnCells,
  rows: number,
  name: string,
  offset = 0,
): string[] {
  const out: string[] = [];
  const numbers = new Float64Array(rows);
  ours.numbers(numbers, 0);
  for (let r = 0; r < rows && out.length < 5; r += 1) {
    const a = answers(ours, r);
    const b = answers(theirs, offset + r);
    if (!Object.is(numbers[r], a[1]))
      out.push(`${name}[${offset + r}] numbers() ${numbers[r]} vs number() ${String(a[1])}`);
    if (!a.every((v, k) => Object.is(v, b[k])))
      out.push(`${name}[${offset + r}]: ${String(a)} vs ${String(b)}`);
  }
  return out;
}

async function readAll(
  buf: Buffer,
  start = 0,
  firstRowNumber = 1,
): Promise<{ columns: string[]; batches: RawRows[] }> {
  const file = bufferAsyncBuffer(buf);
  const metadata = await readParquetMetadata(file);
  const columns = parquetColumns(metadata);
  const batches: RawRows[] = [];
  const options = { start, end: metadata.row_groups.length, columns, firstRowNumber };
  for await (const rows of readParquetRowGroups(file, metadata, options)) batches.push(rows);
  return { columns, batches };
}

/** Reads the file with readParquetRowGroups and lists every cell that answers unlike hyparquet's. */
async function compareWithHyparquet(buf: Buffer): Promise<string[]> {
  const reference = await hyparquetCells(buf);
  const { columns, batches } = await readAll(buf);
  const out: string[] = [];
  let offset = 0;
  for (const rows of batches) {
    columns.forEach((name, c) => {
      const ours: ColumnCells = {
        isEmpty: (r) => rows.isEmpty(c, r),
        number: (r) => rows.number(c, r),
        numbers: (o) => rows.numbers!(c, o),
        text: (r) => rows.text(c, r),
        symbol: (r) => rows.symbol!(c, r),
        epochMillis: (r) => rows.epochMillis!(c, r),
      };
      out.push(...differences(ours, reference.get(name)!, rows.rowCount, name, offset));
    });
    offset += rows.rowCount;
  }
  return out;
}

/** Decodes each column chunk of the file with our decoder alone; the names of the columns it decodes. */
async function decodedNatively(buf: Buffer): Promise<{ names: string[]; differences: string[] }> {
  const file = bufferAsyncBuffer(buf);
  const metadata = await readParquetMetadata(file);
  const reference = await hyparquetCells(buf);
  const elements = new Map(
    hyparquet.parquetSchema(metadata).children.map((c) => [c.element.name, c.element]),
  );
  const names = new Set<string>();
  const found: string[] = [];
  let offset = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      const name = meta.path_in_schema.join('.');
      const element = elements.get(name);
      const kind = element && columnKind(element);
      if (!element || !kind) continue;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset + start, Number(meta.total_compressed_size));
      try {
        const cells = decodeColumnChunk(bytes, meta, element, kind, rows);
        names.add(name);
        found.push(...differences(cells, reference.get(name)!, rows, name, offset));
      } catch (e) {
        if ((e as Error).constructor.name !== 'UnsupportedColumn') throw e;
      }
    }
    offset += rows;
  }
  return { names: [...names].sort(), differences: found };
}

async function duckdbParquet(select: string, options: string): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pq-read-'));
  const file = path.join(dir, 'd.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (${select}) TO '${file}' (FORMAT parquet, ${options})`);
    return fs.readFileSync(file);
  } finally {
    connection.closeSync();
    instance.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every column type a feature schema can read, with nulls, edge values, dictionary and PLAIN pages. */
const ALL_TYPES = `
  SELECT
    'id-' || i AS id_text,
    CASE WHEN i % 7 = 0 THEN NULL ELSE ['north', 'süd', 'east-😀', ''][i % 4 + 1] END AS region,
    CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN '\\xEF\\xBB\\xBFbom'::BLOB WHEN i % 9 = 2 THEN '\\xFF\\xFEbad'::BLOB ELSE ('b' || i % 4)::BLOB END AS bytes,
    CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
    (i % 100)::TINYINT AS tiny,
    i::INTEGER AS int_required,
    CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7919 - 40000000)::INTEGER END AS int32,
    CASE WHEN i % 13 = 0 THEN NULL WHEN i % 13 = 1 THEN (i * 922337203685477 * (1 - 2 * (i % 2)))::BIGINT ELSE (i::BIGINT * 1000000007 * (1 - 2 * (i % 2))) END AS int64,
    (CASE WHEN i % 3 = 0 THEN 4000000000 ELSE i * 3 END)::UINTEGER AS uint32,
    CASE WHEN i % 17 = 0 THEN NULL ELSE (i / 7.0)::FLOAT END AS f32,
    CASE WHEN i % 19 = 0 THEN NULL WHEN i % 19 = 1 THEN 'NaN'::DOUBLE WHEN i % 19 = 2 THEN '-inf'::DOUBLE WHEN i % 19 = 3 THEN -0.0::DOUBLE ELSE i * 0.001 - 3 END AS f64,
    ((i % 3) * 1.5)::DOUBLE AS f64_dict,
    CASE WHEN i % 23 = 0 THEN NULL ELSE DATE '1960-01-01' + (i * 3)::INTEGER END AS day,
    TIMESTAMP '1969-12-31 23:59:59.999' + INTERVAL (i * 1234567) MICROSECOND AS ts_us,
    CASE WHEN i % 29 = 0 THEN NULL WHEN i % 29 = 1 THEN TIMESTAMP '9999-12-31 23:59:59.999999' ELSE TIMESTAMP '1900-01-01' + INTERVAL (i * 3456789) SECOND END::TIMESTAMPTZ AS ts_tz,
    (TIMESTAMP '1965-06-01 12:00:00' + INTERVAL (i * 1001) MILLISECOND)::TIMESTAMP_MS AS ts_ms,
    (TIMESTAMP '1969-12-31 23:59:59' + INTERVAL (i * 333) MICROSECOND)::TIMESTAMP_NS AS ts_ns,
    (i / 100.0)::DECIMAL(10, 2) AS dec,
    [i, i + 1] AS list
  FROM range(10000) t(i)`;

const NATIVE = [
  'bytes',
  'day',
  'f32',
  'f64',
  'f64_dict',
  'flag',
  'id_text',
  'int32',
  'int64',
  'int_required',
  'region',
  'tiny',
  'ts_ms',
  'ts_ns',
  'ts_tz',
  'ts_us',
  'uint32',
];

describe('snappyUncompress', () => {
  const random = seededRandom(17);
  const bytes = (n: number, alphabet: number) =>
    Uint8Array.from({ length: n }, () => Math.floor(random.next() * alphabet));

  it('when our compressor output is decompressed, then it matches the input and hyparquet decompresses it the same', () => {
    const inputs = [
      new Uint8Array(0),
      new Uint8Array(100_000),
      ...Array.from({ length: 30 }, (_, n) => bytes(n, 3)),
    ];
    for (const alphabet of [2, 16, 256])
      for (const n of [17, 300, 65_536, 200_001]) inputs.push(bytes(n, alphabet));
    for (const input of inputs) {
      const compressed = snappyCompress(input).slice();
      const ours = new Uint8Array(input.length);
      snappyUncompress(compressed, ours);
      const theirs = new Uint8Array(input.length);
      hyparquet.snappyUncompress(compressed, theirs);
      expect(Buffer.from(ours).equals(Buffer.from(input))).toBe(true);
      expect(Buffer.from(theirs).equals(Buffer.from(input))).toBe(true);
    }
  });

  it('when hand-made streams use long literals, 4-byte offsets and overlapping copies, then they decode as hyparquet decodes them', () => {
    const literal = bytes(300, 256);
    // Length 400; a 300-byte literal (tag 61: 2 length bytes), a 4-byte-offset copy of 50, an overlapping 1-byte-offset copy of 50.
    const stream = Uint8Array.from([
      0x90,
      0x03,
      61 << 2,
      299 & 0xff,
      299 >> 8,
      ...literal,
      3 | (49 << 2),
      100,
      0,
      0,
      0,
      2 | (49 << 2),
      1,
      0,
    ]);
    const ours = new Uint8Array(400);
    const theirs = new Uint8Array(400);
    snappyUncompress(stream, ours);
    hyparquet.snappyUncompress(stream, theirs);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it('when the stream is cut, points before the output, or disagrees with the expected length, then it throws', () => {
    const input = bytes(5_000, 4);
    const compressed = snappyCompress(input).slice();
    expect(() =>
      snappyUncompress(compressed.subarray(0, compressed.length - 3), new Uint8Array(5_000)),
    ).toThrow();
    expect(() => snappyUncompress(compressed, new Uint8Array(4_999))).toThrow(/header says/);
    expect(() => snappyUncompress(Uint8Array.from([8, 1 | (4 << 2), 9]), new Uint8Array(8))).toThrow(
      /outside the output/,
    );
  });
});

describe('timestamps without BigInt', () => {
  const random = seededRandom(23);
  const word = () => Math.floor(random.next() * 2 ** 32) | 0;
  const asDate = (v: bigint) => new Date(Number(v)).getTime();

  it('when INT64 timestamps in ms, µs and ns are converted, then they equal BigInt division truncated towards zero', () => {
    const pairs: [number, number][] = [
      [0, 0],
      [-1, -1],
      [-500, -1],
      [0, -(2 ** 31)],
      [-1, 2 ** 31 - 1],
      [1000, 0],
    ];
    for (let k = 0; k < 3000; k += 1) pairs.push([word(), k % 3 === 0 ? word() : (word() % 60_000) | 0]);
    for (const [lo, hi] of pairs) {
      const v = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      expect(int64TimestampMillis(lo, hi, 1)).toEqual(asDate(v));
      expect(int64TimestampMillis(lo, hi, 1000)).toEqual(asDate(v / 1000n));
      expect(int64TimestampMillis(lo, hi, 1_000_000)).toEqual(asDate(v / 1_000_000n));
    }
  });

  it('when INT96 timestamps are converted, then they equal hyparquet BigInt arithmetic, a sign-bit nanosecond field included', () => {
    const triples: [number, number, number][] = [
      [0, 0, 2_440_588],
      [1, 0, 2_440_587],
      [-1, -1, 2_440_588],
      [0, 0, 0],
    ];
    for (let k = 0; k < 3000; k += 1) {
      const nanos = Math.floor(random.next() * 86_400e9);
      triples.push([
        (nanos % 2 ** 32) | 0,
        Math.floor(nanos / 2 ** 32),
        2_400_000 + Math.floor(random.next() * 100_000),
      ]);
      triples.push([word(), word(), word()]);
    }
    for (const [lo, hi, day] of triples) {
      const low = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      const value = (BigInt(day) << 64n) | low;
      const nanos = ((value >> 64n) - 2_440_588n) * 86_400_000_000_000n + (value & 0xffffffffffffffffn);
      expect(int96TimestampMillis(lo, hi, day)).toEqual(asDate(nanos / 1_000_000n));
    }
  });
});

describe('Parquet column chunk decoder', () => {
  for (const options of [
    'COMPRESSION snappy',
    'COMPRESSION gzip',
    'COMPRESSION uncompressed',
    'COMPRESSION snappy, PARQUET_VERSION v2',
  ]) {
    it(`when DuckDB writes every type with nulls over several row groups (${options}), then each cell reads as hyparquet reads it`, async () => {
      const buf = await duckdbParquet(ALL_TYPES, `${options}, ROW_GROUP_SIZE 2048`);
      const native = await decodedNatively(buf);
      expect(native.differences).toEqual([]);
      // v2 encodes integers, timestamps and unique text with DELTA encodings, left to hyparquet.
      const expected = options.includes('v2') ? ['bytes', 'f64_dict', 'flag', 'region', 'tiny'] : NATIVE;
      expect(native.names).toEqual(expect.arrayContaining(expected));
      expect(await compareWithHyparquet(buf)).toEqual([]);
    });
  }

  it('when our writer writes DATA_PAGE_V2 pages with nulls and dictionaries, then each cell reads as hyparquet reads it', async () => {
    const random = seededRandom(3);
    const sink = new BufferedParquetSink();
    for (const rows of [3_000, 1, 1_500]) {
      sink.writeRowGroup([
        {
          name: 'id',
          type: 'string',
          values: Array.from({ length: rows }, (_, i) => (i % 97 === 5 ? null : `row-${i}-é`)),
        },
        {
          name: 'segment',
          type: 'string',
          values: Array.from({ length: rows }, (_, i) => (i % 13 === 0 ? null : ['a', 'b', ''][i % 3]!)),
        },
        {
          name: 'ts',
          type: 'timestamp',
          values: Float64Array.from({ length: rows }, (_, i) =>
            i % 31 === 7 ? NaN : Math.round((random.next() - 0.3) * 8e12),
          ),
        },
        {
          name: 'prediction',
          type: 'double',
          values: Float64Array.from({ length: rows }, () => random.next() - 0.5),
        },
        { name: 'source_row', type: 'int32', values: Int32Array.from({ length: rows }, (_, i) => i - 1000) },
      ]);
    }
    const buf = sink.finish();
    const native = await decodedNatively(buf);
    expect(native.names).toEqual(['id', 'prediction', 'segment', 'source_row', 'ts']);
    expect(native.differences).toEqual([]);
    expect(await compareWithHyparquet(buf)).toEqual([]);
  });

  it('when hyparquet-writer writes pages of several kinds, then each cell reads as hyparquet reads it', async () => {
    const n = 5_000;
    const buf = Buffer.from(
      hyparquetWriter.parquetWriteBuffer({
        columnData: [
          {
            name: 'text',
            data: Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : `v${i % 50}`)),
            type: 'STRING',
            nullable: true,
          },
          {
            name: 'number',
            data: Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i / 3)),
            type: 'DOUBLE',
            nullable: true,
          },
          {
            name: 'flag',
            data: Array.from({ length: n }, (_, i) => i % 3 === 0),
            type: 'BOOLEAN',
            nullable: false,
          },
          { name: 'count', data: Array.from({ length: n }, (_, i) => i % 4), type: 'INT32', nullable: true },
        ],
        rowGroupSize: 2_000,
      }),
    );
    expect(await compareWithHyparquet(buf)).toEqual([]);
  });

  it('when a row group holds more cells than a batch, then it is handed on in batches that keep file row numbers and read every cell as hyparquet does', async () => {
    // 40 columns: a batch is 6,553 rows, so the one 20,000-row group comes in four batches.
    const columns = Array.from({ length: 40 }, (_, j) => `CASE WHEN (i + ${j}) % 11 = 0 THEN NULL ELSE i * ${j + 1} END AS c${j}`);
    const buf = await duckdbParquet(`SELECT ${columns.join(', ')} FROM range(20000) t(i)`, 'ROW_GROUP_SIZE 100000');
    const { batches } = await readAll(buf, 0, 1);
    expect(batches.map((b) => [b.rowCount, b.rowNumber(0)])).toEqual([
      [6553, 1],
      [6553, 6554],
      [6553, 13107],
      [341, 19660],
    ]);
    const last = batches[3]!;
    expect([last.number(5, 0), last.isEmpty(5, 0)]).toEqual([19659 * 6, false]);
    expect(await compareWithHyparquet(buf)).toEqual([]);
  });

  it('when row groups after the first are read, then rows keep their file numbers', async () => {
    const buf = await duckdbParquet('SELECT i AS n FROM range(5000) t(i)', 'ROW_GROUP_SIZE 2048');
    const { batches } = await readAll(buf, 1, 2049);
    expect(batches.map((b) => [b.rowCount, b.rowNumber(0), b.number(0, 0)])).toEqual([
      [2048, 2049, 2048],
      [904, 4097, 4096],
    ]);
  });

  it('when a column is ZSTD-compressed, then reading fails with INVALID_INPUT_FILE naming the codec', async () => {
    const buf = await duckdbParquet('SELECT i AS n FROM range(10) t(i)', 'COMPRESSION zstd');
    await expect(readAll(buf)).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message: expect.stringContaining("'n' is compressed with ZSTD"),
    });
  });

  it('when a page of a column chunk is corrupt, then reading fails with INVALID_INPUT_FILE naming the row group and column', async () => {
    const buf = await duckdbParquet(
      "SELECT 'x' || i AS s, i::DOUBLE AS d FROM range(3000) t(i)",
      'COMPRESSION snappy, ROW_GROUP_SIZE 2048',
    );
    const metadata = await readParquetMetadata(bufferAsyncBuffer(buf));
    const meta = metadata.row_groups[1]!.columns[1]!.meta_data!;
    const damaged = Buffer.from(buf);
    // Past the page header: the Snappy stream of the second group's DOUBLE column.
    damaged.fill(
      0xff,
      Number(meta.data_page_offset) + 12,
      Number(meta.data_page_offset + meta.total_compressed_size),
    );
    await expect(readAll(damaged)).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message: expect.stringMatching(/^row group 1 cannot be read .*column 'd'/),
    });
  });

  for (const options of ['COMPRESSION snappy', 'COMPRESSION snappy, PARQUET_VERSION v2']) {
    it(`when a timestamp lies outside the Date range next to good rows (${options}), then validation rejects that row with its stored value and keeps the others`, async () => {
      const buf = await duckdbParquet(
        `SELECT i AS id, CASE WHEN i = 2 THEN TIMESTAMP '280000-01-01' ELSE TIMESTAMP '2024-01-01' + INTERVAL (i) DAY END AS ts,
           CASE WHEN i = 3 THEN DATE '5000000-01-01' ELSE DATE '2020-01-01' END AS since, i * 1.5 AS x FROM range(1, 5) t(i)`,
        options,
      );
      const model = modelInputSchema.parse({
        name: 'churn',
        task: 'regression',
        idColumn: 'id',
        timestampColumn: 'ts',
        features: [
          { name: 'x', type: 'numeric' },
          { name: 'since', type: 'datetime' },
        ],
      });
      const { columns, batches } = await readAll(buf);
      const out = validateRows(batches[0]!, layoutColumns(model, columns));
      expect(out.ids).toEqual(['1', '4']);
      expect(out.rejected.map((r) => [r.row, r.code])).toEqual([
        [2, 'bad_timestamp'],
        [3, 'not_a_datetime:since'],
      ]);
      // Our decoder keeps the stored value; hyparquet (v2's DELTA pages) has only an invalid Date.
      const [ts, since] = options.includes('v2')
        ? ['Invalid Date', 'Invalid Date']
        : ['8773779340800000000 microseconds since 1970-01-01', '1825492972 days since 1970-01-01'];
      expect(out.rejected[0]!.cells).toEqual(['2', ts, '2020-01-01T00:00:00.000Z', '3']);
      expect(out.rejected[1]!.cells[2]).toEqual(since);
    });
  }

  it('when the consumer stops after the first row group, then only that group and the one prefetched are fetched, and nothing after', async () => {
    const buf = await duckdbParquet('SELECT i AS n FROM range(8000) t(i)', 'ROW_GROUP_SIZE 2048');
    const inner = bufferAsyncBuffer(buf);
    const metadata = await readParquetMetadata(inner);
    const reads: number[] = [];
    const file = { byteLength: inner.byteLength, slice: (start: number, end?: number) => (reads.push(start), inner.slice(start, end)) };
    const starts = metadata.row_groups.map((g) => Number(g.columns[0]!.meta_data!.data_page_offset));
    expect(starts).toHaveLength(4);
    const options = { start: 0, end: 4, columns: ['n'], firstRowNumber: 1 };
    for await (const rows of readParquetRowGroups(file, metadata, options)) {
      expect(rows.rowCount).toBe(2048);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads.map((start) => starts.findIndex((s) => s >= start))).toEqual([0, 1]);
  });
});

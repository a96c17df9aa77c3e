import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { bufferAsyncBuffer, parquetColumns, readParquetMetadata, readParquetRowGroups } from '../../../shared/adapters/tabular/parquet-reader';
import { BufferedParquetSink } from '../../../shared/adapters/tabular/parquet-writer';
import { seededRandom } from '../../../shared/domain/random';
import type { OutputColumn } from '../../../shared/ports/tabular-files';
import { duckdbShapeOf } from '../../support/duckdb-read';
import { readParquetRows } from '../../support/scoring-fixtures';

/** The columns of the files these tests write, as DuckDB types them. */
const DUCKDB_COLUMNS: [string, string][] = [
  ['id', 'VARCHAR'],
  ['ts', 'TIMESTAMP'],
  ['segment', 'VARCHAR'],
  ['prediction', 'DOUBLE'],
  ['model_version', 'INTEGER'],
  ['source_row', 'INTEGER'],
];

interface Rows {
  id: (string | null)[];
  ts: Float64Array;
  segment: (string | null)[];
  prediction: Float64Array;
  version: Int32Array;
  row: Int32Array;
}

/** Rows with what the encoder must get right: nulls, non-ASCII text, pre-1970 and far-future times, -0. */
function sampleRows(n: number, seed: number): Rows {
  const random = seededRandom(seed);
  const segments = ['north', 'süd', 'east-😀', ''];
  const rows: Rows = {
    id: [],
    ts: new Float64Array(n),
    segment: [],
    prediction: new Float64Array(n),
    version: new Int32Array(n),
    row: new Int32Array(n),
  };
  for (let i = 0; i < n; i += 1) {
    rows.id.push(i % 97 === 5 ? null : `row-${i}-${i % 3 === 0 ? 'é' : 'x'}`);
    rows.ts[i] = i % 31 === 7 ? NaN : Math.round((random.next() - 0.3) * 8e12);
    rows.segment.push(i % 13 === 0 ? null : segments[Math.floor(random.next() * segments.length)]!);
    rows.prediction[i] = i === 3 ? -0 : (random.next() - 0.5) * 10 ** Math.floor(random.next() * 20 - 10);
    rows.version[i] = 7;
    rows.row[i] = i + 1 - (i === 9 ? 2 ** 31 : 0);
  }
  return rows;
}

function columnsOf(rows: Rows, from: number, to: number): OutputColumn[] {
  return [
    { name: 'id', type: 'string', values: rows.id.slice(from, to) },
    { name: 'ts', type: 'timestamp', values: rows.ts.subarray(from, to) },
    { name: 'segment', type: 'string', values: rows.segment.slice(from, to) },
    { name: 'prediction', type: 'double', values: rows.prediction.subarray(from, to) },
    { name: 'model_version', type: 'int32', values: rows.version.subarray(from, to) },
    { name: 'source_row', type: 'int32', values: rows.row.subarray(from, to) },
  ];
}

function write(rows: Rows, groups: number[]): Buffer {
  const sink = new BufferedParquetSink();
  let at = 0;
  for (const n of groups) {
    sink.writeRowGroup(columnsOf(rows, at, at + n));
    at += n;
  }
  return sink.finish();
}

const expected = (rows: Rows, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: rows.id[i],
    ts: Number.isNaN(rows.ts[i]) ? null : rows.ts[i],
    segment: rows.segment[i],
    prediction: rows.prediction[i],
    model_version: rows.version[i],
    source_row: rows.row[i],
  }));

describe('BufferedParquetSink', () => {
  const n = 5_000;
  const rows = sampleRows(n, 11);
  const groups = [4_000, 1, 999];

  it('when row groups are written, then hyparquet reads back every value, nulls included', async () => {
    const out = await readParquetRows(write(rows, groups));
    const asMillis: Record<string, unknown>[] = out.map((r) => ({ ...r, ts: r.ts instanceof Date ? r.ts.getTime() : r.ts }));
    expect(asMillis).toEqual(expected(rows, n));
    expect(Object.is(asMillis[3]!.prediction, -0)).toBe(true);
  });

  it('when DuckDB reads the file, then it sees the same schema and values', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-'));
    const file = path.join(dir, 'p.parquet');
    fs.writeFileSync(file, write(rows, groups));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      expect((await duckdbShapeOf(file)).columns).toEqual(DUCKDB_COLUMNS);
      const read = await connection.runAndReadAll(
        `SELECT id, epoch_ms(ts) AS ts, segment, prediction, model_version, source_row FROM read_parquet('${file}')`,
      );
      const got = read.getRowsJS().map(([id, ts, segment, prediction, version, row]) => ({
        id,
        ts: ts === null ? null : Number(ts as bigint),
        segment,
        prediction,
        model_version: version,
        source_row: row,
      }));
      expect(got).toEqual(expected(rows, n));
    } finally {
      connection.closeSync();
      instance.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a dictionary-coded column repeats values in runs of every length, then hyparquet and DuckDB read each value where it was written', async () => {
    // Runs shorter and longer than an RLE run, starting on and off the 8-value group boundaries,
    // nulls inside runs, a constant stretch, and a column that is one value throughout.
    const runs: [string | null, number][] = [['a', 1], ['b', 15], ['c', 16], ['a', 17], [null, 3], ['d', 1000], ['e', 8], [null, 1], ['e', 24], ['f', 5], ['a', 40], ['b', 2]];
    const segment = runs.flatMap(([value, length]) => new Array<string | null>(length).fill(value));
    const m = segment.length;
    const sink = new BufferedParquetSink();
    sink.writeRowGroup([
      { name: 'segment', type: 'string', values: segment },
      { name: 'run_id', type: 'string', values: new Array<string>(m).fill('run-7') },
      { name: 'source_row', type: 'int32', values: Int32Array.from({ length: m }, (_, i) => i) },
    ]);
    const file = sink.finish();
    const wanted = segment.map((value, i) => ({ segment: value, run_id: 'run-7', source_row: i }));
    expect(await readParquetRows(file)).toEqual(wanted);
    const ours = bufferAsyncBuffer(file);
    const metadata = await readParquetMetadata(ours);
    const read: Record<string, unknown>[] = [];
    for await (const batch of readParquetRowGroups(ours, metadata, { start: 0, end: 1, columns: ['segment', 'run_id', 'source_row'], firstRowNumber: 1 }))
      for (let r = 0; r < batch.rowCount; r += 1) read.push({ segment: batch.text(0, r), run_id: batch.text(1, r), source_row: batch.number(2, r) });
    expect(read).toEqual(wanted);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-runs-'));
    fs.writeFileSync(path.join(dir, 'runs.parquet'), file);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = await connection.runAndReadAll(`SELECT segment, run_id, source_row FROM read_parquet('${path.join(dir, 'runs.parquet')}') ORDER BY source_row`);
      expect(read.getRowObjectsJS()).toEqual(wanted);
    } finally {
      connection.closeSync();
      instance.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a double or int32 column is given a null (a plain array), then writing refuses it instead of storing 0', () => {
    const id: OutputColumn = { name: 'id', type: 'string', values: ['a', 'b'] };
    expect(() => new BufferedParquetSink().writeRowGroup([id, { name: 'income', type: 'double', values: [1.5, null] }])).toThrow(
      "the double column 'income' has null at row 1: its values are all required numbers (NaN for a missing one)",
    );
    expect(() => new BufferedParquetSink().writeRowGroup([id, { name: 'n', type: 'int32', values: ['7', 8] }])).toThrow("the int32 column 'n' has \"7\" at row 0");
    // NaN is a double's missing value, and plain arrays of numbers are fine.
    expect(() => new BufferedParquetSink().writeRowGroup([id, { name: 'income', type: 'double', values: [1.5, NaN] }, { name: 'n', type: 'int32', values: [1, 2] }])).not.toThrow();
  });

  it('when the same row groups are written twice, then the files are byte-identical', () => {
    expect(write(rows, groups).equals(write(rows, groups))).toBe(true);
  });

  it('when the file is finished, then it ends with the footer, one length word and the magic', () => {
    const file = write(rows, groups);
    const footerLength = file.readUInt32LE(file.length - 8);
    expect(file.subarray(file.length - 4).toString('latin1')).toBe('PAR1');
    // A second length word (the footer's own, written again) would sit just before this one and
    // be counted in it: readers tolerate the trailing bytes, the format does not allow them.
    expect(file.readUInt32LE(file.length - 12)).not.toBe(footerLength - 4);
  });

  it('when no row group has rows, then the file has the schema and no rows, for hyparquet, our reader and DuckDB', async () => {
    const sink = new BufferedParquetSink();
    sink.writeRowGroup(columnsOf(rows, 0, 0));
    const file = sink.finish();
    expect(await readParquetRows(file)).toEqual([]);
    const metadata = await readParquetMetadata(bufferAsyncBuffer(file));
    expect(metadata).toMatchObject({ num_rows: 0n, row_groups: [] });
    expect(parquetColumns(metadata)).toEqual(['id', 'ts', 'segment', 'prediction', 'model_version', 'source_row']);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-empty-'));
    try {
      fs.writeFileSync(path.join(dir, 'empty.parquet'), file);
      expect(await duckdbShapeOf(path.join(dir, 'empty.parquet'))).toEqual({ columns: DUCKDB_COLUMNS, rows: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

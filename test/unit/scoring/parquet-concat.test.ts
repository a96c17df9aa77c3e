import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { hyparquet } from '../../../shared/adapters/tabular/hyparquet';
import { concatParquetFiles } from '../../../shared/adapters/tabular/parquet-concat';
import { BufferedParquetSink } from '../../../shared/adapters/tabular/parquet-writer';
import type { OutputColumn } from '../../../shared/ports/tabular-files';

const n = 400;
const ids = Array.from({ length: n }, (_, i) => (i % 53 === 4 ? null : `m-${i}`));
const sites = Array.from({ length: n }, (_, i) => ['north', 'süd', null][i % 3]!);
// Pre-1970 times and two beyond the Date range: statistics must survive the round trip as stored values.
const ts = Float64Array.from({ length: n }, (_, i) => (i % 41 === 9 ? NaN : (i - 150) * 9.7e9));
ts[20] = -9e15;
ts[300] = 9e15;
const prediction = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
const sourceRow = Int32Array.from({ length: n }, (_, i) => i + 1);

function columns(from: number, to: number): OutputColumn[] {
  return [
    { name: 'meter', type: 'string', values: ids.slice(from, to) },
    { name: 'ts', type: 'timestamp', values: ts.subarray(from, to) },
    { name: 'site', type: 'string', values: sites.slice(from, to) },
    { name: 'prediction', type: 'double', values: prediction.subarray(from, to) },
    { name: 'source_row', type: 'int32', values: sourceRow.subarray(from, to) },
  ];
}

/** A file with the given row groups of the rows from `from` on; no groups gives a schema-only file. */
function parquet(from: number, groups: number[]): Buffer {
  const sink = new BufferedParquetSink();
  if (groups.length === 0) sink.writeRowGroup(columns(from, from));
  for (const rows of groups) {
    sink.writeRowGroup(columns(from, from + rows));
    from += rows;
  }
  return sink.finish();
}

/** Timestamps as stored (bigint milliseconds): some are beyond the Date range. */
const parsers = { timestampFromMilliseconds: (ms: bigint) => ms };
const metadataOf = (buf: Buffer) => hyparquet.parquetMetadata(new Uint8Array(buf), { parsers });
const rowsOf = (buf: Buffer) => hyparquet.parquetReadObjects({ file: new Uint8Array(buf).buffer, parsers });

/** A row group's description without its position in the file. */
const groupFacts = (g: ReturnType<typeof metadataOf>['row_groups'][number]) => ({
  num_rows: g.num_rows,
  columns: g.columns.map((c) => ({ ...c.meta_data, data_page_offset: undefined, dictionary_page_offset: undefined })),
});

describe('concatParquetFiles', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concat-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function parts(...files: Buffer[]): string[] {
    return files.map((buf, i) => {
      const file = path.join(dir, `part-${i}.parquet`);
      fs.writeFileSync(file, buf);
      return file;
    });
  }

  it('when parts (one of them empty) are concatenated, then the file has their row groups, rows and statistics in order', async () => {
    const out = path.join(dir, 'out.parquet');
    const copied: string[] = [];
    const files = parts(parquet(0, [100, 30]), parquet(130, []), parquet(130, [200, 70]));
    concatParquetFiles(files, out, (part) => copied.push(part));
    const whole = parquet(0, [100, 30, 200, 70]);
    const stitched = fs.readFileSync(out);
    expect(copied).toEqual(files);
    expect(await rowsOf(stitched)).toEqual(await rowsOf(whole));
    const got = metadataOf(stitched);
    const want = metadataOf(whole);
    expect(got.num_rows).toBe(400n);
    expect(got.schema).toEqual(want.schema);
    expect(got.row_groups.map(groupFacts)).toEqual(want.row_groups.map(groupFacts));
  });

  it('when DuckDB reads the concatenated file, then it sees every row, and filters on the shifted statistics', async () => {
    const out = path.join(dir, 'out.parquet');
    concatParquetFiles(parts(parquet(0, [64, 64]), parquet(128, [200]), parquet(328, [72])), out);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = await connection.runAndReadAll(`SELECT meter, epoch_ms(ts), site, prediction, source_row FROM read_parquet('${out}')`);
      expect(read.getRowsJS()).toEqual(
        Array.from({ length: n }, (_, i) => [ids[i], Number.isNaN(ts[i]) ? null : BigInt(ts[i]!), sites[i], prediction[i], sourceRow[i]]),
      );
      const late = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${out}') WHERE ts > TIMESTAMP '2050-01-01'`);
      const cutoff = Date.UTC(2050, 0, 1);
      expect(late.getRowsJS()[0]![0]).toBe(BigInt(Array.from(ts).filter((t) => t > cutoff).length));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('when a part has another schema, then concatenation fails naming it', () => {
    const other = new BufferedParquetSink();
    other.writeRowGroup([{ name: 'x', type: 'double', values: Float64Array.of(1) }]);
    const files = parts(parquet(0, [10]), other.finish());
    expect(() => concatParquetFiles(files, path.join(dir, 'out.parquet'))).toThrow(`${files[1]} has another schema than ${files[0]}`);
  });
});

import { DecodeArena } from '../../../shared/adapters/tabular/decode-arrays';
import { bufferAsyncBuffer, readParquetMetadata, readParquetRowGroups } from '../../../shared/adapters/tabular/parquet-reader';
import { BufferedParquetSink } from '../../../shared/adapters/tabular/parquet-writer';
import { seededRandom } from '../../../shared/domain/random';
import type { RawRows } from '../../../shared/domain/raw-rows';

/** Row groups of different sizes and contents: unique and repeated strings with nulls, doubles, ints, timestamps with nulls. */
function aFile(): Buffer {
  const random = seededRandom(3);
  const sink = new BufferedParquetSink();
  let id = 0;
  for (const rows of [700, 1000, 700, 333]) {
    const tag = rows === 1000 ? 'wide' : 'narrow';
    sink.writeRowGroup([
      { name: 'id', type: 'string', values: Array.from({ length: rows }, () => (random.next() < 0.05 ? null : `${tag}-${(id += 1)}`)) },
      { name: 'region', type: 'string', values: Array.from({ length: rows }, (_, i) => ['north', 'south', null][i % 3]!) },
      { name: 'value', type: 'double', values: Float64Array.from({ length: rows }, () => random.next() * 100) },
      { name: 'row', type: 'int32', values: Int32Array.from({ length: rows }, () => Math.floor(random.next() * 1e6)) },
      { name: 'at', type: 'timestamp', values: Float64Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? NaN : Date.UTC(2026, 0, 1) + i * 1000)) },
    ]);
  }
  return sink.finish();
}

/** Every cell of a batch as the consumer reads it, taken before the next batch is asked for. */
const cellsOf = (raw: RawRows) =>
  Array.from({ length: raw.rowCount }, (_, r) => raw.columns.map((_, c) => [raw.text(c, r), raw.isEmpty(c, r), raw.number(c, r)]));

async function readAll(file: Buffer, reuseBuffers: boolean) {
  const buffer = bufferAsyncBuffer(file);
  const metadata = await readParquetMetadata(buffer);
  const batches: unknown[] = [];
  const columns = ['id', 'region', 'value', 'row', 'at'];
  for await (const raw of readParquetRowGroups(buffer, metadata, { start: 0, end: metadata.row_groups.length, columns, firstRowNumber: 1, reuseBuffers })) batches.push(cellsOf(raw));
  return batches;
}

describe('decoding into reused arrays (DecodeArena)', () => {
  it('when a file is read with reuseBuffers, then every batch answers as without, row group after row group', async () => {
    const file = aFile();
    const fresh = await readAll(file, false);
    const reused = await readAll(file, true);
    expect(reused).toHaveLength(4);
    expect(reused).toEqual(fresh);
    // Read twice more: the second reading takes arrays the first gave back.
    expect(await readAll(file, true)).toEqual(fresh);
  });

  it('when an arena is released, then its arrays are handed out again zero-filled; byte buffers by power-of-two capacity', () => {
    const first = new DecodeArena();
    const ints = first.int32(1234).fill(7);
    const flags = first.uint8(99).fill(1);
    const bytes = first.bytes(70_000);
    expect(bytes.length).toBe(131_072);
    first.release();
    const second = new DecodeArena();
    const again = second.int32(1234);
    expect(again).toBe(ints);
    expect(again.every((v) => v === 0)).toBe(true);
    expect(second.uint8(99)).toBe(flags);
    expect(flags.every((v) => v === 0)).toBe(true);
    expect(second.bytes(100_000)).toBe(bytes);
    // Another length is another array.
    expect(second.int32(1235)).not.toBe(ints);
  });
});

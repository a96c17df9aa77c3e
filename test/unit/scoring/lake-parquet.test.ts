import { gzipSync } from 'node:zlib';

import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { BufferedParquetSink } from '../../../shared/adapters/tabular/parquet-writer';
import { MemoryLake } from '../../support/memory-lake';
import { readParquetRows } from '../../support/scoring-fixtures';

function part(ids: string[], ts: number): Buffer {
  const sink = new BufferedParquetSink();
  sink.writeRowGroup([
    { name: 'id', type: 'string', values: ids },
    { name: 'value', type: 'double', values: Float64Array.from(ids, (_, i) => i + 0.5) },
    { name: 'at', type: 'timestamp', values: new Float64Array(ids.length).fill(ts) },
  ]);
  return sink.finish();
}

describe('Parquet in the lake (LakeTabularFiles)', () => {
  it('when a Parquet, gzip or ZIP file is named .csv, then planning says what the file is instead of failing on its bytes as text; a CSV column named PAR1 is read', async () => {
    const lake = new MemoryLake();
    const files = new LakeTabularFiles(lake);
    const targets = { targetChunkBytes: 1 << 20, targetChunkRows: 100 };
    await lake.write('drops/m1/parquet.csv', part(['a', 'b'], 0));
    await expect(files.plan('drops/m1/parquet.csv', targets)).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE', message: expect.stringMatching(/not CSV text: it is a Parquet file.*name it \.parquet/) });
    await lake.write('drops/m1/zipped.csv', gzipSync('id,x\na,1\n'));
    await expect(files.plan('drops/m1/zipped.csv', targets)).rejects.toThrow(/not CSV text: it is gzip-compressed: name it \.csv\.gz/);
    // A workbook's first bytes: a ZIP local file header.
    await lake.write('drops/m1/book.csv', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.alloc(64)]));
    await expect(files.plan('drops/m1/book.csv', targets)).rejects.toThrow(/not CSV text: it is a ZIP archive/);
    // Gzip inside gzip: the decompressed content is named for what it is too.
    await lake.write('drops/m1/twice.csv.gz', gzipSync(gzipSync('id,x\na,1\n')));
    await expect(files.plan('drops/m1/twice.csv.gz', targets)).rejects.toThrow(/not CSV text: it is gzip-compressed/);
    await lake.write('drops/m1/text.csv', Buffer.from('PAR1,x\na,1\n'));
    expect((await files.plan('drops/m1/text.csv', targets)).columns).toEqual(['PAR1', 'x']);
  });

  it('when parts are concatenated, then the output holds their row groups in order, streamed through the lake, timestamps intact', async () => {
    const lake = new MemoryLake();
    const files = new LakeTabularFiles(lake);
    await lake.write('datasets/m1/a.parquet', part(['a', 'b'], Date.UTC(2026, 0, 1)));
    await lake.write('datasets/m1/b.parquet', part(['c'], Date.UTC(2030, 5, 1)));
    await files.concatParquet(['datasets/m1/a.parquet', 'datasets/m1/b.parquet'], 'datasets/m1/all.parquet');
    const rows = await readParquetRows(lake.body('datasets/m1/all.parquet'));
    expect(rows.map((r) => [r.id, r.value, (r.at as Date).toISOString()])).toEqual([
      ['a', 0.5, '2026-01-01T00:00:00.000Z'],
      ['b', 1.5, '2026-01-01T00:00:00.000Z'],
      ['c', 0.5, '2030-06-01T00:00:00.000Z'],
    ]);
    await expect(files.concatParquet([], 'datasets/m1/none.parquet')).rejects.toThrow(/nothing to concatenate/);
  });

  it('when a Parquet chunk is opened for some columns, then only those are read, in file order', async () => {
    const lake = new MemoryLake();
    const files = new LakeTabularFiles(lake);
    await lake.write('datasets/m1/a.parquet', part(['a', 'b'], 0));
    const plan = await files.plan('datasets/m1/a.parquet', { targetChunkBytes: 1 << 20, targetChunkRows: 100 });
    const opened = await files.open('datasets/m1/a.parquet', plan.chunks[0]!, { columns: ['value', 'id', 'absent'] });
    expect(opened.columns).toEqual(['id', 'value']);
    const batch = (await opened.batches.next()).value!;
    expect([batch.text(0, 1), batch.number(1, 1)]).toEqual(['b', 1.5]);
    expect(batch.utf8?.(0)).toMatchObject({ lengths: Int32Array.from([1, 1]) });
  });

  it('when a Parquet file is planned then opened, then its footer is read once; when the blob is replaced, then the new footer is read', async () => {
    const lake = new MemoryLake();
    const reads: { offset?: number; length?: number }[] = [];
    const readBuffer = lake.readBuffer.bind(lake);
    lake.readBuffer = (path, range) => {
      reads.push({ ...range });
      return readBuffer(path, range);
    };
    const files = new LakeTabularFiles(lake);
    const path = 'datasets/m1/a.parquet';
    await lake.write(path, part(['a', 'b'], 0));
    const plan = await files.plan(path, { targetChunkBytes: 1 << 20, targetChunkRows: 100 });
    const opened = await files.open(path, plan.chunks[0]!);
    for await (const batch of opened.batches) expect(batch.text(0, 0)).toBe('a');
    // One footer read (the file is smaller than a footer fetch: the whole file), one row group read.
    expect(reads).toHaveLength(2);

    const replaced = new BufferedParquetSink();
    replaced.writeRowGroup([{ name: 'key', type: 'string', values: ['z'] }]);
    await lake.write(path, replaced.finish());
    const again = await files.plan(path, { targetChunkBytes: 1 << 20, targetChunkRows: 100 });
    expect(again.columns).toEqual(['key']);
    const batch = (await (await files.open(path, again.chunks[0]!)).batches.next()).value!;
    expect(batch.text(0, 0)).toBe('z');
  });
});

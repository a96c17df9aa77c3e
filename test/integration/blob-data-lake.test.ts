import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { lakePaths } from '../../shared/domain/lake-paths';

const lake = new BlobDataLake();
/** A model name of its own per test run, so runs sharing the container do not meet. */
const model = `lake-${randomBytes(4).toString('hex')}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A stream of `total` pseudo-random bytes in uneven chunks, and its hash. */
function randomStream(total: number): { stream: Readable; hash: string } {
  const data = randomBytes(total);
  const chunks: Buffer[] = [];
  for (let at = 0; at < total; ) {
    const size = Math.min(total - at, 100_000 + (at % 777_777));
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return { stream: Readable.from(chunks), hash: sha256(data) };
}

describe('data lake on Blob Storage (Azurite)', () => {
  it('when a buffer is written with metadata, then it reads back with its properties', async () => {
    const path = lakePaths.drop(model, 'a/batch.csv');
    const written = await lake.write(path, Buffer.from('id,x\n1,2\n'), {
      contentType: 'text/csv',
      metadata: { source: 'test' },
    });
    expect(written).toMatchObject({ path, size: 9, contentType: 'text/csv', metadata: { source: 'test' } });
    expect((await lake.readBuffer(path)).toString()).toBe('id,x\n1,2\n');
    const stat = await lake.stat(path);
    expect(stat).toMatchObject({ path, size: 9, etag: written.etag, contentType: 'text/csv', metadata: { source: 'test' } });
  });

  it('when a 9 MiB stream is written and read as a stream, then the bytes and size match', async () => {
    const path = lakePaths.modelArtifact(model, 1);
    const { stream, hash } = randomStream(9 * 1024 * 1024 + 17);
    const written = await lake.write(path, stream, { ifNotExists: true });
    expect(written.size).toBe(9 * 1024 * 1024 + 17);
    const hasher = createHash('sha256');
    let size = 0;
    for await (const chunk of await lake.read(path)) {
      hasher.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    expect(size).toBe(written.size);
    expect(hasher.digest('hex')).toBe(hash);
    expect((await lake.stat(path))?.size).toBe(written.size);
  });

  it('when a byte range is read, then exactly those bytes come back', async () => {
    const path = lakePaths.drop(model, 'range.bin');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    await lake.write(path, data);
    expect(await lake.readBuffer(path, { offset: 100, length: 50 })).toEqual(data.subarray(100, 150));
    expect(await lake.readBuffer(path, { offset: 990 })).toEqual(data.subarray(990));
    expect(await lake.readBuffer(path, { offset: 990, length: 50 })).toEqual(data.subarray(990));
    await expect(lake.readBuffer(path, { offset: -1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('when an artifact is written twice write-once, then the second fails and the first stays', async () => {
    const path = lakePaths.modelManifest(model, 2);
    await lake.write(path, Buffer.from('first'), { ifNotExists: true });
    await expect(lake.write(path, Buffer.from('second'), { ifNotExists: true })).rejects.toMatchObject({
      code: 'ARTIFACT_ALREADY_EXISTS',
    });
    await expect(lake.write(path, Readable.from([Buffer.from('third')]), { ifNotExists: true })).rejects.toMatchObject({
      code: 'ARTIFACT_ALREADY_EXISTS',
    });
    expect((await lake.readBuffer(path)).toString()).toBe('first');
  });

  it('when 10 writers race to write the same object write-once, then exactly one succeeds', async () => {
    const path = lakePaths.predictionManifest(model, 1, 'race');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => lake.write(path, Buffer.from(`writer-${i}`), { ifNotExists: true })),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ARTIFACT_ALREADY_EXISTS' });
    }
    expect((await lake.readBuffer(path)).toString()).toMatch(/^writer-\d$/);
  });

  it('when an overwrite quotes a stale ETag, then CONCURRENCY_CONFLICT; with the current one it succeeds', async () => {
    const path = lakePaths.runProfile(model, 'run-1');
    const first = await lake.write(path, Buffer.from('v1'));
    const second = await lake.write(path, Buffer.from('v2'), { ifMatch: first.etag });
    await expect(lake.write(path, Buffer.from('v3'), { ifMatch: first.etag })).rejects.toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
    });
    await lake.write(path, Buffer.from('v3'), { ifMatch: second.etag });
    expect((await lake.readBuffer(path)).toString()).toBe('v3');
  });

  it('when listing a prefix, then only objects under it come back in lexical order with metadata', async () => {
    const run = lakePaths.predictionsRunFolder(model, 3, 'list');
    for (const part of [2, 0, 1]) {
      await lake.write(lakePaths.predictionPart(model, 3, 'list', part), Buffer.from(`p${part}`), {
        metadata: { rows: String(part * 10) },
      });
    }
    await lake.write(lakePaths.predictionManifest(model, 3, 'list'), Buffer.from('{}'));
    await lake.write(lakePaths.predictionPart(model, 3, 'list-other', 0), Buffer.from('x'));
    const listed = await collect(lake.list(run));
    expect(listed.map((o) => o.path)).toEqual([
      `${run}_manifest.json`,
      `${run}part-00000.parquet`,
      `${run}part-00001.parquet`,
      `${run}part-00002.parquet`,
    ]);
    expect(listed[2]).toMatchObject({ size: 2, metadata: { rows: '10' } });
  });

  it('when an object is missing, then stat is undefined and read is NOT_FOUND', async () => {
    const path = lakePaths.drop(model, 'missing.csv');
    expect(await lake.stat(path)).toBeUndefined();
    await expect(lake.readBuffer(path)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('when an object is deleted, then it is gone, and deleting again is fine', async () => {
    const path = lakePaths.report(model, 'r.html');
    await lake.write(path, Buffer.from('<html></html>'));
    await lake.delete(path);
    expect(await lake.stat(path)).toBeUndefined();
    await expect(lake.delete(path)).resolves.toBeUndefined();
  });

  it.each(['../escape.csv', '/abs.csv', 'a\\b.csv', 'drops/x/\u0001.csv', 'drops//x'])(
    'when the path is %j, then every operation refuses it with VALIDATION_ERROR',
    async (path) => {
      await expect(lake.write(path, Buffer.from('x'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.read(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.stat(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.delete(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(collect(lake.list(path))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    },
  );
});

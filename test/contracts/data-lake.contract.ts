import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { lakePaths } from '../../shared/domain/lake-paths';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../shared/ports/data-lake';

export interface LakeUnderTest {
  lake: DataLake;
  /** Runs after each test (e.g. removes a temporary folder). */
  dispose?: () => Promise<void> | void;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function streamed(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

/** `data` in uneven chunks, as a network stream would deliver it. */
function chunked(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = Math.min(data.length - at, 1000 + ((i * 7919) % 65536));
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

/** A body that delivers some bytes and then breaks, like a dropped upload. */
function breakingStream(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) {
        this.destroy(new Error('connection reset'));
      } else {
        sent = true;
        this.push(Buffer.alloc(4096, 7));
      }
    },
  });
}

/** The properties a listing and a stat must agree on (times differ in precision between stores). */
const comparable = ({ lastModified: _lastModified, ...rest }: LakeObjectInfo) => rest;

/**
 * The documented semantics of the DataLake port (shared/ports/data-lake.ts), run against every
 * implementation (the in-memory fake, the local file lake, Blob Storage on Azurite) so they cannot
 * drift. Every test works under a model folder of its own, so the suite also runs against a shared
 * container.
 */
export function describeDataLakeContract(
  name: string,
  setUp: () => Promise<LakeUnderTest> | LakeUnderTest,
): void {
  describe(`DataLake contract: ${name}`, () => {
    let lake: DataLake;
    let dispose: LakeUnderTest['dispose'];
    let model: string;
    /** A path of this test's own under drops/. */
    const at = (file: string) => lakePaths.drop(model, file);

    beforeEach(async () => {
      ({ lake, dispose } = await setUp());
      model = `lake-${randomBytes(5).toString('hex')}`;
    });
    afterEach(async () => {
      await dispose?.();
    });

    describe('write, stat and read', () => {
      it('when a buffer is written with a content type and metadata, then write, stat and read agree on it', async () => {
        const before = Date.now();
        const written = await lake.write(at('a/batch.csv'), Buffer.from('id,x\n1,2\n'), {
          contentType: 'text/csv',
          metadata: { source: 'test', rows: '1' },
        });
        expect(written).toMatchObject({
          path: at('a/batch.csv'),
          size: 9,
          etag: expect.any(String),
          contentType: 'text/csv',
          metadata: { source: 'test', rows: '1' },
        });
        // Blob Storage keeps whole seconds.
        expect(written.lastModified.getTime()).toBeGreaterThanOrEqual(before - 60_000);
        expect(written.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
        expect(comparable((await lake.stat(at('a/batch.csv')))!)).toEqual(comparable(written));
        expect((await lake.readBuffer(at('a/batch.csv'))).toString()).toBe('id,x\n1,2\n');
        expect((await streamed(await lake.read(at('a/batch.csv')))).toString()).toBe('id,x\n1,2\n');
      });

      it('when written without a content type or metadata, then the type is application/octet-stream and metadata is empty', async () => {
        const written = await lake.write(at('plain.bin'), Buffer.from([1, 2, 3]));
        expect(written).toMatchObject({ contentType: 'application/octet-stream', metadata: {} });
        expect(await lake.stat(at('plain.bin'))).toMatchObject({
          size: 3,
          contentType: 'application/octet-stream',
          metadata: {},
        });
      });

      it('when an object is overwritten, then its bytes, type and metadata are replaced and its ETag changes', async () => {
        const first = await lake.write(at('o.json'), Buffer.from('{"v":1}'), {
          contentType: 'application/json',
          metadata: { v: '1' },
        });
        const second = await lake.write(at('o.json'), Buffer.from('two'));
        expect(second.etag).not.toBe(first.etag);
        expect(await lake.stat(at('o.json'))).toMatchObject({
          etag: second.etag,
          size: 3,
          contentType: 'application/octet-stream',
          metadata: {},
        });
        expect((await lake.readBuffer(at('o.json'))).toString()).toBe('two');
      });

      it('when a stream in uneven chunks is written, then the same bytes read back and the size is counted', async () => {
        const data = randomBytes(300_000);
        const written = await lake.write(at('stream.bin'), chunked(data), { metadata: { kind: 'stream' } });
        expect(written).toMatchObject({ size: data.length, metadata: { kind: 'stream' } });
        expect((await lake.readBuffer(at('stream.bin'))).equals(data)).toBe(true);
        expect((await streamed(await lake.read(at('stream.bin')))).equals(data)).toBe(true);
      });

      it('when an empty object is written, then it reads back empty with size 0', async () => {
        await lake.write(at('empty.txt'), Buffer.alloc(0));
        expect(await lake.stat(at('empty.txt'))).toMatchObject({ size: 0 });
        expect((await lake.readBuffer(at('empty.txt'))).length).toBe(0);
      });

      it('when the body stream breaks, then the write fails and leaves nothing, nor changes an existing object', async () => {
        await expect(lake.write(at('broken.bin'), breakingStream())).rejects.toThrow(/connection reset/);
        expect(await lake.stat(at('broken.bin'))).toBeUndefined();
        await lake.write(at('kept.bin'), Buffer.from('kept'));
        await expect(lake.write(at('kept.bin'), breakingStream())).rejects.toThrow(/connection reset/);
        expect((await lake.readBuffer(at('kept.bin'))).toString()).toBe('kept');
        expect((await collect(lake.list(lakePaths.dropsFolder(model)))).map((o) => o.path)).toEqual([
          at('kept.bin'),
        ]);
      });

      it('when metadata has a name or value Blob Storage would refuse or alter, then VALIDATION_ERROR and nothing is written', async () => {
        const refused: Record<string, string>[] = [
          { 'my-key': 'v' },
          { MyKey: 'v' },
          { '1st': 'v' },
          { k: '' },
          { k: ' padded ' },
          { k: 'caf\u00e9' },
          { k: 'x'.repeat(9000) },
        ];
        for (const metadata of refused) {
          await expect(lake.write(at('meta.txt'), Buffer.from('x'), { metadata })).rejects.toMatchObject({
            code: 'VALIDATION_ERROR',
          });
        }
        expect(await lake.stat(at('meta.txt'))).toBeUndefined();
      });
    });

    describe('byte ranges', () => {
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
      beforeEach(async () => {
        await lake.write(at('range.bin'), data);
      });

      it('when a range is read, then exactly those bytes come back, as a buffer and as a stream', async () => {
        expect(await lake.readBuffer(at('range.bin'), { offset: 100, length: 50 })).toEqual(
          data.subarray(100, 150),
        );
        expect(await streamed(await lake.read(at('range.bin'), { offset: 100, length: 50 }))).toEqual(
          data.subarray(100, 150),
        );
        expect(await lake.readBuffer(at('range.bin'), { offset: 990 })).toEqual(data.subarray(990));
        expect(await streamed(await lake.read(at('range.bin'), { offset: 990 }))).toEqual(data.subarray(990));
        expect(await lake.readBuffer(at('range.bin'), { offset: 0, length: 1 })).toEqual(data.subarray(0, 1));
      });

      it('when a range runs past the end, then the bytes up to the end come back', async () => {
        expect(await lake.readBuffer(at('range.bin'), { offset: 990, length: 50 })).toEqual(
          data.subarray(990),
        );
        expect(await streamed(await lake.read(at('range.bin'), { offset: 990, length: 50 }))).toEqual(
          data.subarray(990),
        );
      });

      it('when a range starts beyond the end, then VALIDATION_ERROR', async () => {
        await expect(lake.readBuffer(at('range.bin'), { offset: 1001 })).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
        });
        await expect(lake.read(at('range.bin'), { offset: 2000, length: 5 })).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
        });
      });

      it.each([
        { offset: -1 },
        { offset: 1.5 },
        { offset: 0, length: 0 },
        { offset: 0, length: -3 },
        { offset: 0, length: 2.5 },
      ])('when the range is %j, then VALIDATION_ERROR', async (range) => {
        await expect(lake.readBuffer(at('range.bin'), range)).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
        });
        await expect(lake.read(at('range.bin'), range)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      });
    });

    describe('missing objects', () => {
      it('when an object is missing, then stat is undefined and every read is NOT_FOUND', async () => {
        expect(await lake.stat(at('missing.csv'))).toBeUndefined();
        await expect(lake.readBuffer(at('missing.csv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(lake.readBuffer(at('missing.csv'), { offset: 0, length: 10 })).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        await expect(lake.read(at('missing.csv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(lake.read(at('missing.csv'), { offset: 5 })).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
      });

      it('when a path is only a folder of other objects, then it is not an object: stat undefined, read NOT_FOUND', async () => {
        await lake.write(at('folder/inner.csv'), Buffer.from('x'));
        expect(await lake.stat(at('folder'))).toBeUndefined();
        await expect(lake.readBuffer(at('folder'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(lake.read(at('folder'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('conditional writes', () => {
      /** Eight conditional writes of one file at once: one stores its bytes, the others fail with `code`. */
      async function expectOneOfEightWriters(file: string, options: LakeWriteOptions, code: string) {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => lake.write(at(file), Buffer.from(`writer-${i}`), options)),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code });
        expect((await lake.readBuffer(at(file))).toString()).toBe(`writer-${winners[0]}`);
      }

      it('when a write-once object exists, then writing it again is ARTIFACT_ALREADY_EXISTS (buffer or stream) and the first stays', async () => {
        await lake.write(at('once.json'), Buffer.from('first'), { ifNotExists: true });
        await expect(
          lake.write(at('once.json'), Buffer.from('second'), { ifNotExists: true }),
        ).rejects.toMatchObject({
          code: 'ARTIFACT_ALREADY_EXISTS',
        });
        await expect(
          lake.write(at('once.json'), Readable.from([Buffer.from('third')]), { ifNotExists: true }),
        ).rejects.toMatchObject({
          code: 'ARTIFACT_ALREADY_EXISTS',
        });
        expect((await lake.readBuffer(at('once.json'))).toString()).toBe('first');
      });

      it('when 8 writers race to write one object write-once, then exactly one succeeds and its bytes are stored', async () => {
        await expectOneOfEightWriters('race.json', { ifNotExists: true }, 'ARTIFACT_ALREADY_EXISTS');
      });

      it('when an overwrite quotes a stale ETag, then CONCURRENCY_CONFLICT; with the current one it succeeds', async () => {
        const first = await lake.write(at('profile.json'), Buffer.from('v1'));
        const second = await lake.write(at('profile.json'), Buffer.from('v2'), { ifMatch: first.etag });
        await expect(
          lake.write(at('profile.json'), Buffer.from('v3'), { ifMatch: first.etag }),
        ).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect((await lake.readBuffer(at('profile.json'))).toString()).toBe('v2');
        await lake.write(at('profile.json'), Buffer.from('v3'), { ifMatch: second.etag });
        expect((await lake.readBuffer(at('profile.json'))).toString()).toBe('v3');
      });

      it('when an overwrite quotes an ETag but the object is missing, then CONCURRENCY_CONFLICT and nothing is written', async () => {
        const other = await lake.write(at('other.json'), Buffer.from('x'));
        await expect(
          lake.write(at('gone.json'), Buffer.from('x'), { ifMatch: other.etag }),
        ).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect(await lake.stat(at('gone.json'))).toBeUndefined();
      });

      it('when 8 writers race to overwrite with the same ETag, then exactly one succeeds', async () => {
        const { etag } = await lake.write(at('guarded.json'), Buffer.from('start'));
        await expectOneOfEightWriters('guarded.json', { ifMatch: etag }, 'CONCURRENCY_CONFLICT');
      });

      it('when a write is both write-once and guarded, then VALIDATION_ERROR', async () => {
        const { etag } = await lake.write(at('both.json'), Buffer.from('x'));
        await expect(
          lake.write(at('both.json'), Buffer.from('y'), { ifNotExists: true, ifMatch: etag }),
        ).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
        });
        expect((await lake.readBuffer(at('both.json'))).toString()).toBe('x');
      });
    });

    describe('list', () => {
      it('when a prefix is listed, then the objects under it come back in lexical order with their properties', async () => {
        // Written out of order; "B" < "a-x" < "a.x" < "a/x" < "a_x" < "b" by code unit, as Blob Storage lists.
        for (const name of ['b', 'a_x', 'a/x', 'B', 'a.x', 'a-x']) {
          await lake.write(at(`l/${name}`), Buffer.from(name), {
            metadata: { name: name.replace(/\W/g, '_') },
          });
        }
        await lake.write(at('l-other/x'), Buffer.from('x'));
        const listed = await collect(lake.list(`${lakePaths.dropsFolder(model)}l/`));
        expect(listed.map((o) => o.path)).toEqual(
          ['B', 'a-x', 'a.x', 'a/x', 'a_x', 'b'].map((n) => at(`l/${n}`)),
        );
        for (const info of listed)
          expect(comparable(info)).toEqual(comparable((await lake.stat(info.path))!));
        expect(listed[3]).toMatchObject({
          size: 3,
          metadata: { name: 'a_x' },
          contentType: 'application/octet-stream',
        });
      });

      it('when a prefix ends inside a name, then every object whose path starts with it is listed', async () => {
        for (const name of ['a/x', 'ab', 'b']) await lake.write(at(name), Buffer.from(name));
        expect((await collect(lake.list(at('a')))).map((o) => o.path)).toEqual([at('a/x'), at('ab')]);
      });

      it('when nothing is under a prefix, then the listing is empty', async () => {
        expect(await collect(lake.list(lakePaths.dropsFolder(model)))).toEqual([]);
      });
    });

    describe('copy', () => {
      it('when an object is copied, then the copy has its bytes, content type and metadata and the source stays', async () => {
        const data = randomBytes(300_000);
        await lake.write(at('src/model.onnx'), data, { contentType: 'application/octet-stream', metadata: { run: 'r1' } });
        const copied = await lake.copy(at('src/model.onnx'), at('dst/model.onnx'));
        expect(copied).toMatchObject({ path: at('dst/model.onnx'), size: data.length, contentType: 'application/octet-stream', metadata: { run: 'r1' } });
        expect((await lake.readBuffer(at('dst/model.onnx'))).equals(data)).toBe(true);
        expect((await lake.readBuffer(at('src/model.onnx'))).equals(data)).toBe(true);
      });

      it('when a write-once copy meets an existing target, then ARTIFACT_ALREADY_EXISTS and the target stays', async () => {
        await lake.write(at('one.bin'), Buffer.from('one'));
        await lake.write(at('two.bin'), Buffer.from('two'));
        await expect(lake.copy(at('one.bin'), at('two.bin'), { ifNotExists: true })).rejects.toMatchObject({ code: 'ARTIFACT_ALREADY_EXISTS' });
        expect((await lake.readBuffer(at('two.bin'))).toString()).toBe('two');
      });

      it('when the source is missing, then NOT_FOUND and nothing is created', async () => {
        await expect(lake.copy(at('missing.bin'), at('copy.bin'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await lake.stat(at('copy.bin'))).toBeUndefined();
      });
    });

    describe('delete', () => {
      it('when an object is deleted, then it is gone and its neighbours stay; deleting it again is fine', async () => {
        await lake.write(at('r.csv'), Buffer.from('r'), { metadata: { k: 'v' } });
        await lake.write(at('r.csv.bak'), Buffer.from('bak'));
        await lake.delete(at('r.csv'));
        expect(await lake.stat(at('r.csv'))).toBeUndefined();
        await expect(lake.readBuffer(at('r.csv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect((await collect(lake.list(lakePaths.dropsFolder(model)))).map((o) => o.path)).toEqual([
          at('r.csv.bak'),
        ]);
        await expect(lake.delete(at('r.csv'))).resolves.toBeUndefined();
      });

      it('when a deleted object is written again, then it starts afresh (no old metadata)', async () => {
        await lake.write(at('again.csv'), Buffer.from('one'), {
          metadata: { k: 'v' },
          contentType: 'text/csv',
        });
        await lake.delete(at('again.csv'));
        await lake.write(at('again.csv'), Buffer.from('two'), { ifNotExists: true });
        expect(await lake.stat(at('again.csv'))).toMatchObject({
          size: 3,
          metadata: {},
          contentType: 'application/octet-stream',
        });
      });
    });

    it.each([
      '../escape.csv',
      '/abs.csv',
      'a\\b.csv',
      'drops/x/\u0001.csv',
      'drops//x',
      'drops/x/',
      'C:/x.csv',
      '',
    ])('when the path is %j, then every operation refuses it with VALIDATION_ERROR', async (path) => {
      await expect(lake.write(path, Buffer.from('x'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.read(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.readBuffer(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.stat(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(lake.delete(path)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    });

    it.each(['../', '/abs', 'drops//x', 'a\\b'])(
      'when the prefix is %j, then listing refuses it with VALIDATION_ERROR',
      async (prefix) => {
        await expect(collect(lake.list(prefix))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      },
    );
  });
}

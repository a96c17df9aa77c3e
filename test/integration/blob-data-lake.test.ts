import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { lakePaths } from '../../shared/domain/lake-paths';

const lake = new BlobDataLake();
/** A model name of its own per test run, so runs sharing the container do not meet. */
const model = `lake-${randomBytes(4).toString('hex')}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

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

/** What only the Blob adapter does (block uploads); the port's semantics are in test/contracts. */
describe('data lake on Blob Storage (Azurite)', () => {
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
});

/**
 * A version's stored files opened for download: streamed as stored, with what the version records
 * of them, and which failure for a name, a version or a file that is not there.
 */
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';

import { errors } from '../../shared/domain/errors';
import { lakePaths } from '../../shared/domain/lake-paths';
import { modelRecordSchema } from '../../shared/schemas/registry';
import { openVersionFile, VERSION_FILE_NAMES } from '../../shared/usecases/version-files';
import { aModelDefinition, aModelVersion } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { MemoryLake } from '../support/memory-lake';

const onnx = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));
const sha256 = createHash('sha256').update(onnx).digest('hex');

async function world(version = aModelVersion({ artifact: { path: lakePaths.modelArtifact('churn', 1), sha256, size: onnx.length } })) {
  const registry = new InMemoryModelRegistry();
  const at = '2026-01-01T00:00:00.000Z';
  await registry.createModel(modelRecordSchema.parse({ modelName: 'churn', definition: aModelDefinition(), createdAt: at, updatedAt: at, createdBy: 'alice@example.com', latestVersion: 1 }));
  registry.versions.set('churn/1', { value: version, etag: '"v1"' });
  const lake = new MemoryLake();
  await lake.write(lakePaths.modelArtifact('churn', 1), onnx, { contentType: 'application/octet-stream' });
  await lake.write(lakePaths.modelManifest('churn', 1), Buffer.from('{"signature":{}}\n'), { contentType: 'application/json' });
  await lake.write(lakePaths.transformSpec('churn', 1), Buffer.from('{"specHash":"x"}\n'), { contentType: 'application/json' });
  return { registry, lake };
}

describe("a version's files for download", () => {
  it('when model.onnx is asked for, then its bytes stream as stored with its size, ETag and the sha256 the version records', async () => {
    const deps = await world();
    const file = await openVersionFile(deps, 'churn', 1, 'model.onnx');
    const stored = await deps.lake.stat(lakePaths.modelArtifact('churn', 1));

    expect(file).toMatchObject({ size: onnx.length, etag: stored!.etag, contentType: 'application/octet-stream', sha256 });
    expect((await buffer(file.body)).equals(onnx)).toBe(true);
  });

  it('when the stored object is overwritten while it is opened, then the size and ETag answered are those of the bytes streamed', async () => {
    const deps = await world();
    const path = lakePaths.modelArtifact('churn', 1);
    const replacement = Buffer.from('other bytes, of another length than the registered graph');
    const stat = deps.lake.stat.bind(deps.lake);
    let overwritten = false;
    // Overwritten between the first stat and the read: write-once by convention, not by the store.
    deps.lake.stat = async (p: string) => {
      const info = await stat(p);
      if (!overwritten) {
        overwritten = true;
        await deps.lake.write(path, replacement);
      }
      return info;
    };
    const file = await openVersionFile(deps, 'churn', 1, 'model.onnx');
    expect((await buffer(file.body)).equals(replacement)).toBe(true);
    expect({ size: file.size, etag: file.etag }).toEqual({ size: replacement.length, etag: (await stat(path))!.etag });
  });

  it('when the stored object changes every time it is opened, then the download fails rather than answer the size or ETag of other bytes', async () => {
    const deps = await world();
    const path = lakePaths.modelArtifact('churn', 1);
    const read = deps.lake.read.bind(deps.lake);
    let writes = 0;
    deps.lake.read = async (p: string) => {
      const body = await read(p);
      await deps.lake.write(path, Buffer.from(`write ${++writes}`));
      return body;
    };
    await expect(openVersionFile(deps, 'churn', 1, 'model.onnx')).rejects.toThrow('changed in the lake each of the 3 times');
    expect(writes).toBe(3);
  });

  it('when a JSON file is asked for, then it is application/json, without a sha256 (the version records none of its bytes)', async () => {
    const deps = await world();
    const manifest = await openVersionFile(deps, 'churn', 1, 'manifest.json');
    expect(manifest).toMatchObject({ contentType: 'application/json', size: 17 });
    expect(manifest.sha256).toBeUndefined();
    expect((await buffer(manifest.body)).toString()).toBe('{"signature":{}}\n');
    expect((await openVersionFile(deps, 'churn', 1, 'transforms.json')).contentType).toBe('application/json');
  });

  it('when the name is none of the files, then NOT_FOUND listing the names', async () => {
    const deps = await world();
    await expect(openVersionFile(deps, 'churn', 1, 'model.pkl')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { name: 'model.pkl', allowed: VERSION_FILE_NAMES } });
    // A name every object has is still no file of a version.
    await expect(openVersionFile(deps, 'churn', 1, 'constructor')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(VERSION_FILE_NAMES).toEqual(['model.onnx', 'manifest.json', 'transforms.json', 'golden-records.json']);
  });

  it('when the version was registered without an optional file, then NOT_FOUND saying so, not ARTIFACT_MISSING', async () => {
    const deps = await world();
    await expect(openVersionFile(deps, 'churn', 1, 'golden-records.json')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('without golden records') });
    const raw = await world(aModelVersion({ artifact: { path: lakePaths.modelArtifact('churn', 1), sha256 }, transformSpecHash: undefined }));
    await expect(openVersionFile(raw, 'churn', 1, 'transforms.json')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('raw columns') });
  });

  it('when the model or the version is unknown, then MODEL_NOT_FOUND or VERSION_NOT_FOUND', async () => {
    const deps = await world();
    await expect(openVersionFile(deps, 'nope', 1, 'model.onnx')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(openVersionFile(deps, 'churn', 2, 'model.onnx')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('when the version has the file but the lake no longer does, then ARTIFACT_MISSING naming the file, as scoring reports it', async () => {
    const deps = await world();
    await deps.lake.delete(lakePaths.modelArtifact('churn', 1));
    await deps.lake.delete(lakePaths.modelManifest('churn', 1));
    await expect(openVersionFile(deps, 'churn', 1, 'model.onnx')).rejects.toMatchObject({ code: 'ARTIFACT_MISSING', details: { model: 'churn', version: 1, file: 'ONNX artifact' } });
    await expect(openVersionFile(deps, 'churn', 1, 'manifest.json')).rejects.toMatchObject({ code: 'ARTIFACT_MISSING', details: { file: 'registration manifest' } });
  });

  it('when the file goes between its stat and its read, then ARTIFACT_MISSING too', async () => {
    const deps = await world();
    deps.lake.read = (path) => Promise.reject(errors.notFound(`no object at '${path}'`));
    await expect(openVersionFile(deps, 'churn', 1, 'model.onnx')).rejects.toMatchObject({ code: 'ARTIFACT_MISSING' });
  });
});

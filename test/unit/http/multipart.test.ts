import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import type { HttpRequest } from '@azure/functions';

import { readRegistrationUpload } from '../../../functions/http/multipart';
import { type RegisterPackageDeps, type StagedArtifact, stageUpload } from '../../../shared/usecases/register-package';
import { MemoryLake } from '../../support/memory-lake';

const BOUNDARY = 'reg-boundary-7f3a';

function partHead(name: string | undefined, filename?: string): Buffer {
  const disposition = ['form-data', ...(name !== undefined ? [`name="${name}"`] : []), ...(filename !== undefined ? [`filename="${filename}"`] : [])];
  return Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition.join('; ')}\r\n\r\n`);
}

/** A whole part: a form field, or a file part when it has a filename. */
const part = (name: string | undefined, body: Buffer | string, filename?: string) =>
  Buffer.concat([partHead(name, filename), Buffer.isBuffer(body) ? body : Buffer.from(body), Buffer.from('\r\n')]);
const end = Buffer.from(`--${BOUNDARY}--\r\n`);
const onnx = Buffer.alloc(64, 7);

/** A request whose body streams in as the functions host hands it over (a web ReadableStream). */
function request(body: Iterable<Buffer> | AsyncIterable<Buffer>): HttpRequest {
  return {
    headers: new Headers({ 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }),
    body: Readable.toWeb(Readable.from(body)),
  } as unknown as HttpRequest;
}

/** readRegistrationUpload as the route uses it: the artifact staged in a lake, discarded on failure. */
function upload(maxArtifactBytes = 4096) {
  const lake = new MemoryLake();
  const deps = { lake, maxArtifactBytes } as unknown as RegisterPackageDeps;
  const read = (req: HttpRequest) =>
    readRegistrationUpload<StagedArtifact>(
      req,
      (stream) => stageUpload(deps, 'regional', stream),
      (staged) => lake.delete(staged.path),
    );
  return { lake, read };
}

describe('reading a registration upload (multipart)', () => {
  it('when the manifest and the artifact come whole, in either order, then both are read and the artifact is staged', async () => {
    for (const parts of [
      [part('manifest', '{"m":1}'), part('artifact', onnx, 'model.onnx')],
      [part('artifact', onnx, 'model.onnx'), part('manifest', '{"m":1}', 'manifest.json')],
    ]) {
      const { lake, read } = upload();
      const result = await read(request([...parts, end]));
      expect(result.manifest).toBe('{"m":1}');
      expect(result.artifact).toMatchObject({ size: onnx.length, temporary: true });
      expect([...lake.objects.keys()]).toEqual([result.artifact.path]);
    }
  });

  it('when the artifact is over the size limit and the client keeps sending, then PAYLOAD_TOO_LARGE at once and nothing is staged', async () => {
    const { lake, read } = upload(4096);
    let sent = 0;
    async function* slowEndlessUpload() {
      yield part('manifest', '{}');
      yield partHead('artifact', 'model.onnx');
      for (;;) {
        await sleep(1);
        sent += 1024;
        yield Buffer.alloc(1024, 1);
      }
    }
    await expect(read(request(slowEndlessUpload()))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(sent).toBeLessThan(64 * 1024);
    expect([...lake.objects.keys()]).toEqual([]);
  });

  it('when a large artifact is over the limit in a body that is all there, then PAYLOAD_TOO_LARGE and nothing is staged', async () => {
    const { lake, read } = upload(4096);
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    await expect(read(request([part('manifest', '{}'), part('artifact', big, 'model.onnx'), end]))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect([...lake.objects.keys()]).toEqual([]);
  });

  it.each([
    ['the closing boundary is missing', [part('manifest', '{}'), part('artifact', onnx, 'model.onnx')]],
    ['the body stops inside the artifact', [part('manifest', '{}'), partHead('artifact', 'model.onnx'), onnx]],
    ['there are two artifact parts', [part('manifest', '{}'), part('artifact', onnx, 'a.onnx'), part('artifact', onnx, 'b.onnx'), end]],
    ['a part has no name', [part('manifest', '{}'), part(undefined, 'x'), part('artifact', onnx, 'model.onnx'), end]],
    ['the artifact is a form field, not a file', [part('manifest', '{}'), part('artifact', 'not a file'), end]],
  ])('when %s, then VALIDATION_ERROR and nothing is left staged', async (_what, body) => {
    const { lake, read } = upload();
    await expect(read(request(body))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect([...lake.objects.keys()]).toEqual([]);
  });

  it.each([
    ['two manifest fields', [part('manifest', '{"a":1}'), part('manifest', '{"b":2}')]],
    ['a manifest file part and a manifest field', [part('manifest', '{"a":1}', 'manifest.json'), part('manifest', '{"b":2}')]],
    ['a manifest field and a manifest file part', [part('manifest', '{"a":1}'), part('manifest', '{"b":2}', 'manifest.json')]],
  ])('when the upload has %s, then VALIDATION_ERROR says so (neither is registered) and nothing is left staged', async (_what, manifests) => {
    const { lake, read } = upload();
    await expect(read(request([...manifests, part('artifact', onnx, 'model.onnx'), end]))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining("more than one 'manifest' part"),
    });
    expect([...lake.objects.keys()]).toEqual([]);
  });

  it('when the client disconnects in the middle of the artifact, then VALIDATION_ERROR and nothing is left staged', async () => {
    const { lake, read } = upload();
    async function* disconnecting() {
      yield part('manifest', '{}');
      yield partHead('artifact', 'model.onnx');
      yield onnx;
      throw new Error('aborted');
    }
    await expect(read(request(disconnecting()))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect([...lake.objects.keys()]).toEqual([]);
  });
});

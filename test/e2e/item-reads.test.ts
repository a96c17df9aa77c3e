/**
 * Reads of one record and of a version's files over HTTP on devhost: the routes as a client calls
 * them (roles, 400/404/500 problems), and model.onnx downloaded byte for byte with its digest.
 * The production records are written into devhost's Cosmos DB through the product's own adapter:
 * the flows that make them have e2e tests of their own.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { closeCosmos, cosmosContainers } from '../../shared/adapters/cosmos/client';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { lakePaths } from '../../shared/domain/lake-paths';
import { aMonitoringWindow, anActualsRecord, aRetrainingRecord } from '../support/builders';
import { aRegionalModel, regionalPackage, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, type ProductDevhost, startProductDevhost, TEST_IDENTITIES } from '../support/product-devhost';

const W1 = '20260301T0000Z';
const W2 = '20260302T0000Z';
const pkg = regionalPackage(TRUE_WEIGHTS, 0);
const sha256 = createHash('sha256').update(pkg.onnx).digest('hex');

let devhost: ProductDevhost;
let dataDir: string;
const sharedCosmos = process.env.COSMOS_ENDPOINT;
const reader = () => apiClient(devhost.origin, 'reader');

/** A call as a signed-in caller with no MLOps role. */
const asNobody = (route: string) => fetch(`${devhost.origin}/api/${route}`, { headers: { authorization: 'Bearer token-nobody' } });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'item-reads-e2e-'));
  const identities = { ...Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v])), 'token-nobody': { name: 'nora.nobody@contoso.example', roles: [] } };
  devhost = await startProductDevhost({ dataDir, env: { DEVHOST_IDENTITIES: JSON.stringify(identities) } });
  await devhost.container().createIfNotExists();
  // This process writes the records into devhost's own Cosmos DB server (it runs on a free port).
  process.env.COSMOS_ENDPOINT = /^cosmos\s+(\S+)/m.exec(devhost.output.join('\n'))![1]!;

  const contributor = apiClient(devhost.origin, 'contributor');
  expect((await contributor.post('models', aRegionalModel('regional'))).status).toBe(201);
  expect((await contributor.register('regional', pkg.manifest, pkg.onnx)).body).toMatchObject({ version: 1, artifactSha256: sha256 });

  const store = cosmosRunStore();
  const request = aRetrainingRecord('regional', W1);
  await store.retraining.create('regional', request.requestId, request);
  await store.windows.create('regional', W1, aMonitoringWindow('regional', W1, 40));
  await store.actuals.create('regional', 'a1', anActualsRecord('regional', 'a1', undefined, { windows: [W1], unmatched: 1, quarantineFolder: lakePaths.quarantineFolder('regional', 'a1') }));
  for (const name of [lakePaths.labelled('regional', W1, 'a1'), lakePaths.quarantine('regional', 'a1', 'bucket-00000.jsonl')]) await devhost.container().getBlockBlobClient(name).upload('x', 1);
  // A window stored under rules that have since tightened.
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ id: `window:${W2}`, docType: 'window', modelName: 'regional', window: 'not a window' });
});

afterAll(async () => {
  closeCosmos();
  if (sharedCosmos === undefined) delete process.env.COSMOS_ENDPOINT;
  else process.env.COSMOS_ENDPOINT = sharedCosmos;
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('reading one record over HTTP on devhost', () => {
  it('when a reader asks for a stored request, window or actuals record, then 200 with it; without a token 401, without a role 403', async () => {
    const request = await reader().get(`models/regional/retraining/retrain:regional:${W1}`);
    expect(request).toMatchObject({ status: 200, body: { request: { requestId: `retrain:regional:${W1}`, state: 'queued', windowId: W1 } } });
    expect(await reader().get(`models/regional/monitoring/${W1}`)).toMatchObject({ status: 200, body: { window: { window: { id: W1 }, predictions: 40 } } });
    expect(await reader().get('models/regional/actuals/a1')).toMatchObject({
      status: 200,
      body: { actuals: { actualsId: 'a1', unmatched: 1 }, labelled: [lakePaths.labelled('regional', W1, 'a1')], quarantine: [lakePaths.quarantine('regional', 'a1', 'bucket-00000.jsonl')] },
    });
    for (const route of [`models/regional/retraining/retrain:regional:${W1}`, `models/regional/monitoring/${W1}`, 'models/regional/actuals/a1', 'models/regional/versions/1/files/model.onnx']) {
      expect((await apiClient(devhost.origin).get(route)).status).toBe(401);
      expect(await (await asNobody(route)).json()).toMatchObject({ status: 403, code: 'FORBIDDEN', requiredRole: 'MLOps.Reader' });
    }
  });

  it('when the model or the record is unknown, then 404 naming which; a malformed id is a 400', async () => {
    expect((await reader().get(`models/nope/monitoring/${W1}`)).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await reader().get('models/nope/actuals/a1')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await reader().get('models/nope/retraining/retrain:nope:20260301T0000Z')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await reader().get('models/regional/monitoring/20260303T0000Z')).body).toMatchObject({ status: 404, code: 'NOT_FOUND', windowId: '20260303T0000Z' });
    expect((await reader().get('models/regional/actuals/a2')).body).toMatchObject({ status: 404, code: 'NOT_FOUND', actualsId: 'a2' });
    expect((await reader().get(`models/regional/retraining/retrain:regional:${W2}`)).body).toMatchObject({ status: 404, code: 'NOT_FOUND', requestId: `retrain:regional:${W2}` });
    for (const route of ['models/regional/monitoring/20260230T0000Z', 'models/regional/monitoring/latest', 'models/regional/retraining/42', 'models/regional/actuals/-a1']) {
      const answer = await reader().get(route);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    }
  });

  it('when a stored window no longer reads, then the list shows it apart and the window read is a 500 DOCUMENT_UNREADABLE with the same reason', async () => {
    const listed = (await reader().get('models/regional/monitoring')).body.unreadable;
    expect(listed).toEqual([{ id: W2, reason: expect.stringContaining('window document is invalid') }]);
    expect((await reader().get(`models/regional/monitoring/${W2}`)).body).toMatchObject({ status: 500, code: 'DOCUMENT_UNREADABLE', id: W2, reason: listed[0].reason });
  });
});

/** A process's resident memory now and at its peak since the peak was last reset, in bytes (Linux /proc). */
function memoryOf(pid: number): { resident: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)![1]) * 1024;
  return { resident: kib('VmRSS'), peak: kib('VmHWM') };
}

describe("downloading a version's files over HTTP on devhost", () => {
  it('when model.onnx is downloaded, then the bytes are the uploaded artifact, with its length, the blob ETag, an attachment name and Repr-Digest of its sha256', async () => {
    const response = await fetch(`${devhost.origin}/api/models/regional/versions/1/files/model.onnx`, { headers: { authorization: 'Bearer token-reader' } });
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(pkg.onnx)).toBe(true);
    const blob = await devhost.container().getBlobClient(lakePaths.modelArtifact('regional', 1)).getProperties();
    expect(Object.fromEntries(['content-type', 'content-length', 'etag', 'content-disposition', 'repr-digest'].map((h) => [h, response.headers.get(h)]))).toEqual({
      'content-type': 'application/octet-stream',
      'content-length': String(pkg.onnx.length),
      etag: blob.etag,
      'content-disposition': 'attachment; filename="regional-v1-model.onnx"',
      'repr-digest': `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`,
    });
    expect(Buffer.from(/^sha-256=:(.+):$/.exec(response.headers.get('repr-digest')!)![1]!, 'base64').toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it("when a large model.onnx is downloaded, then it streams through the worker and the host: every byte arrives, and the process's peak memory grows by less than two copies of the file (the buffered path's cost)", async () => {
    const size = 256 * 1024 * 1024;
    const block = randomBytes(1024 * 1024);
    const artifact = devhost.container().getBlockBlobClient(lakePaths.modelArtifact('regional', 1));
    await artifact.uploadData(Buffer.concat(Array.from({ length: size / block.length }, () => block)));
    const expected = createHash('sha256');
    for (let i = 0; i < size / block.length; i++) expected.update(block);
    try {
      // The peak is reset first: what remains of it after the download is what the download cost.
      fs.writeFileSync(`/proc/${devhost.pid}/clear_refs`, '5');
      const before = memoryOf(devhost.pid).resident;
      const response = await fetch(`${devhost.origin}/api/models/regional/versions/1/files/model.onnx`, { headers: { authorization: 'Bearer token-reader' } });
      expect([response.status, response.headers.get('content-length')]).toEqual([200, String(size)]);
      const received = createHash('sha256');
      let bytes = 0;
      for await (const chunk of response.body!) {
        received.update(chunk);
        bytes += chunk.length;
      }
      expect([bytes, received.digest('hex')]).toEqual([size, expected.digest('hex')]);
      // Buffered (no HTTP streams), the library reads the file into one buffer and the host gets a
      // copy for the invocation's answer: about four times its size measured. Streamed, the worker
      // holds at most what its proxy has not sent yet (the library does not wait for the proxy's
      // drain): nearly nothing while the client keeps up, up to the file once when it falls behind,
      // as it does under a loaded CI run. So the bound is the file once and a half: never two copies.
      expect(memoryOf(devhost.pid).peak - before).toBeLessThan(size * 1.5);
    } finally {
      await artifact.upload(pkg.onnx, pkg.onnx.length);
    }
  });

  it('when the JSON files are downloaded, then they are application/json as stored, without a digest', async () => {
    const transforms = await reader().get('models/regional/versions/1/files/transforms.json');
    expect(transforms.status).toBe(200);
    expect(transforms.headers.get('content-type')).toBe('application/json');
    expect(transforms.headers.get('repr-digest')).toBeNull();
    expect(transforms.body).toEqual(JSON.parse(JSON.stringify(pkg.manifest.transforms)));
    expect((await reader().get('models/regional/versions/1/files/golden-records.json')).body).toEqual(JSON.parse(JSON.stringify(pkg.manifest.goldenRecords)));
    expect((await reader().get('models/regional/versions/1/files/manifest.json')).body).toMatchObject({ signature: pkg.manifest.signature });
  });

  it('when the name, the version or the model is unknown, then 404; a file gone from the lake is ARTIFACT_MISSING as scoring reports it', async () => {
    expect((await reader().get('models/regional/versions/1/files/weights.bin')).body).toMatchObject({ status: 404, code: 'NOT_FOUND', allowed: ['model.onnx', 'manifest.json', 'transforms.json', 'golden-records.json'] });
    expect((await reader().get('models/regional/versions/9/files/model.onnx')).body).toMatchObject({ status: 404, code: 'VERSION_NOT_FOUND' });
    expect((await reader().get('models/nope/versions/1/files/model.onnx')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    await devhost.container().getBlobClient(lakePaths.goldenRecords('regional', 1)).delete();
    expect((await reader().get('models/regional/versions/1/files/golden-records.json')).body).toMatchObject({ status: 500, code: 'ARTIFACT_MISSING', file: 'golden records' });
  });
});

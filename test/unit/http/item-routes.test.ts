/**
 * The routes that read one record or one version file: their params (a malformed id is a 400),
 * their answers as documented, and the problems of what is missing or no longer reads.
 */
import { buffer } from 'node:stream/consumers';

import { apiRoutes } from '../../../functions/http/api';
import { openApiDocument } from '../../../functions/http/openapi';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { modelRecordSchema } from '../../../shared/schemas/registry';
import { callRoute } from '../../support/api-route';
import { aModelDefinition, aModelVersion, aMonitoringWindow, anActualsRecord, anInferenceRun, aRetrainingRecord, sha } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';

const mockStore = inMemoryRunStore();
const mockRegistry = new InMemoryModelRegistry();
const mockLake = new MemoryLake();
jest.mock('../../../shared/composition', () => ({
  batch: () => ({ runs: mockStore }),
  runStore: () => mockStore,
  registryStore: () => mockRegistry,
  dataLake: () => mockLake,
}));
import '../../../functions/http/runs';
import '../../../functions/http/actuals';
import '../../../functions/http/monitoring';
import '../../../functions/http/retraining';
import '../../../functions/http/version-files';

const W1 = '20260301T0000Z';
const REQUEST = aRetrainingRecord('churn', W1);
const ONNX = Buffer.from('not really onnx, but bytes');

beforeAll(async () => {
  const at = '2026-01-01T00:00:00.000Z';
  await mockRegistry.createModel(modelRecordSchema.parse({ modelName: 'churn', definition: aModelDefinition(), createdAt: at, updatedAt: at, createdBy: 'alice@example.com', latestVersion: 1 }));
  mockRegistry.versions.set('churn/1', { value: aModelVersion({ artifact: { path: lakePaths.modelArtifact('churn', 1), sha256: sha('onnx') } }), etag: '"v1"' });
  await mockLake.write(lakePaths.modelArtifact('churn', 1), ONNX);
  await mockStore.retraining.create('churn', REQUEST.requestId, REQUEST);
  await mockStore.windows.create('churn', W1, aMonitoringWindow('churn', W1));
  await mockStore.actuals.create('churn', 'a1', anActualsRecord('churn', 'a1', undefined, { windows: [W1] }));
  await mockLake.write(lakePaths.labelled('churn', W1, 'a1'), Buffer.from('x'));
  mockStore.runs.storeUnchecked('churn', 'r-bad', { ...anInferenceRun('churn', 'r-bad'), rowsRead: -1 });
});

describe('GET one production record', () => {
  it('when the record is stored, then 200 with it, as its documented schema reads it', async () => {
    expect(await callRoute('getRetraining', `/api/models/churn/retraining/${REQUEST.requestId}`, { model: 'churn', requestId: REQUEST.requestId })).toEqual({ status: 200, body: { request: REQUEST } });
    expect(await callRoute('getMonitoringWindow', `/api/models/churn/monitoring/${W1}`, { model: 'churn', windowId: W1 })).toMatchObject({ status: 200, body: { window: { window: { id: W1 } } } });
    expect(await callRoute('getActuals', '/api/models/churn/actuals/a1', { model: 'churn', actualsId: 'a1' })).toMatchObject({
      status: 200,
      body: { actuals: { actualsId: 'a1' }, labelled: [lakePaths.labelled('churn', W1, 'a1')], quarantine: [] },
    });
  });

  it('when the window id is no window id (the pattern, or an instant that does not exist), then 400 before any read', async () => {
    for (const windowId of ['yesterday', '20260230T0000Z', '20260301T2400Z', `${W1}x`]) {
      expect(await callRoute('getMonitoringWindow', `/api/models/churn/monitoring/${windowId}`, { model: 'churn', windowId })).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR' } });
    }
    expect(await callRoute('getRetraining', '/api/models/churn/retraining/r1', { model: 'churn', requestId: 'r1' })).toMatchObject({ status: 400 });
    // One issue for an id that is not of the pattern, not one more for each of its parts.
    expect((await callRoute('getRetraining', '/api/models/churn/retraining/retrain:churn:2026', { model: 'churn', requestId: 'retrain:churn:2026' })).body.issues).toHaveLength(1);
    expect((await callRoute('getMonitoringWindow', '/api/models/churn/monitoring/latest', { model: 'churn', windowId: 'latest' })).body.issues).toEqual([
      { path: 'windowId', code: 'invalid_format', message: 'a window id is its UTC start as YYYYMMDDTHHmmZ' },
    ]);
  });

  it("when a request id names an instant that does not exist or another model, then 400 before any read, on the read and the pipeline's report alike", async () => {
    for (const requestId of ['retrain:churn:20260230T0000Z', 'retrain:churn:20260301T2400Z', `retrain:fraud:${W1}`]) {
      for (const route of ['getRetraining', 'completeRetraining']) {
        const path = `/api/models/churn/retraining/${requestId}${route === 'completeRetraining' ? '/complete' : ''}`;
        expect([requestId, route, await callRoute(route, path, { model: 'churn', requestId })]).toMatchObject([requestId, route, { status: 400, body: { code: 'VALIDATION_ERROR' } }]);
      }
    }
    // The request itself still reads by its id.
    expect((await callRoute('getRetraining', `/api/models/churn/retraining/${REQUEST.requestId}`, { model: 'churn', requestId: REQUEST.requestId })).status).toBe(200);
  });

  it('when the model or the record is unknown, then 404 naming which', async () => {
    expect((await callRoute('getMonitoringWindow', '/api/models/nope/monitoring/20260302T0000Z', { model: 'nope', windowId: '20260302T0000Z' })).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await callRoute('getMonitoringWindow', '/api/models/churn/monitoring/20260302T0000Z', { model: 'churn', windowId: '20260302T0000Z' })).body).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      windowId: '20260302T0000Z',
    });
    expect((await callRoute('getRun', '/api/models/nope/runs/r1', { model: 'nope', runId: 'r1' })).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await callRoute('getRun', '/api/models/churn/runs/r1', { model: 'churn', runId: 'r1' })).body).toMatchObject({ status: 404, code: 'NOT_FOUND', runId: 'r1' });
  });

  it('when the stored document no longer reads, then a 500 DOCUMENT_UNREADABLE problem with its id and the reason the list gives', async () => {
    const listed = await callRoute('listRuns', '/api/models/churn/runs', { model: 'churn' });
    const answer = await callRoute('getRun', '/api/models/churn/runs/r-bad', { model: 'churn', runId: 'r-bad' });
    expect(answer).toEqual({
      status: 500,
      body: expect.objectContaining({ type: 'urn:mlops:problem:document-unreadable', code: 'DOCUMENT_UNREADABLE', model: 'churn', id: 'r-bad', reason: (listed.body.unreadable as { reason: string }[])[0]!.reason }),
    });
  });
});

describe('GET a version file', () => {
  const spec = () => apiRoutes.find((r) => r.name === 'getVersionFile')!;

  it('when model.onnx is asked for, then its bytes as a stream with Content-Type, Content-Length, ETag, Content-Disposition and Repr-Digest', async () => {
    const answer = await spec().handler({ params: { model: 'churn', version: 1, name: 'model.onnx' }, query: {}, body: undefined, actor: undefined, request: undefined as never, client: undefined as never, context: undefined as never });
    expect(answer.status).toBe(200);
    expect(answer.headers).toEqual({
      'content-type': 'application/octet-stream',
      'content-length': String(ONNX.length),
      etag: (await mockLake.stat(lakePaths.modelArtifact('churn', 1)))!.etag,
      'content-disposition': 'attachment; filename="churn-v1-model.onnx"',
      'repr-digest': `sha-256=:${Buffer.from(sha('onnx'), 'hex').toString('base64')}:`,
    });
    expect((await buffer(answer.stream!)).equals(ONNX)).toBe(true);
  });

  it('when the name is no file of a version, then 404 listing the names (not a 400 from the params)', async () => {
    expect((await callRoute('getVersionFile', '/api/models/churn/versions/1/files/model.pkl', { model: 'churn', version: '1', name: 'model.pkl' })).body).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      allowed: ['model.onnx', 'manifest.json', 'transforms.json', 'golden-records.json'],
    });
  });

  it('when the OpenAPI document is generated, then the route answers a binary file in either media type, with its headers', () => {
    const operation = (openApiDocument(apiRoutes).paths as Record<string, Record<string, { parameters: { name: string }[]; responses: Record<string, { content: unknown; headers: Record<string, unknown> }> }>>)[
      '/models/{model}/versions/{version}/files/{name}'
    ]!.get!;
    expect(operation.parameters.map((p) => p.name)).toEqual(['model', 'version', 'name']);
    expect(operation.responses['200']!.content).toEqual({
      'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
      'application/json': { schema: { type: 'string', format: 'binary' } },
    });
    expect(Object.keys(operation.responses['200']!.headers)).toEqual(['Content-Length', 'ETag', 'Content-Disposition', 'Repr-Digest']);
  });

  it('when the OpenAPI document is generated, then the single-record routes list their id parameters, the window id with its pattern', () => {
    const paths = openApiDocument(apiRoutes).paths as Record<string, { get?: { parameters: { name: string; schema: { pattern?: string } }[] } }>;
    for (const [route, id] of [['/models/{model}/retraining/{requestId}', 'requestId'], ['/models/{model}/actuals/{actualsId}', 'actualsId'], ['/models/{model}/monitoring/{windowId}', 'windowId']] as const) {
      expect(paths[route]?.get?.parameters.map((p) => p.name)).toEqual(['model', id]);
    }
    expect(paths['/models/{model}/monitoring/{windowId}']!.get!.parameters[1]!.schema.pattern).toBe('^\\d{8}T\\d{4}Z$');
  });
});

/**
 * Updating a model's definition end to end on devhost, over real HTTP: PATCH /models/{model} with
 * a merge patch and If-Match, the audit ledger and the model-events topic, the refusals, and a
 * version registered after the update living by the new approval timeout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost, type TestIdentity } from '../support/product-devhost';

jest.setTimeout(120_000);

const VALIDATION = 'datasets/tuned/validation.csv';
const policies = { validation: { metric: 'rmse', maxRegressionVsChampion: 1.0, maxSegmentRegression: 0.5, minSegmentRows: 30, bootstrapResamples: 20 } };

let devhost: ProductDevhost;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-update-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
  const csv = toCsv(regionalRows(400, 11));
  await devhost.container().getBlockBlobClient(VALIDATION).upload(csv, Buffer.byteLength(csv));
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** PATCH as `who`, with a merge-patch body and any headers (If-Match). */
async function patch(who: TestIdentity, model: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${devhost.origin}/api/models/${model}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer token-${who}`, 'content-type': 'application/merge-patch+json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field
}

describe('updating a model over HTTP on devhost', () => {
  const reader = () => apiClient(devhost.origin, 'reader');
  let etag = '';

  it('when an admin patches a policy with the If-Match GET gave, then 200 with the new definition and ETag; GET and the audit ledger show it', async () => {
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('tuned', policies))).status).toBe(201);
    const before = await reader().get('models/tuned');
    expect(before.status).toBe(200);
    etag = before.headers.get('etag')!;
    expect(etag).toBe('"r0"');
    const updated = await patch('admin', 'tuned', { reason: 'approvers answer within seconds in this test', policies: { approval: { timeout: 'PT3S' } } }, { 'if-match': etag });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"r1"');
    expect(updated.body).toMatchObject({ revision: 1, definition: { policies: { approval: { timeout: 'PT3S', promoteOnApproval: true } } }, versions: [] });
    const after = await reader().get('models/tuned');
    expect(after.headers.get('etag')).toBe('"r1"');
    // Without a champion the pointer GET shows is made up on each read, stamped then.
    expect({ ...after.body, champion: null }).toEqual({ ...updated.body, champion: null });
    const audit = await reader().get('models/tuned/audit');
    expect(audit.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['model_created', 'model_updated']);
    expect(audit.body.entries[1]).toMatchObject({
      id: 'tuned:updated:1',
      revision: 1,
      actor: { id: 'adam.admin@contoso.example' },
      reason: 'approvers answer within seconds in this test',
      changes: [{ path: 'policies.approval.timeout', from: 'P7D', to: 'PT3S' }],
    });
  });

  it('when the patch is stale, touches an immutable field or comes from a non-admin, then 412 with the current ETag, 400 naming the field, 403; nothing changes', async () => {
    expect(await patch('admin', 'tuned', { description: 'late' }, { 'if-match': '"r0"' })).toMatchObject({
      status: 412,
      body: { code: 'PRECONDITION_FAILED', status: 412 },
    });
    const immutable = await patch('admin', 'tuned', { task: 'binary', policies: { drift: { window: 'PT6H' } } });
    expect(immutable).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR', immutableFields: ['task', 'policies.drift.window'] } });
    expect(immutable.body.detail).toContain('register a new model instead');
    expect(await patch('admin', 'tuned', { policies: { approval: { timeout: 'P0D' } } })).toMatchObject({ status: 400, body: { issues: [expect.objectContaining({ path: 'policies.approval.timeout' })] } });
    for (const who of ['reader', 'contributor', 'approver'] as const) {
      expect(await patch(who, 'tuned', { description: 'mine' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', requiredRole: 'MLOps.Admin' } });
    }
    const stale = await patch('admin', 'tuned', { description: 'late' }, { 'if-match': '"r0"' });
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    // The 412 names the current ETag: a client decides again on it without another GET.
    expect(stale.headers.get('etag')).toBe('"r1"');
    const now = await reader().get('models/tuned');
    expect(now.headers.get('etag')).toBe('"r1"');
    expect(now.body.definition.description).toBe(aRegionalModel('tuned').description);
  });

  it('when a patch changes nothing, then 200 with the same ETag and no ledger entry', async () => {
    const same = await patch('admin', 'tuned', { reason: 'no-op', policies: { approval: { timeout: 'PT3S' } } }, { 'if-match': '"r1"' });
    expect(same).toMatchObject({ status: 200, body: { revision: 1 } });
    expect(same.headers.get('etag')).toBe('"r1"');
    expect((await reader().get('models/tuned/audit')).body.entries).toHaveLength(2);
  });

  it('when the patch comes as application/json, then it is read as well; text/plain is 415; the OpenAPI document lists the route with its body for both types', async () => {
    expect(await patch('admin', 'tuned', { owners: ['team-a'] }, { 'content-type': 'application/json', 'if-match': '"r1"' })).toMatchObject({ status: 200, body: { revision: 2, definition: { owners: ['team-a'] } } });
    expect(await patch('admin', 'tuned', { owners: ['team-b'] }, { 'content-type': 'text/plain' })).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const openapi = (await apiClient(devhost.origin).get('openapi.json')).body;
    const operation = openapi.paths['/models/{model}'].patch;
    expect(operation).toMatchObject({ operationId: 'updateModel', 'x-required-role': 'MLOps.Admin' });
    expect(Object.keys(operation.requestBody.content).sort()).toEqual(['application/json', 'application/merge-patch+json']);
    expect(operation.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ModelUpdate' });
    expect(Object.keys(openapi.components.schemas.ModelUpdate.properties)).toEqual(expect.arrayContaining(['reason', 'description', 'owners', 'schedule', 'policies']));
  });

  it('when a version is registered after the update, then its lifecycle waits by the new timeout and the version expires, naming it', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: VALIDATION }] });
    const registered = await apiClient(devhost.origin, 'contributor').register('tuned', pkg.manifest, pkg.onnx);
    expect(registered.status).toBe(202);
    const expired = await eventually('v1 to expire', async () => {
      const v = await reader().get(`models/tuned/versions/${registered.body.version}`);
      return v.body?.version?.state === 'expired' ? v.body : undefined;
    }, 90_000);
    expect(expired.version.history.at(-1)).toMatchObject({ command: 'expire', reason: expect.stringContaining('the approval timeout (policies.approval.timeout) is PT3S') });
  });

  it('when the model was updated, then model.updated was published on the model-events topic with the changed paths', async () => {
    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const events: { type: string; model: string; data: Record<string, unknown> }[] = [];
      const updated = await eventually('model.updated', async () => {
        for (const m of await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 })) events.push(m.body);
        return events.find((e) => e.type === 'model.updated' && e.model === 'tuned');
      });
      expect(updated.data).toEqual({ actor: 'adam.admin@contoso.example', revision: 1, changedPaths: ['policies.approval.timeout'], reason: 'approvers answer within seconds in this test' });
      await eventually('the second update', async () => {
        for (const m of await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 })) events.push(m.body);
        return events.some((e) => e.type === 'model.updated' && e.data.revision === 2) ? true : undefined;
      });
      expect(events.filter((e) => e.type === 'model.updated').map((e) => e.data.changedPaths)).toEqual([['policies.approval.timeout'], ['owners']]);
    } finally {
      await client.close();
    }
  });
});

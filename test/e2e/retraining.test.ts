/**
 * Retraining end to end on devhost: the product run as `npm start` runs it, a request message put
 * on the local broker's `retraining-requests` queue, the real Service Bus trigger, the built-in
 * trainer on labelled data in Azurite joined to runs in the Cosmos server, the new version's
 * lifecycle against the champion, the request closing on the decision; and a request whose
 * handling always fails ending in the dead-letter queue with its reason on the record.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { localCosmosClient } from '../../devhost/services/cosmos-snapshot';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import type { RunStore } from '../../shared/ports/run-store';
import { aRetrainingRequest, driftedRows, labelledFixture } from '../support/labelled-data';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { receiveAtLeast } from '../support/servicebus';

jest.setTimeout(180_000);

const MODEL = 'regional';
const WINDOW = '20260601T0000Z';
const REQUEST_ID = `retrain:${MODEL}:${WINDOW}`;
const policies = {
  validation: { metric: 'rmse', maxRegressionVsChampion: 0.2, minSegmentRows: 1000, bootstrapResamples: 100, splits: [{ kind: 'random', testFraction: 0.5, seed: 1 }] },
};

let devhost: ProductDevhost;
let dataDir: string;
let runs: RunStore;
let bus: ServiceBusClient;
/** The external training pipeline a webhook model hands its requests to: the jobs it received. */
const jobs: { headers: http.IncomingHttpHeaders; body: { requestId: string; complete: { path: string }; lineage: { parentVersion: number; trainingRun: string } } }[] = [];
let pipeline: http.Server;

async function upload(name: string, body: string | Buffer): Promise<string> {
  const blob = devhost.container().getBlockBlobClient(name);
  const response = await blob.upload(body, Buffer.byteLength(body));
  return response.etag!;
}

const reader = () => apiClient(devhost.origin, 'reader');

async function versionIn(version: number, ...states: string[]) {
  return eventually(`v${version} to be ${states.join(' or ')}`, async () => {
    const res = await reader().get(`models/${MODEL}/versions/${version}`);
    if (res.status !== 200) return undefined;
    if (states.includes(res.body.version.state) && res.body.lifecycle?.runtimeStatus !== 'Failed') return res.body;
    if (['validation_failed', 'rejected', 'expired'].includes(res.body.version.state)) throw new Error(`v${version} ended ${res.body.version.state}: ${JSON.stringify(res.body.evidence?.reasons)}`);
    return undefined;
  }, 60_000);
}

async function requestIn(requestId: string, state: string) {
  return eventually(`${requestId} to be ${state}`, async () => {
    const res = await reader().get(`models/${MODEL}/retraining`);
    const found = (res.body?.requests as { requestId: string; state: string }[] | undefined)?.find((r) => r.requestId === requestId);
    return found?.state === state ? found : undefined;
  }, 60_000);
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retraining-e2e-'));
  pipeline = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      jobs.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => pipeline.listen(0, '127.0.0.1', resolve));
  const webhook = `http://127.0.0.1:${(pipeline.address() as AddressInfo).port}/jobs`;
  devhost = await startProductDevhost({ dataDir, env: { RETRAINING_WEBHOOK_URL: webhook } });
  await devhost.container().createIfNotExists();
  const endpoint = devhost.output.find((l) => l.startsWith('cosmos '))!.slice('cosmos'.length).trim();
  const database = (await localCosmosClient({ endpoint, key: 'unchecked' }).databases.createIfNotExists({ id: 'mlops' })).database;
  const container = async (id: string) => (await database.containers.createIfNotExists({ id, partitionKey: { paths: ['/modelName'] } })).container;
  const containers = { models: await container('models'), runs: await container('runs'), audit: await container('audit') };
  runs = cosmosRunStore(async () => containers);
  bus = new ServiceBusClient(devhost.serviceBusConnectionString);

  // v1, the champion, validated and approved through the API.
  const contributor = apiClient(devhost.origin, 'contributor');
  expect((await contributor.post('models', aRegionalModel(MODEL, policies))).status).toBe(201);
  await upload(`datasets/${MODEL}/validation.csv`, toCsv(regionalRows(300, 11)));
  const v1 = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: `datasets/${MODEL}/validation.csv` }] });
  expect((await contributor.register(MODEL, v1.manifest, v1.onnx)).status).toBe(202);
  const pending = await versionIn(1, 'pending_approval');
  const approve = await apiClient(devhost.origin, 'approver').post(`models/${MODEL}/versions/1/approve`, { evidenceHash: pending.version.evidenceHash });
  expect(approve.status).toBe(200);
  await versionIn(1, 'production');

  // What batch inference and the actuals join leave for a window: drops, runs, labelled rows.
  for (const [runId, seed] of [
    ['run-a', 1],
    ['run-b', 2],
  ] as const) {
    const fixture = labelledFixture({ model: MODEL, version: 1, runId, windowId: WINDOW, rows: driftedRows(200, seed, 0.4), segmentKey: 'region' });
    const etag = await upload(fixture.dropPath, fixture.drop);
    await runs.runs.create(MODEL, runId, fixture.run(etag, fixture.drop.length));
    await upload(fixture.labelledPath, fixture.labelled);
  }
});

afterAll(async () => {
  await bus?.close();
  await devhost?.stop();
  await new Promise((resolve) => pipeline?.close(resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('retraining through the local broker on devhost', () => {
  it('when a request message arrives, then the built-in trainer registers a new version that is validated against the champion, and the request closes when it is decided', async () => {
    await bus.createSender('retraining-requests').sendMessages({ messageId: REQUEST_ID, body: aRetrainingRequest(MODEL, 1, WINDOW), contentType: 'application/json' });

    const registered = await requestIn(REQUEST_ID, 'registered');
    expect(registered).toMatchObject({ trainer: 'builtin', resultVersion: 2, reason: 'drift', training: { source: 'labelled', from: [WINDOW] } });
    const v2 = await versionIn(2, 'pending_approval');
    expect(v2.version.lineage).toEqual({ source: 'builtin', parentVersion: 1, trainingRun: REQUEST_ID });
    expect(v2.lifecycle).toMatchObject({ instanceId: 'lifecycle:regional:2' });
    // Validated against v1 on the drifted data it was not trained on: the new version wins.
    expect(v2.evidence).toMatchObject({ decision: 'pass', champion: { version: 1 }, dataset: { path: `datasets/${MODEL}/retraining/${WINDOW}/validation.csv` } });
    const [split] = v2.evidence.splits;
    expect(split.challenger.overall.metrics.rmse.value).toBeLessThan(split.champion.overall.metrics.rmse.value / 4);

    const approve = await apiClient(devhost.origin, 'approver').post(`models/${MODEL}/versions/2/approve`, { evidenceHash: v2.version.evidenceHash });
    expect(approve.status).toBe(200);
    await versionIn(2, 'production');
    expect(await requestIn(REQUEST_ID, 'closed')).toMatchObject({ outcome: 'production', resultVersion: 2, closedAt: expect.any(String) });
    expect((await reader().get(`models/${MODEL}/champion`)).body.version).toBe(2);
  });

  it('when a request can never be handled, then after the delivery count it is in the dead-letter queue and its record says why', async () => {
    const requestId = `retrain:${MODEL}:20260401T0000Z`;
    await bus.createSender('retraining-requests').sendMessages([
      { messageId: requestId, body: aRetrainingRequest(MODEL, 1, '20260401T0000Z') },
      { messageId: 'garbled-1', body: 'this is not a retraining request' },
    ]);
    const dlq = bus.createReceiver('retraining-requests', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' });
    const dead = await receiveAtLeast(dlq, 2, 60_000);
    await dlq.close();
    expect(dead.map((m) => [m.messageId, m.deadLetterReason, m.deliveryCount]).sort()).toEqual([
      ['garbled-1', 'MaxDeliveryCountExceeded', 5],
      [requestId, 'MaxDeliveryCountExceeded', 5],
    ]);
    expect(await requestIn(requestId, 'failed')).toMatchObject({
      error: expect.stringMatching(/^INSUFFICIENT_DATA: 0 labelled rows could be joined .*\(delivery 5 of 5: the message goes to the dead-letter queue\)$/),
    });
    const log = devhost.output.join('\n');
    expect(log).toMatch(/retraining: message garbled-1, delivery 5, failed for the last time: it goes to the dead-letter queue: VALIDATION_ERROR: malformed retraining request 'garbled-1'/);
  });

  it('when a reader lists the requests, then they come newest first; the completion route refuses a request that is not waiting for a pipeline', async () => {
    const list = await reader().get(`models/${MODEL}/retraining`);
    expect(list.body.requests.map((r: { requestId: string }) => r.requestId)).toEqual([REQUEST_ID, `retrain:${MODEL}:20260401T0000Z`]);
    const contributor = apiClient(devhost.origin, 'contributor');
    const refused = await contributor.post(`models/${MODEL}/retraining/${REQUEST_ID}/complete`, { outcome: 'registered', version: 2 });
    expect(refused.body).toMatchObject({ status: 409, code: 'ILLEGAL_TRANSITION', detail: expect.stringMatching(/is not waiting for a report \(it is closed, trainer builtin\)/) });
    expect((await reader().post(`models/${MODEL}/retraining/${REQUEST_ID}/complete`, { outcome: 'failed', error: 'x' })).status).toBe(403);
    expect((await contributor.post(`models/${MODEL}/retraining/retrain:${MODEL}:20250101T0000Z/complete`, { outcome: 'failed', error: 'x' })).status).toBe(404);
    expect((await contributor.post(`models/${MODEL}/retraining/${REQUEST_ID}/complete`, { outcome: 'done' })).status).toBe(400);
  });

  it('when the model trains with a webhook, then the pipeline gets the job, reports the version it registered, and the request closes with that version\'s decision', async () => {
    const contributor = apiClient(devhost.origin, 'contributor');
    expect((await contributor.post('models', aRegionalModel('external', { ...policies, retraining: { trainer: 'webhook' } }))).status).toBe(201);
    const v1 = regionalPackage(TRUE_WEIGHTS, 0);
    expect((await contributor.register('external', v1.manifest, v1.onnx)).status).toBe(202);
    const requestId = `retrain:external:${WINDOW}`;
    // Raised now, as the monitor would: after v1 was registered.
    await bus.createSender('retraining-requests').sendMessages({ messageId: requestId, body: aRetrainingRequest('external', 1, WINDOW, { requestedAt: new Date().toISOString() }) });

    const job = await eventually('the pipeline to get the job', async () => jobs.find((j) => j.body.requestId === requestId));
    expect(job.headers['idempotency-key']).toBe(requestId);
    expect(job.body).toMatchObject({ complete: { method: 'POST', path: `/api/models/external/retraining/${requestId}/complete` }, lineage: { parentVersion: 1, trainingRun: requestId } });
    const training = await eventually('the request to be training', async () => {
      const res = await reader().get('models/external/retraining');
      return res.body.requests[0]?.state === 'training' ? res.body.requests[0] : undefined;
    });
    expect(training).toMatchObject({ requestId, trainer: 'webhook' });

    // The pipeline registers its model, then reports it.
    await upload('datasets/external/validation.csv', toCsv(regionalRows(200, 12)));
    const trained = regionalPackage([2, 5, 4, 0], 1, { datasets: [{ role: 'validation', uri: 'datasets/external/validation.csv' }] });
    const registered = await contributor.register('external', { ...trained.manifest, lineage: { source: 'webhook', ...job.body.lineage } }, trained.onnx);
    expect(registered.body.version).toBe(2);
    // A version from before the request (here the champion it was raised on) is not what it trained.
    const stale = await contributor.post(job.body.complete.path.replace(/^\/api\//, ''), { outcome: 'registered', version: 1 });
    expect(stale.body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', detail: expect.stringContaining(`version 1 was registered at`) });
    const report = await contributor.post(job.body.complete.path.replace(/^\/api\//, ''), { outcome: 'registered', version: 2 });
    expect(report).toMatchObject({ status: 202, body: { requestId, outcome: 'registered', accepted: true } });
    await eventually('the request to be registered', async () => {
      const res = await reader().get('models/external/retraining');
      return res.body.requests[0]?.state === 'registered' && res.body.requests[0]?.resultVersion === 2 ? true : undefined;
    });
    const again = await contributor.post(job.body.complete.path.replace(/^\/api\//, ''), { outcome: 'registered', version: 2 });
    expect(again.body).toMatchObject({ status: 409, code: 'ILLEGAL_TRANSITION' });

    const pending = await eventually('v2 of external to wait for approval', async () => {
      const res = await reader().get('models/external/versions/2');
      return res.body?.version?.state === 'pending_approval' ? res.body : undefined;
    }, 60_000);
    const rejected = await apiClient(devhost.origin, 'approver').post('models/external/versions/2/reject', { evidenceHash: pending.version.evidenceHash, reason: 'not this one' });
    expect(rejected.status).toBe(200);
    const closed = await eventually('the request to close', async () => {
      const res = await reader().get('models/external/retraining');
      return res.body.requests[0]?.state === 'closed' ? res.body.requests[0] : undefined;
    });
    expect(closed).toMatchObject({ requestId, resultVersion: 2, outcome: 'rejected' });
  });
});

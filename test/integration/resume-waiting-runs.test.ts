/**
 * `resumeWaitingRuns` (Service Bus trigger on the `champion-changes` subscription) fed a
 * `champion.changed` event while the model has several runs waiting for a champion, some of which
 * cannot be woken. Invoked through devhost's worker with the Cosmos run store and a durable client
 * whose management API is a stand-in that answers as the extension does: a status and 202 for a
 * known instance, 404 for one that does not exist (purged), 503 for an outage, and for one that
 * ended its status and 410 on an event (which the SDK takes as success).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ServiceBusReceivedMessage } from '@azure/service-bus';

import { durableClientPayload } from '../../devhost/durable/client-payload';
import { messageMetadata } from '../../devhost/triggers/servicebus-metadata';
import { defaultWorker } from '../../devhost/worker';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import type { InferenceRun } from '../../shared/schemas/monitoring';
import { anInferenceRun } from '../support/builders';

const worker = defaultWorker();
const lines: string[] = [];
worker.setLogSink((e) => lines.push(e.message));

/** Instance ids the stand-in answers 404 (no such instance), 503 (an outage) or as Terminated for; the rest run. */
const missing = new Set<string>();
const down = new Set<string>();
const terminated = new Set<string>();
const raised: string[] = [];
let server: Server;
const saved = { ...process.env };

/** The extension's status body (HttpApiHandler): 202 while it runs, 200 once it ended. */
function answerStatus(res: import('node:http').ServerResponse, instanceId: string): void {
  if (missing.has(instanceId) || down.has(instanceId)) return void res.writeHead(missing.has(instanceId) ? 404 : 503).end();
  const runtimeStatus = terminated.has(instanceId) ? 'Terminated' : 'Running';
  const at = '2026-06-01T00:00:00Z';
  res.writeHead(runtimeStatus === 'Running' ? 202 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ name: 'batchInference', instanceId, runtimeStatus, input: null, customStatus: null, output: null, createdTime: at, lastUpdatedTime: at }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const status = /\/instances\/([^/?]+)(?:\?|$)/.exec(req.url ?? '');
    const match = /\/instances\/([^/?]+)\/raiseEvent\/([^/?]+)/.exec(req.url ?? '');
    const instanceId = decodeURIComponent(match?.[1] ?? status?.[1] ?? '');
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET' && status) return answerStatus(res, instanceId);
      const code = !match ? 400 : missing.has(instanceId) ? 404 : down.has(instanceId) ? 503 : terminated.has(instanceId) ? 410 : 202;
      if (code === 202) raised.push(`${instanceId} ${match![2]}`);
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The durable-functions client rewrites the URLs to localhost:7071 unless WEBSITE_HOSTNAME is set, as devhost sets it.
  process.env.WEBSITE_HOSTNAME = origin.slice('http://'.length);
  process.env.EVENTS_TOPIC = 'model-events';
  const payload = durableClientPayload({ origin, taskHubName: 'ResumeTest', systemKey: 'system-key' });
  worker.setInputBindingProvider('durableClient', () => payload);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../functions/servicebus/champion-changes');
});

afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

const waitingRun = (model: string, runId: string): InferenceRun =>
  anInferenceRun(model, runId, { state: 'waiting_for_champion', version: null, sources: [{ path: `drops/${model}/${runId}.csv`, etag: '"0x1"', size: 10 }], instanceId: `batch:${model}:${runId}` });

const championChanged = (model: string) => ({
  eventId: `${model}:champion-changed:2`,
  type: 'champion.changed',
  model,
  version: 2,
  occurredAt: '2026-06-02T00:00:00Z',
  data: { epoch: 1, from: null, to: 2, cause: 'promote', actor: 'user:alice' },
});

const deliver = (model: string) => {
  const message = { body: {}, messageId: `${model}:champion-changed:2`, deliveryCount: 0, enqueuedTimeUtc: new Date() } as unknown as ServiceBusReceivedMessage;
  return worker.invoke('resumeWaitingRuns', { triggerValue: championChanged(model), triggerMetadata: messageMetadata(message), quiet: true });
};

describe('resumeWaitingRuns when some waiting runs cannot be woken', () => {
  it('when one run\'s orchestration instance is gone, then the runs after it are still woken and the gone one is logged and skipped', async () => {
    const model = `resume-${randomUUID().slice(0, 8)}`;
    const runs = cosmosRunStore();
    for (const runId of ['run-a', 'run-b', 'run-c']) await runs.runs.create(model, runId, waitingRun(model, runId));
    missing.add(`batch:${model}:run-a`);

    await deliver(model);

    expect(raised.filter((r) => r.includes(model)).sort()).toEqual([`batch:${model}:run-b championChanged`, `batch:${model}:run-c championChanged`]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`run run-a of ${model} waits for a champion but has no running orchestration instance`)));
  });

  it('when one run\'s orchestration instance was terminated, then it is logged as having none running (not as resuming: the host answers an event for an ended instance 410, which the SDK takes as success) and the others are woken', async () => {
    const model = `resume-${randomUUID().slice(0, 8)}`;
    const runs = cosmosRunStore();
    for (const runId of ['run-a', 'run-b']) await runs.runs.create(model, runId, waitingRun(model, runId));
    terminated.add(`batch:${model}:run-a`);

    await deliver(model);

    expect(raised.filter((r) => r.includes(model))).toEqual([`batch:${model}:run-b championChanged`]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`run run-a of ${model} waits for a champion but has no running orchestration instance`)));
    expect(lines).not.toContainEqual(expect.stringMatching(new RegExp(`run run-a of ${model} resumes`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`run run-b of ${model} resumes with v2`)));
  });

  it('when one run cannot be told (an outage), then the others are woken first and the handling throws naming it, so the message is delivered again', async () => {
    const model = `resume-${randomUUID().slice(0, 8)}`;
    const runs = cosmosRunStore();
    for (const runId of ['run-a', 'run-b', 'run-c']) await runs.runs.create(model, runId, waitingRun(model, runId));
    down.add(`batch:${model}:run-a`);

    await expect(deliver(model)).rejects.toThrow(new RegExp(`1 run\\(s\\) of ${model} could not be woken, to be retried: run-a: `));
    expect(raised.filter((r) => r.includes(model)).sort()).toEqual([`batch:${model}:run-b championChanged`, `batch:${model}:run-c championChanged`]);
    // An outage may pass: the failed delivery is logged with its message and number, not as one that can never be handled.
    const failed = lines.filter((l) => l.startsWith(`resumeWaitingRuns: message ${model}:champion-changed:2,`));
    expect(failed).toEqual([expect.stringMatching(new RegExp(`^resumeWaitingRuns: message ${model}:champion-changed:2, delivery 1, failed: Error: resumeWaitingRuns: 1 run\\(s\\) of ${model} could not be woken`))]);
  });
});

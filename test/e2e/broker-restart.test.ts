/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * The Service Bus broker restarted while the product works loses no message: devhost (in this
 * process, with the product app) publishes lifecycle and run events to a broker that is stopped
 * in the middle of a batch run and started again on the same port and data; every event reaches
 * the topic's subscription once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { type RunningDevhost, startDevhost } from '../../devhost/devhost';
import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { serviceBusListener } from '../../devhost/triggers/servicebus';
import { regionalRows, toCsv } from '../support/model-kit';
import { apiClient, eventually, regionalChampion, TEST_IDENTITIES } from '../support/product-devhost';

jest.setTimeout(180_000);

const root = path.join(__dirname, '..', '..');
let dataDir: string;
let broker: RunningServiceBusBroker;
let devhost: RunningDevhost;
const lines: string[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-restart-'));
  broker = await startServiceBusBroker({ dataDir: path.join(dataDir, 'servicebus') });
  process.env.SERVICEBUS_CONNECTION_STRING = broker.connectionString;
  process.env.DEVHOST_IDENTITIES = JSON.stringify(Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v])));
  process.env.BATCH_TARGET_CHUNK_BYTES = '16384';
  process.env.BATCH_MAX_PARALLEL_CHUNKS = '1';
  devhost = await startDevhost({
    appDir: root,
    main: '{functions,orchestrations}/**/*.ts',
    dataDir: path.join(dataDir, 'devhost'),
    port: 0,
    servicePorts: 'free',
    blobPollIntervalMs: 100,
    listeners: [serviceBusListener({ brokerConnectionString: broker.connectionString, log: () => undefined })],
    log: (line) => lines.push(line),
  });
});

afterEach(() => {
  if (process.env.SHOW_DEVHOST_LOG) console.log(lines.join('\n'));
});

afterAll(async () => {
  await devhost?.stop();
  await broker?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('when the broker restarts in the middle of a run, then the run completes and every event reaches the subscription once', async () => {
  const origin = devhost.host.origin;
  const container = (await import('@azure/storage-blob')).BlobServiceClient.fromConnectionString(devhost.azurite.connectionString).getContainerClient('mlops');
  await container.createIfNotExists();
  const put = (name: string, body: string) => container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
  await regionalChampion(origin, 'restart', put);

  await put('drops/restart/big.csv', toCsv(regionalRows(4000, 9)));
  const run = await eventually('the run to start scoring', async () => {
    const runs = (await apiClient(origin, 'reader').get('models/restart/runs')).body?.runs as { runId: string; state: string }[] | undefined;
    return runs?.find((r) => r.state === 'running');
  });
  const port = broker.port;
  await broker.stop();
  await new Promise((r) => setTimeout(r, 1500));
  broker = await startServiceBusBroker({ port, dataDir: path.join(dataDir, 'servicebus') });

  await eventually('the run to complete', async () => {
    const detail = await apiClient(origin, 'reader').get(`models/restart/runs/${run.runId}`);
    return detail.body?.run?.state === 'completed' ? true : undefined;
  }, 120_000);

  const client = new ServiceBusClient(broker.connectionString);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const events: { type: string; eventId: string; data: Record<string, string | number | null> }[] = [];
    await eventually('the run.completed event', async () => {
      for (const m of await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 })) events.push(m.body);
      return events.some((e) => e.type === 'run.completed') ? true : undefined;
    }, 60_000);
    for (const m of await receiver.receiveMessages(200, { maxWaitTimeInMs: 1000 })) events.push(m.body);
    const lifecycle = events.filter((e) => e.type === 'lifecycle.changed').map((e) => `${e.data.from}->${e.data.to}`);
    expect(lifecycle).toEqual(['registered->validating', 'validating->pending_approval', 'pending_approval->approved', 'approved->production']);
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(1);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  } finally {
    await client.close();
  }
});

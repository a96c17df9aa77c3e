import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';

import { type RunningDevhost, startDevhost } from '../../devhost/devhost';
import { localCosmosClient } from '../../devhost/services/cosmos-snapshot';

const appDir = path.join(__dirname, '../sample-app');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-e2e-'));
process.env.SAMPLE_TICK_SCHEDULE = '0 0 0 1 1 *';
const lines: string[] = [];

function start(): Promise<RunningDevhost> {
  return startDevhost({ appDir, dataDir, port: 0, servicePorts: 'free', blobPollIntervalMs: 100, log: (l) => lines.push(l) });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('devhost end to end (sample app, in process)', () => {
  let devhost: RunningDevhost;
  beforeAll(async () => {
    devhost = await start();
  });
  afterAll(async () => {
    await devhost.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when an orchestration is started over HTTP, then its status URL reports the output (async HTTP API)', async () => {
    const origin = devhost.host.origin;
    const started = await fetch(`${origin}/api/orchestrators/hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(['Oslo', 'Lima']),
    });
    expect(started.status).toBe(202);
    const links = (await started.json()) as { id: string; statusQueryGetUri: string };
    expect(started.headers.get('location')).toBe(links.statusQueryGetUri);
    expect(links.statusQueryGetUri.startsWith(`${origin}/runtime/webhooks/durabletask/instances/${links.id}`)).toBe(true);

    const final = await until('completion', async () => {
      const res = await fetch(links.statusQueryGetUri);
      const body = (await res.json()) as { runtimeStatus: string; output: unknown };
      return body.runtimeStatus === 'Completed' ? { status: res.status, body } : undefined;
    });
    expect(final.status).toBe(200);
    expect(final.body.output).toEqual(['Hello Oslo', 'Hello Lima']);

    // The same status through the real DurableClient inside a function.
    const viaClient = await fetch(`${origin}/api/orchestrators/hello/${links.id}`);
    expect(await viaClient.json()).toEqual({ runtimeStatus: 'Completed', output: ['Hello Oslo', 'Hello Lima'] });
    expect(lines.some((l) => l.includes('sampleHelloSequence') && l.includes('Completed'))).toBe(true);
  });

  it('when the Durable management API is called without the master key or with a wrong one, then it answers 401 and purges nothing', async () => {
    const api = `${devhost.host.origin}/runtime/webhooks/durabletask/instances`;
    const keyed = await fetch(`${api}?code=${devhost.masterKey}`);
    expect(keyed.status).toBe(200);
    const before = (await keyed.json()) as unknown[];
    expect(before.length).toBeGreaterThan(0);
    expect((await fetch(api)).status).toBe(401);
    expect((await fetch(`${api}?code=wrong`)).status).toBe(401);
    expect((await fetch(api, { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${api}?createdTimeFrom=2000-01-01T00:00:00Z`, { method: 'DELETE' })).status).toBe(401);
    expect((await (await fetch(api, { headers: { 'x-functions-key': devhost.masterKey } })).json()) as unknown[]).toHaveLength(before.length);
    // The sample app's settings give no master key: devhost made one up and says so (or uses the one set).
    expect(devhost.summary.some((l) => /^master key/.test(l))).toBe(true);
    // On free ports UseDevelopmentStorage=true reaches no Azurite of this devhost: it prints what does.
    expect(devhost.summary).toContain(`mlops lake   export STORAGE_CONNECTION_STRING='${devhost.azurite.connectionString}'`);
  });

  it('when the starter gets a malformed JSON body, then it answers 400 and starts nothing', async () => {
    const res = await fetch(`${devhost.host.origin}/api/orchestrators/hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '["Oslo",',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'malformed JSON body' });
  });

  it('when a blob is dropped into the Azurite devhost started, then its trigger fires once', async () => {
    const service = BlobServiceClient.fromConnectionString(devhost.azurite.connectionString);
    const container = service.getContainerClient('sample-drops');
    await container.createIfNotExists();
    await container.getBlockBlobClient('e2e/x.csv').upload('a,b\n', 4);
    /* eslint-disable-next-line @typescript-eslint/no-require-imports */
    const { drops } = require('../sample-app/functions/blob') as typeof import('../sample-app/functions/blob');
    await until('the trigger', async () => (drops.some((d) => d.blobTrigger === 'sample-drops/e2e/x.csv') ? true : undefined));
    await new Promise((r) => setTimeout(r, 500)); // several more polls
    expect(drops.filter((d) => d.blobTrigger === 'sample-drops/e2e/x.csv')).toHaveLength(1);
  });

  it('when devhost is stopped and started again, then Cosmos documents and finished instances are still there', async () => {
    const client = localCosmosClient(devhost.cosmos);
    const { database } = await client.databases.createIfNotExists({ id: 'e2e' });
    const { container } = await database.containers.createIfNotExists({ id: 'things', partitionKey: '/kind' });
    await container.items.create({ id: 'a', kind: 'k', value: 42 });
    const list = await fetch(`${devhost.host.origin}/runtime/webhooks/durabletask/instances?code=${devhost.masterKey}`);
    const before = (await list.json()) as unknown[];

    await devhost.stop();
    devhost = await start();

    const again = localCosmosClient(devhost.cosmos).database('e2e').container('things');
    const { resource } = await again.item('a', 'k').read<{ value: number }>();
    expect(resource?.value).toBe(42);
    const after = (await (await fetch(`${devhost.host.origin}/runtime/webhooks/durabletask/instances?code=${devhost.masterKey}`)).json()) as unknown[];
    expect(after).toHaveLength(before.length);
    expect(devhost.summary).toContain('cosmos documents restored: 1');
  });
});

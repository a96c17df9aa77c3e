/**
 * Fidelity suite, Durable part: the durable-functions samples (test/fidelity-app) run on devhost
 * through the real DurableClient, asserting what Azure answers (issue 15).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';

import { EventType } from '../../devhost/durable';
import { peekQueueMessages, queryTableEntities, storageAccount } from '../../devhost/host/bindings/storage-rest';
import { localCosmosClient } from '../../devhost/services/cosmos-snapshot';
import { attempts } from '../fidelity-app/functions/durable-samples';
import { type FidelityHost, fidelitySettings, startFidelityHost } from '../support/fidelity-host';

let dh: FidelityHost;

beforeAll(async () => {
  dh = await startFidelityHost();
});
afterAll(async () => {
  await dh.stop();
});

async function run(name: string, input?: unknown): Promise<{ id: string; output: unknown; runtimeStatus: string }> {
  const id = await dh.client.startNew(name, input === undefined ? {} : { input });
  const done = await dh.engine.waitFor(id);
  return { id, output: done.output === undefined ? undefined : JSON.parse(done.output), runtimeStatus: done.runtimeStatus };
}

describe('fidelity: activities get (input, context) as on Azure', () => {
  it('when an activity is called without an input, then it gets undefined as its input and the InvocationContext second', async () => {
    const { output, runtimeStatus } = await run('callWithoutInput');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toEqual({
      withoutInput: { inputType: 'undefined', input: null, contextFunctionName: 'describeArguments' },
      withInput: { inputType: 'object', input: { city: 'Oslo' }, contextFunctionName: 'describeArguments' },
    });
  });

  it('when the callActivityWithRetry sample runs, then the activity logs through its context and fails with its own error each attempt', async () => {
    attempts.delete('flakyFunction');
    const { id, output, runtimeStatus } = await run('callActivityWithRetry');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toBeNull();
    expect(attempts.get('flakyFunction')).toBe(2);
    const failures = dh.engine.getHistory(id).filter((e) => e.EventType === EventType.TaskFailed);
    expect(failures.map((e) => String(e.Reason))).toEqual([
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
    ]);
  });
});

describe('fidelity: output and input bindings are written, not dropped', () => {
  const storage = () => BlobServiceClient.fromConnectionString(fidelitySettings.StorageConnString);

  it('when the backupSiteContent sample runs, then each file lands in backups/{backupPath} through the blob output binding', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-site-'));
    fs.mkdirSync(path.join(root, 'sub'));
    fs.writeFileSync(path.join(root, 'index.html'), '<h1>hello</h1>');
    fs.writeFileSync(path.join(root, 'sub', 'logo.bin'), Buffer.from([0, 1, 2, 255]));
    try {
      const { output, runtimeStatus } = await run('backupSiteContent', root);
      expect(runtimeStatus).toBe('Completed');
      expect(output).toBe(14 + 4);
      const backups = storage().getContainerClient('backups');
      expect((await backups.getBlobClient('index.html').downloadToBuffer()).toString()).toBe('<h1>hello</h1>');
      expect([...(await backups.getBlobClient('sub/logo.bin').downloadToBuffer())]).toEqual([0, 1, 2, 255]);

      // The blob input binding reads it back; a missing blob is null (404 here).
      expect(await (await fetch(`${dh.host.origin}/api/backups/index.html`)).text()).toBe('<h1>hello</h1>');
      expect((await fetch(`${dh.host.origin}/api/backups/missing.html`)).status).toBe(404);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('when a function sets queue, table and Cosmos outputs, then the messages, the entity and the document are stored', async () => {
    const id = `n-${Date.now()}`;
    const res = await fetch(`${dh.host.origin}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, model: 'churn', text: 'retrain soon' }),
    });
    expect(res.status).toBe(201);

    const account = storageAccount(fidelitySettings.StorageConnString);
    // Storage Queues extension 5.x: base64 text, one message per array element, objects as JSON.
    const messages = (await peekQueueMessages(account, 'fidelity-outbox')).map((m) => Buffer.from(m, 'base64').toString());
    expect(messages).toEqual(expect.arrayContaining([`note ${id}`, JSON.stringify({ id, model: 'churn' })]));

    const entities = await queryTableEntities(account, 'fidelityAudit', `RowKey eq '${id}'`);
    expect(entities).toEqual([expect.objectContaining({ PartitionKey: 'audit', RowKey: id, text: 'retrain soon' })]);

    const cosmos = localCosmosClient({ endpoint: process.env.COSMOS_ENDPOINT ?? '', key: process.env.COSMOS_KEY ?? '' });
    const { resource } = await cosmos.database('fidelity').container('notes').item(id, 'churn').read<{ text: string }>();
    expect(resource?.text).toBe('retrain soon');
    cosmos.dispose();
  });

  it('when a table output repeats an entity key, then the invocation fails (the binding only inserts) and nothing is overwritten', async () => {
    const id = `dup-${Date.now()}`;
    const post = (text: string) =>
      fetch(`${dh.host.origin}/api/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, model: 'churn', text }),
      });
    expect((await post('first')).status).toBe(201);
    expect((await post('second')).status).toBe(500);
    const entities = await queryTableEntities(storageAccount(fidelitySettings.StorageConnString), 'fidelityAudit', `RowKey eq '${id}'`);
    expect(entities.map((e) => e.text)).toEqual(['first']);
  });
});

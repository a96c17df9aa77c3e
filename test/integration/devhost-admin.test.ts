import { request } from 'node:http';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';

import { type RunningHost, startHost } from '../../devhost/host/host';
import { defaultWorker, loadApp } from '../../devhost/worker';
import { eventually } from '../support/product-devhost';

const appDir = path.join(__dirname, '../sample-app');
process.env.SAMPLE_TICK_SCHEDULE = '0 0 0 1 1 *'; // once a year: the only ticks are the start's and the admin's
const worker = defaultWorker();
const lines: string[] = [];
worker.setLogSink((e) => lines.push(e.message));
loadApp(worker, appDir);
/* eslint-disable @typescript-eslint/no-require-imports */
const { drops } = require('../sample-app/functions/blob') as typeof import('../sample-app/functions/blob');
const { ticks } = require('../sample-app/functions/timer') as typeof import('../sample-app/functions/timer');
/* eslint-enable @typescript-eslint/no-require-imports */

const blobs = BlobServiceClient.fromConnectionString(process.env.AzureWebJobsStorage!);

/** Waits until `probe` holds (the admin API answers before the function has run). */
const until = <T>(what: string, probe: () => T | undefined | false) =>
  eventually(what, async () => probe() || undefined, 10_000, 50);

describe('devhost admin API: POST /admin/functions/{name}', () => {
  let host: RunningHost;
  const run = (name: string, body: unknown, headers: Record<string, string> = { 'x-functions-key': 'master-key' }, query = '') =>
    fetch(`${host.origin}/admin/functions/${name}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    // Blobs are polled once at start, then not for 100 s: only the admin call can fire the trigger in this test.
    host = await startHost({
      worker,
      appDir,
      port: 0,
      keys: { functionKey: 'fn-key', masterKey: 'master-key' },
      hostId: `admin-${process.pid}-${Date.now()}`,
      blobPollIntervalMs: 100_000,
      log: (l) => lines.push(l),
    });
    await until('the start-up tick', () => ticks.length >= 1);
  });
  afterAll(() => host.stop());

  it('when the master key is missing or another key is given, then 401; as ?code= it is accepted', async () => {
    const missing = await run('sampleTick', { input: '' }, {});
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/master key/);
    expect((await run('sampleTick', { input: '' }, { 'x-functions-key': 'fn-key' })).status).toBe(401);
    const before = ticks.length;
    expect((await run('sampleTick', { input: '' }, {}, '?code=master-key')).status).toBe(202);
    await until('the tick', () => ticks.length > before);
  });

  it('when a caller without the master key sends a body over the size limit, then 401 before any of it is read (an unfinished body is not waited for), as the host authorises first; with the key, 413', async () => {
    const declared = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${host.origin}/admin/functions/sampleTick`, { method: 'POST', headers: { 'content-length': String(200 * 1024 * 1024), ...headers } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('{"input": "'); // the rest never comes: the answer must not wait for it
      });
    // Within the limit but never finished: without the key the answer does not wait for the body.
    const unfinished = await Promise.race([
      declared({ 'content-length': '1000' }),
      new Promise<{ status: string }>((resolve) => setTimeout(() => resolve({ status: 'no answer within 5 s' }), 5000).unref()),
    ]);
    expect(unfinished.status).toBe(401);
    const anonymous = await declared({});
    expect([anonymous.status, JSON.parse(anonymous.body)]).toEqual([401, { error: 'Admin APIs need the master key (DEVHOST_MASTER_KEY) as x-functions-key or ?code=.' }]);
    expect((await declared({ 'x-functions-key': 'fn-key' })).status).toBe(401);
    expect((await declared({ 'x-functions-key': 'master-key' })).status).toBe(413);
  });

  it('when a timer function is run, then it answers 202 at once and the function gets a timer that is not past due', async () => {
    const before = ticks.length;
    const res = await run('sampleTick', { input: '' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    await until('the admin tick', () => ticks.length > before);
    expect(ticks[ticks.length - 1]!.isPastDue).toBe(false);
    expect(lines).toContainEqual(expect.stringMatching(/^Executed 'sampleTick' \(timerTrigger, \d+ ms\) Succeeded$/));
  });

  it('when a blob function is run with a blob path, then it gets the blob, its metadata and the path binding data', async () => {
    const container = blobs.getContainerClient('sample-drops');
    await container.createIfNotExists();
    await container.getBlockBlobClient('admin/2026/x.csv').upload('a,b\n1,2\n', 8);

    expect((await run('onSampleDrop', { input: 'sample-drops/admin/2026/x.csv' })).status).toBe(202);

    const drop = await until('the blob function', () => drops.find((d) => d.blobTrigger === 'sample-drops/admin/2026/x.csv'));
    expect(drop).toEqual({ model: 'admin', name: '2026/x.csv', blobTrigger: 'sample-drops/admin/2026/x.csv', etag: expect.stringMatching(/.+/), text: 'a,b\n1,2\n' });
  });

  it("when the blob path does not fit the trigger's path, then 400 says what it expects; a missing blob fails in the log", async () => {
    const wrong = await run('onSampleDrop', { input: 'other-container/admin/x.csv' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe("the input of 'onSampleDrop' is a blob path matching 'sample-drops/{model}/{name}' (container/name), not 'other-container/admin/x.csv'.");
    expect((await run('onSampleDrop', { input: 'sample-drops/admin/missing.csv' })).status).toBe(202);
    await until('the failure in the log', () => lines.some((l) => l.startsWith('[admin] onSampleDrop:')));
    expect(lines.find((l) => l.startsWith('[admin] onSampleDrop:'))).toBe("[admin] onSampleDrop: the blob 'sample-drops/admin/missing.csv' does not exist");
  });

  it('when the function is unknown, HTTP-triggered or the body is not {"input": ...}, then 404 or 400 and nothing runs', async () => {
    const unknown = await run('noSuchFunction', { input: '' });
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: "No function named 'noSuchFunction'." }]);
    const http = await run('hello', { input: '' });
    expect(http.status).toBe(400);
    expect(((await http.json()) as { error: string }).error).toMatch(/^'hello' is triggered by httpTrigger: .* runs timer, blob and Service Bus functions/);
    for (const body of ['not json', '[1]', JSON.stringify({ input: { nested: true } })]) {
      const bad = await run('sampleTick', body);
      expect([bad.status, await bad.json()]).toEqual([400, { error: 'The body must be JSON: {"input": "<trigger input>"} (a string, number or boolean).' }]);
    }
    const get = await fetch(`${host.origin}/admin/functions/sampleTick`, { headers: { 'x-functions-key': 'master-key' } });
    expect(get.status).toBe(404);
    // A name that does not percent-decode is refused by the host before any route is matched.
    const undecodable = await run('sample%E0%A4Tick', { input: '' });
    expect([undecodable.status, await undecodable.json()]).toEqual([400, { error: 'The request URL or its Host header is malformed.' }]);
  });

  it('when the name differs in case, then the function is found as the host finds it', async () => {
    const before = ticks.length;
    expect((await run('SAMPLETICK', {})).status).toBe(202);
    await until('the tick', () => ticks.length > before);
  });
});

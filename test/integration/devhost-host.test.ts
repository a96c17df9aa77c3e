import http from 'node:http';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';

import { type RunningHost, startHost } from '../../devhost/host/host';
import { HOSTS_CONTAINER } from '../../devhost/host/host-storage';
import { defaultWorker, loadApp } from '../../devhost/worker';

const appDir = path.join(__dirname, '../sample-app');
process.env.SAMPLE_TICK_SCHEDULE = '*/1 * * * * *';
const worker = defaultWorker();
const lines: string[] = [];
worker.setLogSink((e) => lines.push(e.message));
loadApp(worker, appDir);
/* eslint-disable @typescript-eslint/no-require-imports */
const { drops } = require('../sample-app/functions/blob') as typeof import('../sample-app/functions/blob');
const { ticks } = require('../sample-app/functions/timer') as typeof import('../sample-app/functions/timer');
/* eslint-enable @typescript-eslint/no-require-imports */

const keys = { functionKey: 'fn-key', masterKey: 'master-key' };
const hostId = `test-${process.pid}-${Date.now()}`;
const blobs = BlobServiceClient.fromConnectionString(process.env.AzureWebJobsStorage!);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(): Promise<RunningHost> {
  return startHost({ worker, appDir, port: 0, keys, hostId, blobPollIntervalMs: 100_000, log: (l) => lines.push(l) });
}

describe('devhost host: HTTP triggers', () => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await start();
  });
  afterAll(() => host.stop());

  const call = (pathAndQuery: string, init: RequestInit = {}) => fetch(`${host.origin}${pathAndQuery}`, init);

  it('when a templated route is called with its function key, then the handler sees params, query and body', async () => {
    const res = await call('/api/models/churn/versions/3?dryRun=true', {
      method: 'POST',
      headers: { 'x-functions-key': 'fn-key', 'content-type': 'application/json' },
      body: JSON.stringify({ artifact: 'model.onnx' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      function: 'modelVersions',
      method: 'POST',
      url: `${host.origin}/api/models/churn/versions/3?dryRun=true`,
      params: { model: 'churn', version: '3' },
      query: { dryRun: 'true' },
      contentType: 'application/json',
      body: { artifact: 'model.onnx' },
    });
  });

  it('when the key comes as ?code= or is the master key, then the call is authorised', async () => {
    expect((await call('/api/models/churn/versions?code=fn-key')).status).toBe(200);
    expect((await call('/api/models/churn/versions', { headers: { 'x-functions-key': 'master-key' } })).status).toBe(200);
  });

  it('when a function-level route is called without a key or with a wrong one, then it answers 401', async () => {
    const missing = await call('/api/models/churn/versions');
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/requires a valid function key/);
    expect((await call('/api/models/churn/versions?code=wrong')).status).toBe(401);
  });

  it('when an anonymous route is called without a key, then it runs; the default route is the function name', async () => {
    const hello = await call('/api/hello/ada');
    expect(hello.status).toBe(200);
    expect(((await hello.json()) as { params: unknown }).params).toEqual({ name: 'ada' });
    expect((await call('/api/hello')).status).toBe(200);
    expect((await call('/api/defaultRoute')).status).toBe(200);
  });

  it('when the method is not registered or no route matches, then it answers 404 with a reason', async () => {
    const wrongMethod = await call('/api/hello/ada', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(404);
    expect(((await wrongMethod.json()) as { error: string }).error).toBe('DELETE is not allowed on /api/hello/ada.');
    expect((await call('/api/models/churn/versions/latest?code=fn-key')).status).toBe(404);
    expect((await call('/hello/ada')).status).toBe(404);
  });

  it('when the body is malformed JSON, then the handler gets the raw text and answers 400 itself', async () => {
    const res = await call('/api/models/churn/versions?code=fn-key', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"artifact": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'malformed JSON body' });
  });

  it('when the handler throws, then the host answers 500 and logs the failure', async () => {
    const res = await call('/api/boom', { method: 'POST' });
    expect(res.status).toBe(500);
    expect(lines.some((l) => /Executed 'boom' \(httpTrigger, \d+ ms\) Failed: the handler failed/.test(l))).toBe(true);
  });

  it('when the durable webhook path is called without a Durable extension, then it answers 404', async () => {
    expect((await call('/runtime/webhooks/durabletask/instances/x')).status).toBe(404);
    expect((await call('/admin/host/status')).status).toBe(200);
  });
});

/**
 * One request over a plain socket: headers as given (a Host the fetch API would not send, a
 * Content-Length the body never reaches), then `body`, then the request is left open unless
 * `end`. Resolves with the answer, or rejects after `timeoutMs` (a host waiting for the body).
 */
function rawRequest(
  origin: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer; end?: boolean },
  timeoutMs = 3000,
): Promise<{ status: number; body: unknown; connection: string | undefined }> {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, connection: res.headers.connection });
        req.destroy();
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // The host may answer and close while the rest of the body is unsent: that is the point.
    req.on('error', () => undefined);
    if (options.body) req.write(options.body);
    if (options.end ?? true) req.end();
  });
}

describe('devhost host: request bodies and malformed requests', () => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost({ worker, appDir, port: 0, keys, hostId, blobPollIntervalMs: 100_000, maxRequestBodyBytes: 1024, log: (l) => lines.push(l) });
  });
  afterAll(() => host.stop());
  const runs = () => lines.filter((l) => l.startsWith("Executed 'modelVersions'")).length;

  it('when a body is over the limit, declared or streamed, then the host answers 413 and the function does not run; a body within it arrives whole', async () => {
    const before = runs();
    const declared = await fetch(`${host.origin}/api/models/churn/versions?code=fn-key`, { method: 'POST', body: JSON.stringify({ x: 'y'.repeat(2000) }) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ error: 'The request body is larger than 1024 bytes (DEVHOST_MAX_REQUEST_BODY_BYTES).' });
    const streamed = await rawRequest(host.origin, {
      method: 'POST',
      path: '/api/models/churn/versions?code=fn-key',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(4096, 0x61),
      end: false,
    });
    expect([streamed.status, streamed.connection]).toEqual([413, 'close']);
    expect(runs()).toBe(before);
    const within = await fetch(`${host.origin}/api/models/churn/versions?code=fn-key`, { method: 'POST', body: JSON.stringify({ x: 'y'.repeat(900) }) });
    expect(within.status).toBe(200);
    expect(((await within.json()) as { body: { x: string } }).body.x).toHaveLength(900);
  });

  it('when the route is unknown, the key wrong or the declared length over the limit, then the host answers before reading the body', async () => {
    // 100 MB declared, 1 KB sent: a host that read bodies before routing would wait for the rest.
    const huge = { 'content-length': String(100 * 1024 * 1024), 'content-type': 'application/octet-stream' };
    const cases: Array<[string, number]> = [
      ['/api/nowhere', 404],
      ['/api/models/churn/versions?code=wrong', 401],
      ['/api/models/churn/versions?code=fn-key', 413],
    ];
    for (const [path, status] of cases) {
      const res = await rawRequest(host.origin, { method: 'POST', path, headers: huge, body: Buffer.alloc(1024), end: false });
      expect([res.status, res.connection]).toEqual([status, 'close']);
    }
  });

  it('when the path has a broken percent escape or the Host header is malformed, then the host answers 400', async () => {
    const escape = await fetch(`${host.origin}/api/models/%E0%A4%A/versions?code=fn-key`);
    expect(escape.status).toBe(400);
    expect(await escape.json()).toEqual({ error: 'The request URL or its Host header is malformed.' });
    const badHost = await rawRequest(host.origin, { path: '/api/defaultRoute', headers: { host: 'not a host' } });
    expect(badHost.status).toBe(400);
  });
});

describe('devhost host: timer trigger', () => {
  it('when runOnStartup is set, then it fires at start with isPastDue false and then on schedule', async () => {
    // The hosts of earlier tests left a schedule status whose Next may have passed by now (that
    // start would rightly be past due): this test starts from no recorded schedule.
    await blobs.getContainerClient(HOSTS_CONTAINER).getBlockBlobClient(`timers/${hostId}/sampleTick/status`).deleteIfExists();
    ticks.length = 0;
    const host = await start();
    try {
      await until('three ticks', () => ticks.length >= 3, 6000);
      expect(ticks[0]!.isPastDue).toBe(false);
    } finally {
      await host.stop();
    }
  });

  it('when the persisted schedule status says an occurrence was missed, then the first tick is past due', async () => {
    const status = blobs.getContainerClient(HOSTS_CONTAINER).getBlockBlobClient(`timers/${hostId}/sampleTick/status`);
    const past = JSON.stringify({ Last: '2000-01-01T00:00:00Z', Next: '2000-01-01T00:00:01Z', LastUpdated: '2000-01-01T00:00:00Z' });
    await status.upload(past, past.length);
    ticks.length = 0;
    const host = await start();
    try {
      await until('a tick', () => ticks.length >= 1);
      expect(ticks[0]!.isPastDue).toBe(true);
    } finally {
      await host.stop();
    }
    const saved = JSON.parse((await status.downloadToBuffer()).toString()) as { Next: string };
    expect(Date.parse(saved.Next)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('devhost host: blob trigger', () => {
  const container = blobs.getContainerClient('sample-drops');
  const put = async (name: string, text: string) => {
    await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  };
  const seen = (name: string) => drops.filter((d) => d.blobTrigger === `sample-drops/${name}`);

  beforeAll(async () => {
    await container.createIfNotExists();
  });

  it('when a blob is dropped and the host restarts between polls, then the trigger fires exactly once per version', async () => {
    await put('churn/2026/a.csv', 'x,y\n1,2\n');
    let host = await start();
    await host.blobs.pollOnce();
    expect(seen('churn/2026/a.csv')).toEqual([
      {
        model: 'churn',
        name: '2026/a.csv',
        blobTrigger: 'sample-drops/churn/2026/a.csv',
        etag: expect.stringMatching(/.+/),
        text: 'x,y\n1,2\n',
      },
    ]);
    await host.blobs.pollOnce();
    await host.stop();

    // While the host is down a second blob arrives; the restarted host has no memory but the receipts.
    await put('churn/b.csv', 'x,y\n3,4\n');
    host = await start();
    try {
      await host.blobs.pollOnce();
      await host.blobs.pollOnce();
      expect(seen('churn/2026/a.csv')).toHaveLength(1);
      expect(seen('churn/b.csv')).toHaveLength(1);

      // A new version of a blob (new ETag) is a new trigger.
      await put('churn/2026/a.csv', 'x,y\n5,6\n');
      await host.blobs.pollOnce();
      expect(seen('churn/2026/a.csv').map((d) => d.text)).toEqual(['x,y\n1,2\n', 'x,y\n5,6\n']);
    } finally {
      await host.stop();
    }
  });

  it('when two hosts poll the same blobs at once, then each version still fires once', async () => {
    await put('fraud/c.csv', 'c');
    const [a, b] = [await start(), await start()];
    try {
      await Promise.all([a.blobs.pollOnce(), b.blobs.pollOnce()]);
      await Promise.all([a.blobs.pollOnce(), b.blobs.pollOnce()]);
      expect(seen('fraud/c.csv')).toHaveLength(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

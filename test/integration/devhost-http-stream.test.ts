/**
 * devhost's HTTP streams: an app that calls `app.setup({ enableHttpStream: true })` reports an
 * HttpUri, and devhost then forwards each HTTP invocation's request to it, streaming the bodies
 * both ways, as the Functions host does. The app (test/stream-app) runs in this process, so the
 * tests see where its handlers are while the client is still sending or receiving.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';

import { type RunningHost, startHost } from '../../devhost/host/host';
import { defaultWorker, loadApp } from '../../devhost/worker';

const appDir = path.join(__dirname, '../stream-app');
const worker = defaultWorker();
const lines: string[] = [];
worker.setLogSink((e) => lines.push(e.message));
loadApp(worker, appDir);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { progress } = require('../stream-app/functions/http') as typeof import('../stream-app/functions/http');

const keys = { functionKey: 'fn-key', masterKey: 'master-key' };
const identities = { 'token-ada': { name: 'ada@contoso.example', roles: ['MLOps.Reader'] } };
const hostId = `stream-test-${process.pid}`;

function start(maxRequestBodyBytes?: number): Promise<RunningHost> {
  return startHost({ worker, appDir, port: 0, keys, hostId, identities, maxRequestBodyBytes, log: (l) => lines.push(l) });
}

/** Rejects after `ms` naming what did not happen: a host that buffers would make these waits hang. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once `condition` holds, checked every 20 ms; rejects after `ms` naming what did not happen. */
async function eventually(ms: number, what: string, condition: () => boolean): Promise<void> {
  const poll = async () => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  await within(ms, what, poll());
}

/** The invocation log lines of one function so far. */
const executed = (functionName: string) => lines.filter((l) => l.startsWith(`Executed '${functionName}'`));

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request the test writes step by step (`req.write`, `req.end`): `answer` resolves with the
 * response, `closed` once the connection is gone. Errors from writing to a closed connection are
 * expected here and ignored.
 */
function openRequest(origin: string, method: string, pathAndQuery: string, headers: Record<string, string> = {}) {
  const { port } = new URL(origin);
  const req = http.request({ host: '127.0.0.1', port, method, path: pathAndQuery, headers, agent: false });
  req.on('error', () => undefined);
  const answer = new Promise<RawAnswer>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
  return { req, answer, closed };
}

describe('devhost HTTP streams: routing, identity and answers through the worker proxy', () => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await start();
  });
  afterAll(() => host.stop());

  it('when the app enabled HTTP streams, then the worker reports the URI of its proxy', async () => {
    expect((await worker.capabilities()).HttpUri).toMatch(/^http:\/\/localhost:\d+\/$/);
  });

  it('when a routed call carries a body, a token and a query, then the handler gets them, the injected principal and the route params, and its status, headers and cookie come back', async () => {
    const res = await fetch(`${host.origin}/api/stream/echo/ada?x=1&y=two`, {
      method: 'POST',
      headers: { 'x-functions-key': 'fn-key', authorization: 'Bearer token-ada', 'x-ms-client-principal-name': 'mallory', 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(res.status).toBe(201);
    expect(Object.fromEntries(['etag', 'location', 'x-echo', 'set-cookie', 'x-ms-invocation-id'].map((h) => [h, res.headers.get(h)]))).toEqual({
      etag: '"v1"',
      location: '/api/stream/echo/ada',
      'x-echo': 'yes',
      'set-cookie': 'session=abc; Path=/api; HttpOnly; SameSite=Strict',
      'x-ms-invocation-id': null,
    });
    expect(await res.json()).toEqual({
      function: 'streamEcho',
      invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      method: 'POST',
      url: `${host.origin}/api/stream/echo/ada?x=1&y=two`,
      params: { name: 'ada' },
      query: { x: '1', y: 'two' },
      principalName: 'ada@contoso.example',
      contentType: 'text/plain',
      body: 'hello',
    });
  });

  it('when a client sends its own x-ms-invocation-id and x-forwarded-* headers, then the host routes by its own, and the handler sees the URL it was called at', async () => {
    const forged = { 'x-ms-invocation-id': '00000000-0000-0000-0000-000000000000', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const answers = await Promise.all(['ada', 'bob'].map((name) => fetch(`${host.origin}/api/stream/echo/${name}?code=fn-key`, { headers: forged }).then((r) => r.json() as Promise<{ invocationId: string; url: string; params: unknown }>)));
    expect(answers.map((a) => [a.url, a.params])).toEqual([
      [`${host.origin}/api/stream/echo/ada?code=fn-key`, { name: 'ada' }],
      [`${host.origin}/api/stream/echo/bob?code=fn-key`, { name: 'bob' }],
    ]);
    expect(answers.map((a) => a.invocationId)).not.toContain(forged['x-ms-invocation-id']);
  });

  it('when the key is missing, the method not registered or no route matches, then the host answers as without streams', async () => {
    expect((await fetch(`${host.origin}/api/stream/echo/ada`)).status).toBe(401);
    const wrongMethod = await fetch(`${host.origin}/api/stream/echo/ada?code=fn-key`, { method: 'PATCH' });
    expect([wrongMethod.status, await wrongMethod.json()]).toEqual([404, { error: 'PATCH is not allowed on /api/stream/echo/ada.' }]);
    expect((await fetch(`${host.origin}/api/stream/nowhere`)).status).toBe(404);
  });

  it('when the handler writes its body slowly, then the client gets the first bytes before the handler has written the rest', async () => {
    progress.reset();
    const size = 4 * 1024 * 1024;
    const res = await within(5000, 'the response headers', fetch(`${host.origin}/api/stream/download/${size}`));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await within(5000, 'the first bytes', reader.read());
    expect(first.done).toBe(false);
    expect(Buffer.from(first.value ?? []).toString().startsWith('first\n')).toBe(true);
    expect(progress.downloadWritten).toBe(false);

    progress.downloadRest.resolve();
    let received = first.value?.length ?? 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value.length;
    expect(received).toBe('first\n'.length + size);
    expect(progress.downloadWritten).toBe(true);
  });

  it('when the client sends its body in parts, then the handler reads the first part before the client has sent the rest, and gets every byte', async () => {
    progress.reset();
    const { req, answer } = openRequest(host.origin, 'POST', '/api/stream/upload', { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' });
    const head = Buffer.alloc(1000, 0x62);
    req.write(head);
    expect(await within(5000, 'the handler reading the first part', progress.firstUploadChunk.promise)).toBeGreaterThan(0);
    const rest = Buffer.alloc(3 * 1024 * 1024, 0x63);
    req.end(rest);
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ bytes: head.length + rest.length, sha256: createHash('sha256').update(head).update(rest).digest('hex') });
  });

  it('when the handler refuses an upload after its first part and drops the rest of the body, then the client still gets its answer', async () => {
    const { req, answer } = openRequest(host.origin, 'POST', '/api/stream/refuse', { 'transfer-encoding': 'chunked' });
    req.write(Buffer.alloc(64 * 1024));
    for (let i = 0; i < 16; i++) req.write(Buffer.alloc(64 * 1024));
    const refused = await within(5000, 'the refusal', answer);
    expect([refused.status, JSON.parse(refused.body)]).toEqual([413, { refused: true }]);
  });

  it('when a DELETE sends its body chunked, then the handler gets the body, framed as the client framed it', async () => {
    const { req, answer } = openRequest(host.origin, 'DELETE', '/api/stream/echo/ada?code=fn-key', { 'transfer-encoding': 'chunked' });
    req.end('hello');
    const { status, body } = await within(5000, 'the answer', answer);
    expect([status, JSON.parse(body).body]).toEqual([201, 'hello']);
  });

  it('when a GET carries a chunked body that reads as another request, then the worker never gets that request, and the next calls are answered by their own invocations', async () => {
    const smuggled = 'GET /api/stream/echo/mallory HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const { req, answer } = openRequest(host.origin, 'GET', '/api/stream/echo/ada?code=fn-key', { 'transfer-encoding': 'chunked' });
    req.end(smuggled);
    expect((await within(5000, 'the answer', answer)).status).toBe(201);
    for (const name of ['bob', 'carol', 'dave']) {
      const res = await within(5000, `the answer to ${name}`, fetch(`${host.origin}/api/stream/echo/${name}?code=fn-key`));
      expect([res.status, ((await res.json()) as { params: unknown }).params]).toEqual([201, { name }]);
    }
    expect(lines.filter((l) => l.includes('Http proxy request missing header'))).toEqual([]);
  });

  it('when the headers fit the host but not the worker once the host adds its own, then the host answers 431 itself', async () => {
    const before = executed('streamEcho').length;
    const res = await within(5000, 'the answer', fetch(`${host.origin}/api/stream/echo/ada?code=fn-key`, { headers: { 'x-big': 'b'.repeat(16_200) } }));
    expect([res.status, await res.json()]).toEqual([431, { error: expect.stringMatching(/^The request's headers are too large to forward to the worker/) }]);
    expect(executed('streamEcho').length).toBe(before);
    expect((await fetch(`${host.origin}/api/stream/echo/ada?code=fn-key`)).status).toBe(201);
  });

  it('when the handler throws, then the host answers 500 without details and logs the failure', async () => {
    const res = await fetch(`${host.origin}/api/stream/boom`, { method: 'POST', body: 'x' });
    expect([res.status, await res.text()]).toEqual([500, '']);
    expect(lines.some((l) => /Executed 'streamBoom' \(httpTrigger, \d+ ms\) Failed: the handler failed/.test(l))).toBe(true);
  });

  it('when the handler returns no response, then the host answers 500 once the invocation has ended', async () => {
    const res = await within(10_000, 'the answer', fetch(`${host.origin}/api/stream/nothing`));
    expect([res.status, await res.text()]).toEqual([500, '']);
  });

  it('when the body breaks off after the answer started, then the connection ends instead of the body looking complete', async () => {
    const res = await fetch(`${host.origin}/api/stream/breaks`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });
});

describe('devhost HTTP streams: the request body limit', () => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await start(1024);
  });
  afterAll(() => host.stop());

  it('when Content-Length says more than the limit, then 413 at once and the connection closes', async () => {
    const { req, answer } = openRequest(host.origin, 'POST', '/api/stream/upload', { 'content-length': String(100 * 1024 * 1024) });
    req.write(Buffer.alloc(512));
    const { status, headers, body } = await within(3000, 'the 413', answer);
    expect([status, headers.connection, JSON.parse(body)]).toEqual([413, 'close', { error: 'The request body is larger than 1024 bytes (DEVHOST_MAX_REQUEST_BODY_BYTES).' }]);
  });

  it('when a chunked body passes the limit, then the host stops forwarding it and answers 413; a body within it arrives whole', async () => {
    const over = openRequest(host.origin, 'POST', '/api/stream/upload', { 'transfer-encoding': 'chunked' });
    over.req.write(Buffer.alloc(4096, 0x61));
    const { status, headers } = await within(3000, 'the 413', over.answer);
    expect([status, headers.connection]).toEqual([413, 'close']);

    const within1024 = await fetch(`${host.origin}/api/stream/upload`, { method: 'POST', body: Buffer.alloc(1000, 0x61) });
    expect(await within1024.json()).toEqual({ bytes: 1000, sha256: createHash('sha256').update(Buffer.alloc(1000, 0x61)).digest('hex') });
  });

  it('when a client waits for 100 Continue, then an upload the host refuses gets its 413 without it, and one it takes gets it before the answer', async () => {
    const refused = openRequest(host.origin, 'POST', '/api/stream/upload', { expect: '100-continue', 'content-length': '5000' });
    let toldToContinue = false;
    refused.req.on('continue', () => (toldToContinue = true));
    refused.req.flushHeaders();
    expect([(await within(3000, 'the 413', refused.answer)).status, toldToContinue]).toEqual([413, false]);

    const body = Buffer.alloc(10, 0x61);
    const taken = openRequest(host.origin, 'POST', '/api/stream/upload', { expect: '100-continue', 'content-length': String(body.length) });
    taken.req.on('continue', () => taken.req.end(body));
    taken.req.flushHeaders();
    const { status, body: answer } = await within(3000, 'the answer', taken.answer);
    expect([status, JSON.parse(answer)]).toEqual([200, { bytes: 10, sha256: createHash('sha256').update(body).digest('hex') }]);
  });

  it('when the first part of a chunked body already passes the limit, then the invocation still gets its request, sees the body break off and ends', async () => {
    const before = executed('streamUpload').length;
    const over = openRequest(host.origin, 'POST', '/api/stream/upload', { 'transfer-encoding': 'chunked' });
    over.req.write(Buffer.alloc(4096, 0x61));
    expect((await within(3000, 'the 413', over.answer)).status).toBe(413);
    await eventually(3000, 'the invocation to end', () => executed('streamUpload').length > before);
    expect(executed('streamUpload').slice(before)).toEqual([expect.stringMatching(/Failed: Error: aborted$/)]);
  });

  it('when the function answered before the client sent its body, then the client gets the answer, and a body passing the limit afterwards ends the connection', async () => {
    const { req, answer, closed } = openRequest(host.origin, 'POST', '/api/stream/early', { 'transfer-encoding': 'chunked' });
    req.write(Buffer.alloc(100));
    const early = await within(3000, 'the early answer', answer);
    expect([early.status, early.body]).toEqual([202, 'early']);
    req.write(Buffer.alloc(4096));
    await within(3000, 'the connection to end', closed);
  });
});

import './durable-app/samples';

import http from 'node:http';
import path from 'node:path';

import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { createDurableHttpApi, type DurableClientPayload, type DurableEngine, EventType } from '../../devhost/durable';
import { freePort } from '../../devhost/services/ports';
import { removeTempDirs, startEngine, tempDir } from './durable-app/fixture';

let engine: DurableEngine;
let server: http.Server;
let origin: string;
let client: df.DurableClient;
let clientPayload: (origin: string) => DurableClientPayload;
const KEY = 'the-master-key';
const previousHostname = process.env.WEBSITE_HOSTNAME;

beforeAll(async () => {
  engine = startEngine(path.join(tempDir(), 'hub.sqlite'));
  // A small page size so listing exercises the continuation token, a small body limit to reach it.
  const api = createDurableHttpApi(engine, { defaultPageSize: 2, systemKey: KEY, maxRequestBodyBytes: 4096 });
  clientPayload = api.clientPayload.bind(api);
  server = http.createServer((req, res) => {
    if (api.handles(req.url)) void api.handle(req, res);
    else res.writeHead(404).end();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${port}`;
  // With WEBSITE_HOSTNAME set the client keeps the URLs of the binding (no localhost:7071 rewrite).
  process.env.WEBSITE_HOSTNAME = `127.0.0.1:${port}`;
  const clientInput = df.input.durableClient();
  const context = new InvocationContext({ functionName: 'starter', options: { extraInputs: [clientInput] } });
  context.extraInputs.set(clientInput, api.clientPayload(origin));
  client = df.getClient(context);
});

afterAll(async () => {
  if (previousHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
  else process.env.WEBSITE_HOSTNAME = previousHostname;
  await new Promise((resolve) => server.close(resolve));
  await engine.stop();
  removeTempDirs();
});

/** A management API URL with the key, as callers on Azure present it. */
const api = (p: string, key = KEY) => `${origin}/runtime/webhooks/durabletask/${p}${p.includes('?') ? '&' : '?'}code=${key}`;
const unkeyed = (p: string) => `${origin}/runtime/webhooks/durabletask/${p}`;

async function pollUntilDone(statusUri: string): Promise<{ statuses: number[]; body: Record<string, unknown> }> {
  const statuses: number[] = [];
  for (let i = 0; i < 200; i++) {
    const res = await fetch(statusUri);
    statuses.push(res.status);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 202) return { statuses, body };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('status never left 202');
}

describe('durable HTTP API with the real DurableClient', () => {
  it('when an orchestration is started and its status URL polled, then it answers 202 while running and 200 with the output', async () => {
    const id = await client.startNew('sampleApproval', { input: { timeoutMs: 60_000 } });
    const links = client.createHttpManagementPayload(id);
    expect(links.statusQueryGetUri.startsWith(`${origin}/runtime/webhooks/durabletask/instances/${id}?`)).toBe(true);
    const running = await fetch(links.statusQueryGetUri);
    expect(running.status).toBe(202);
    expect(running.headers.get('location')).toBeTruthy();
    await client.raiseEvent(id, 'approval', { by: 'grace' });
    const { statuses, body } = await pollUntilDone(links.statusQueryGetUri);
    expect(statuses.at(-1)).toBe(200);
    expect(body).toMatchObject({ name: 'sampleApproval', runtimeStatus: 'Completed', output: { outcome: 'approved', by: 'grace' } });

    const status = await client.getStatus(id, { showHistory: true, showHistoryOutput: true, showInput: true });
    expect(status.runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Completed);
    expect(status.input).toEqual({ timeoutMs: 60_000 });
    expect(status.output).toEqual({ outcome: 'approved', by: 'grace' });
    // The extension sends `historyEvents`; the JS client's `history` stays undefined.
    expect(status.history).toBeUndefined();
    const raw = (await (await fetch(`${links.statusQueryGetUri}&showHistory=true&showHistoryOutput=true`)).json()) as {
      historyEvents: Array<Record<string, unknown>>;
    };
    expect(raw.historyEvents.map((e) => e.EventType)).toEqual(['ExecutionStarted', 'TimerCreated', 'EventRaised', 'ExecutionCompleted']);
    expect(raw.historyEvents[2]).toMatchObject({ Name: 'approval', Input: JSON.stringify({ by: 'grace' }) });
  });

  it('when a start carries its own instance id, then the client gets that id back and a duplicate start of a running instance is a 500 (OrchestrationAlreadyExistsException)', async () => {
    const id = await client.startNew('sampleForever', { instanceId: 'fixed-id-1' });
    expect(id).toBe('fixed-id-1');
    const again = await fetch(api('orchestrators/sampleForever/fixed-id-1'), { method: 'POST' });
    expect(again.status).toBe(500);
    await client.terminate(id, 'cleanup');
  });

  it('when instances are listed with filters, then the client follows the continuation token across pages', async () => {
    const from = new Date(Date.now() - 1000);
    const ids = [await client.startNew('sampleForever'), await client.startNew('sampleForever'), await client.startNew('sampleForever')];
    await Promise.all(ids.map((id) => engine.waitFor(id, (i) => i.runtimeStatus === 'Running')));
    const running = await client.getStatusBy({ createdTimeFrom: from, runtimeStatus: [df.OrchestrationRuntimeStatus.Running] });
    expect(running.map((s) => s.instanceId)).toEqual(expect.arrayContaining(ids));
    expect(running.every((s) => s.runtimeStatus === df.OrchestrationRuntimeStatus.Running)).toBe(true);

    const firstPage = await fetch(api(`instances/?runtimeStatus=Running&top=1&createdTimeFrom=${from.toISOString()}`));
    expect((await firstPage.json()) as unknown[]).toHaveLength(1);
    const token = firstPage.headers.get('x-ms-continuation-token');
    expect(token).toBeTruthy();
    const secondPage = await fetch(api(`instances/?runtimeStatus=Running&top=1&createdTimeFrom=${from.toISOString()}`), {
      headers: { 'x-ms-continuation-token': token! },
    });
    expect((await secondPage.json()) as unknown[]).toHaveLength(1);

    const none = await client.getStatusBy({ createdTimeFrom: new Date(Date.now() + 60_000) });
    expect(none).toEqual([]);
    for (const id of ids) await client.terminate(id, 'cleanup');
  });

  it('when an instance is suspended, resumed, terminated and purged through the client, then each step shows in its status', async () => {
    const id = await client.startNew('sampleForever');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    await client.suspend(id, 'pause');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Suspended');
    expect((await client.getStatus(id)).runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Suspended);
    await client.resume(id, 'continue');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    expect((await client.getStatus(id)).customStatus).toBe('waiting');
    await client.terminate(id, 'stop it');
    await engine.waitFor(id);
    const terminated = await client.getStatus(id);
    expect(terminated.runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Terminated);
    expect(terminated.output).toBe('stop it');
    expect((await fetch(api(`instances/${id}/terminate?reason=again`), { method: 'POST' })).status).toBe(410);
    expect(await client.purgeInstanceHistory(id)).toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus(id)).rejects.toThrow(/404/);
  });

  it('when a running instance is purged by id, then it is deleted (200) as the Azure Storage task hub does, and its id is free again', async () => {
    const id = `purge-running-${Date.now()}`;
    await client.startNew('sampleEcho', { instanceId: id, input: 'x' });
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    const res = await fetch(api(`instances/${id}`), { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ instancesDeleted: 1 });
    expect(engine.getInstance(id)).toBeUndefined();
    expect((await fetch(api(`instances/${id}`))).status).toBe(404);
    await expect(client.raiseEvent(id, 'ping', 1)).rejects.toThrow(`No instance with ID '${id}' found.`);
    await client.startNew('sampleEcho', { instanceId: id, input: 'again' });
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    await client.raiseEvent(id, 'ping', 2);
    expect((await engine.waitFor(id)).output).toBe(JSON.stringify({ input: 'again', received: 2 }));
  });

  it('when finished instances are purged by filter, then only terminal ones in the window go', async () => {
    const from = new Date();
    const done = await client.startNew('sampleChain');
    await engine.waitFor(done);
    const live = await client.startNew('sampleForever');
    await engine.waitFor(live, (i) => i.runtimeStatus === 'Running');
    const result = await client.purgeInstanceHistoryBy({ createdTimeFrom: from });
    expect(result.instancesDeleted).toBe(1);
    expect(engine.getInstance(done)).toBeUndefined();
    expect(engine.getInstance(live)?.runtimeStatus).toBe('Running');
    const missingFrom = await fetch(api('instances/'), { method: 'DELETE' });
    expect(missingFrom.status).toBe(400);
    await client.terminate(live, 'cleanup');
  });

  it('when a start asks to wait for completion, then the API answers 200 with the output once it is done', async () => {
    const res = await fetch(api('orchestrators/sampleChain?timeout=10&pollingInterval=1'), { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('when an instance id carries colons like the lifecycle ids, then every client call reaches it', async () => {
    const id = await client.startNew('sampleEcho', { instanceId: 'lifecycle:iris model:3', input: { v: 3 } });
    expect(id).toBe('lifecycle:iris model:3');
    await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
    expect((await client.getStatus(id)).runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Running);
    await client.raiseEvent(id, 'ping', 'pong');
    await engine.waitFor(id);
    expect((await client.getStatus(id)).output).toEqual({ input: { v: 3 }, received: 'pong' });
    const links = client.createHttpManagementPayload(id);
    expect((await fetch(links.statusQueryGetUri)).status).toBe(200);
  });

  describe('bad input', () => {
    it('when an unknown orchestration is started, then the API answers 400 naming the function', async () => {
      const res = await fetch(api('orchestrators/noSuchOrchestration'), { method: 'POST' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        Message: 'One or more of the arguments submitted is incorrect',
        ExceptionMessage: "The function 'noSuchOrchestration' doesn't exist, is disabled, or is not an orchestrator function.",
      });
      await expect(client.startNew('noSuchOrchestration')).rejects.toThrow(/400/);
    });

    it('when a start body is not JSON, then the API answers 400 Invalid JSON content and creates nothing', async () => {
      const before = engine.queryInstances({}, 0, 10_000).length;
      const res = await fetch(api('orchestrators/sampleChain'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"count": 1,',
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { Message: string; ExceptionMessage: string };
      expect(body.Message).toBe('Invalid JSON content');
      expect(body.ExceptionMessage).toMatch(/JSON/);
      expect(engine.queryInstances({}, 0, 10_000)).toHaveLength(before);
    });

    it('when an event is raised on an unknown instance, then the API answers 404 and the client rejects', async () => {
      const res = await fetch(api('instances/nobody/raiseEvent/approval'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
      await expect(client.raiseEvent('nobody', 'approval', {})).rejects.toThrow("No instance with ID 'nobody' found.");
    });

    it('when an event body is malformed or not JSON, then the API answers 400 and the instance keeps waiting', async () => {
      const id = await client.startNew('sampleEcho', { input: 1 });
      await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
      const malformed = await fetch(api(`instances/${id}/raiseEvent/ping`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{oops',
      });
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { Message: string }).Message).toBe('Invalid JSON content');
      const text = await fetch(api(`instances/${id}/raiseEvent/ping`), { method: 'POST', body: 'hello' });
      expect(text.status).toBe(400);
      expect(((await text.json()) as { Message: string }).Message).toBe('Only application/json request content is supported');
      expect(engine.getInstance(id)?.runtimeStatus).toBe('Running');
      await client.raiseEvent(id, 'ping', 'ok');
      expect((await engine.waitFor(id)).output).toBe(JSON.stringify({ input: 1, received: 'ok' }));
      const late = await fetch(api(`instances/${id}/raiseEvent/ping`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '1',
      });
      expect(late.status).toBe(410);
    });

    it('when an event is raised without data (the client sends an empty JSON body), then 400 Invalid JSON content and the client rejects, as JToken.Load refuses it on Azure', async () => {
      const id = await client.startNew('sampleEcho', { input: 2 });
      await engine.waitFor(id, (i) => i.runtimeStatus === 'Running');
      const empty = await fetch(api(`instances/${id}/raiseEvent/ping`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
      });
      expect(empty.status).toBe(400);
      expect(((await empty.json()) as { Message: string }).Message).toBe('Invalid JSON content');
      await expect(client.raiseEvent(id, 'ping', undefined)).rejects.toThrow();
      expect(engine.getInstance(id)?.runtimeStatus).toBe('Running');
      expect(engine.getHistory(id).filter((e) => e.EventType === EventType.EventRaised)).toHaveLength(0);
      // null is JSON: it is delivered.
      await client.raiseEvent(id, 'ping', null);
      expect((await engine.waitFor(id)).output).toBe(JSON.stringify({ input: 2, received: null }));
    });

    it('when the status of an unknown instance is asked, then the API answers 404', async () => {
      expect((await fetch(api('instances/nobody'))).status).toBe(404);
      expect((await fetch(api('instances/nobody/terminate'), { method: 'POST' })).status).toBe(404);
      expect((await fetch(api('nothing/here'))).status).toBe(404);
    });

    it('when an operation devhost does not implement is asked, then the API answers 501 with a clear message', async () => {
      const id = await client.startNew('sampleChain');
      await engine.waitFor(id);
      const rewind = await fetch(api(`instances/${id}/rewind?reason=x`), { method: 'POST' });
      expect(rewind.status).toBe(501);
      expect(await rewind.text()).toMatch(/^devhost does not support the rewind operation/);
      expect((await fetch(api('entities/counter/one'))).status).toBe(501);
    });
  });
});

describe('durable HTTP API: the key, the body limit and malformed URLs', () => {
  it('when a request presents no key or a wrong one, then it answers 401 and purges nothing; the key as code or x-functions-key is accepted', async () => {
    const id = await client.startNew('sampleChain');
    await engine.waitFor(id);
    for (const res of [await fetch(unkeyed('instances')), await fetch(api('instances', 'wrong')), await fetch(unkeyed(`instances/${id}`), { headers: { 'x-functions-key': 'wrong' } })]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ Message: expect.stringMatching(/needs the master key/) });
    }
    const purge = await fetch(unkeyed(`instances/?createdTimeFrom=2000-01-01T00:00:00Z`), { method: 'DELETE' });
    expect(purge.status).toBe(401);
    expect((await fetch(unkeyed(`instances/${id}`), { method: 'DELETE' })).status).toBe(401);
    expect(engine.getInstance(id)?.runtimeStatus).toBe('Completed');
    expect((await fetch(unkeyed(`instances/${id}`), { headers: { 'x-functions-key': KEY } })).status).toBe(200);
    expect((await fetch(api(`instances/${id}`))).status).toBe(200);
  });

  it("when a function's durable client binding is built, then every URL carries the key and the client goes through them", () => {
    const payload = clientPayload(origin);
    const urls = [...Object.values(payload.creationUrls), ...Object.entries(payload.managementUrls).filter(([k]) => k !== 'id').map(([, v]) => v)];
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) expect(new URL(url.replace(/[{}[\]]/g, '')).searchParams.get('code')).toBe(KEY);
    expect(payload.requiredQueryStringParameters).toBe(`code=${KEY}`);
    // The JS client resolves paths against rpcBaseUrl, which drops a query string: left empty,
    // the client uses the keyed URLs above (the other tests drive it that way).
    expect(payload.rpcBaseUrl).toBe('');
  });

  it('when a request body is larger than the limit, declared or streamed, then it answers 413 and starts nothing', async () => {
    const before = engine.queryInstances({}, 0, 10_000).length;
    const big = JSON.stringify({ filler: 'x'.repeat(5000) });
    const declared = await fetch(api('orchestrators/sampleChain'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ Message: expect.stringMatching(/larger than 4096 bytes/) });
    const streamed = await fetch(api('orchestrators/sampleChain'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i += 1) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
          controller.close();
        },
      }),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(engine.queryInstances({}, 0, 10_000)).toHaveLength(before);
  });

  it('when the path has a broken percent escape, then it answers 400', async () => {
    const res = await fetch(`${origin}/runtime/webhooks/durabletask/instances/%E0%A4%A?code=${KEY}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ Message: 'The request URL or Host header is malformed.' });
  });
});

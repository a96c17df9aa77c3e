import path from 'node:path';

import { app } from '@azure/functions';

import { defaultWorker, entryPoints, loadApp, WORKER_CAPABILITIES } from '../../../devhost/worker';
import { expandBraces, globToRegExp } from '../../../devhost/worker/glob';

const appDir = path.join(__dirname, '../../sample-app');
const worker = defaultWorker();
const logs: string[] = [];
worker.setLogSink((e) => logs.push(`${e.category}:${e.message}`));
loadApp(worker, appDir);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hookLog } = require('../../sample-app/functions/hooks') as { hookLog: string[] };

function httpTrigger(method: string, url: string, body?: string, params: Record<string, string> = {}) {
  return {
    http: {
      method,
      url,
      headers: { 'content-type': 'application/json' },
      query: Object.fromEntries(new URL(url).searchParams),
      params,
      body: body === undefined ? undefined : { bytes: Buffer.from(body) },
    },
  };
}

describe('devhost worker role', () => {
  it('when the package.json main glob has brace alternatives, then each alternative is matched', () => {
    expect(expandBraces('dist/{functions,orchestrations}/**/*.js')).toEqual([
      'dist/functions/**/*.js',
      'dist/orchestrations/**/*.js',
    ]);
    const re = globToRegExp('**/*.js');
    expect(re.test('a.js')).toBe(true);
    expect(re.test('x/y/a.js')).toBe(true);
    expect(re.test('x/a.ts')).toBe(false);
    expect(entryPoints(appDir).map((f) => path.basename(f))).toEqual(['blob.ts', 'durable.ts', 'hooks.ts', 'http.ts', 'timer.ts']);
  });

  it('when the app is loaded, then every app.* registration is captured with its bindings', () => {
    const names = worker.listFunctions().map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['modelVersions', 'hello', 'defaultRoute', 'boom']));
    const fn = worker.getFunction('modelVersions');
    expect(fn?.trigger).toMatchObject({
      type: 'httpTrigger',
      route: 'models/{model}/versions/{version:int?}',
      authLevel: 'function',
      methods: ['GET', 'POST'],
    });
    expect(fn?.outputs.map((o) => o.name)).toEqual(['$return']);
    expect(worker.functionsByTrigger('HTTPTRIGGER').length).toBeGreaterThanOrEqual(4);
  });

  it('when an HTTP function is invoked, then it gets a real HttpRequest and its response is decoded', async () => {
    await worker.start(appDir);
    const result = await worker.invoke('modelVersions', {
      triggerData: httpTrigger('POST', 'http://127.0.0.1:7071/api/models/m1/versions?x=1', '{"a":1}', {
        model: 'm1',
      }),
    });
    expect(result.http?.status).toBe(200);
    expect(JSON.parse(result.http!.body.toString())).toEqual({
      function: 'modelVersions',
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/models/m1/versions?x=1',
      params: { model: 'm1' },
      query: { x: '1' },
      contentType: 'application/json',
      body: { a: 1 },
    });
    expect(hookLog).toEqual(['appStart', 'pre:modelVersions', 'post:modelVersions:ok']);
    expect(logs.some((l) => /^invocation:Executed 'modelVersions' \(httpTrigger, \d+ ms\) Succeeded$/.test(l))).toBe(
      true,
    );
  });

  it('when a handler throws, then invoke rejects with its error after the postInvocation hooks ran', async () => {
    await expect(
      worker.invoke('boom', { triggerData: httpTrigger('POST', 'http://127.0.0.1/api/boom', '') }),
    ).rejects.toThrow('the handler failed');
    expect(hookLog.at(-1)).toBe('post:boom:error');
    expect(logs.at(-1)).toMatch(/Executed 'boom' .* Failed: the handler failed/);
  });

  it('when an unknown function is invoked, then invoke rejects with a clear message', async () => {
    await expect(worker.invoke('nope')).rejects.toThrow('Function "nope" is not registered.');
  });

  it('when an invocation is given a trace context, then its context carries it; otherwise a fresh one each time', async () => {
    const seen: (string | null | undefined)[] = [];
    const hook = worker.registerHook('preInvocation', (ctx) => {
      seen.push((ctx as { invocationContext: { traceContext?: { traceParent?: string | null } } }).invocationContext.traceContext?.traceParent);
    });
    const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const request = () => ({ triggerData: httpTrigger('GET', 'http://127.0.0.1:7071/api/models/m1/versions', undefined, { model: 'm1' }) });
    try {
      await worker.invoke('modelVersions', { ...request(), traceParent });
      await worker.invoke('modelVersions', request());
      await worker.invoke('modelVersions', request());
    } finally {
      hook.dispose();
    }
    expect(seen[0]).toBe(traceParent);
    expect(seen[1]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(new Set(seen).size).toBe(3);
  });

  it('when the app did not enable HTTP streams, then the capabilities are the worker\'s own, without an HttpUri, and app.setup is locked once they are reported', async () => {
    const capabilities = await worker.capabilities();
    expect(capabilities).toEqual(WORKER_CAPABILITIES);
    expect(capabilities.HttpUri).toBeUndefined();
    expect(await worker.capabilities()).toBe(capabilities);
    expect(() => app.setup({ enableHttpStream: true })).toThrow("Setup options can't be changed after app startup has finished.");
  });

  it('when the worker terminates, then the appTerminate hooks run', async () => {
    await worker.terminate();
    expect(hookLog.at(-1)).toBe('appTerminate');
  });
});

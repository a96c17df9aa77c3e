import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';

/** A promise with its resolve at hand: lets a test step a handler and see where it is. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What the tests see of the handlers while they run (the app is loaded in the test's process). */
export const progress = {
  /** Resolves with the size of the first chunk the upload handler read. */
  firstUploadChunk: signal<number>(),
  /** Released by the test once it has the download's first bytes: only then does the handler write the rest. */
  downloadRest: signal(),
  downloadWritten: false,
  reset(): void {
    this.firstUploadChunk = signal<number>();
    this.downloadRest = signal();
    this.downloadWritten = false;
  },
};

/** Everything the handler was given, and an answer whose headers and cookie must reach the client as set. */
app.http('streamEcho', {
  route: 'stream/echo/{name}',
  methods: ['GET', 'POST', 'DELETE'],
  authLevel: 'function',
  handler: async (request: HttpRequest, context: InvocationContext) => ({
    status: 201,
    headers: { etag: '"v1"', location: `/api/stream/echo/${request.params.name}`, 'x-echo': 'yes' },
    cookies: [{ name: 'session', value: 'abc', path: '/api', httpOnly: true, sameSite: 'Strict' }],
    jsonBody: {
      function: context.functionName,
      invocationId: context.invocationId,
      method: request.method,
      url: request.url,
      params: request.params,
      query: Object.fromEntries(request.query.entries()),
      principalName: request.headers.get('x-ms-client-principal-name'),
      contentType: request.headers.get('content-type'),
      body: request.method === 'GET' ? null : await request.text(),
    },
  }),
});

/** Reads the body as it streams, says when its first bytes arrive, and answers its size and digest. */
app.post('streamUpload', {
  route: 'stream/upload',
  authLevel: 'anonymous',
  handler: async (request: HttpRequest) => {
    const reader = request.body!.getReader();
    const hash = createHash('sha256');
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (bytes === 0) progress.firstUploadChunk.resolve(value.length);
      bytes += value.length;
      hash.update(value);
    }
    return { jsonBody: { bytes, sha256: hash.digest('hex') } };
  },
});

/** Answers at once without reading the body (as a route that refuses a caller before its upload). */
app.post('streamEarly', { route: 'stream/early', authLevel: 'anonymous', handler: () => Promise.resolve({ status: 202, body: 'early' }) });

/** A body of `size` bytes of 'a' after a first line; the rest is written only once the test has seen the first. */
app.get('streamDownload', {
  route: 'stream/download/{size:int}',
  authLevel: 'anonymous',
  handler: (request: HttpRequest) => {
    const size = Number(request.params.size);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('first\n'));
        await progress.downloadRest.promise;
        for (let sent = 0; sent < size; sent += 65536) controller.enqueue(new Uint8Array(Math.min(65536, size - sent)).fill(0x61));
        progress.downloadWritten = true;
        controller.close();
      },
    });
    return Promise.resolve({ headers: { 'content-type': 'application/octet-stream' }, body });
  },
});

/** A body that breaks off after its first bytes (a blob read failing mid-way). */
app.get('streamBreaks', {
  route: 'stream/breaks',
  authLevel: 'anonymous',
  handler: () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('partial'));
        setTimeout(() => controller.error(new Error('the source failed')), 50);
      },
    });
    return Promise.resolve({ body });
  },
});

/** Returns no response at all: with streams the worker then sends nothing through its proxy. */
app.get('streamNothing', { route: 'stream/nothing', authLevel: 'anonymous', handler: () => Promise.resolve(undefined as unknown as HttpResponseInit) });

app.post('streamBoom', {
  route: 'stream/boom',
  authLevel: 'anonymous',
  handler: () => {
    throw new Error('the handler failed');
  },
});

/** Reads the first part of the body, then drops the rest and refuses the upload (as a registration whose artifact is too large does). */
app.post('streamRefuse', {
  route: 'stream/refuse',
  authLevel: 'anonymous',
  handler: async (request: HttpRequest) => {
    const body = Readable.fromWeb(request.body!);
    await new Promise((resolve) => body.once('data', resolve));
    body.destroy();
    return { status: 413, jsonBody: { refused: true } };
  },
});

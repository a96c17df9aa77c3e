import { randomUUID } from 'node:crypto';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';

import { BodyTooLargeError, closeAfter } from '../http-body';
import type { FunctionsWorker, RpcTypedData } from '../worker';

/** The header that pairs a forwarded request with its invocation (the host's HTTP-proxy correlation header). */
export const INVOCATION_ID_HEADER = 'x-ms-invocation-id';

/**
 * Headers about one connection rather than the message (RFC 9110 section 7.6.1), which a proxy
 * does not pass on, and `expect`, which this host has already answered.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/**
 * How long the host waits for the worker's proxied response once the invocation has ended: the
 * worker writes it before it reports the end, so it only has to cross the loopback socket; a
 * handler that returned no response sends none at all.
 */
const RESPONSE_AFTER_INVOCATION_MS = 2000;

/** One routed, authorised HTTP invocation. */
export interface ProxiedInvocation {
  functionName: string;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  /** The headers the function sees: the client's, with the principal devhost injects for its token. */
  headers: Record<string, string>;
  params: Record<string, string>;
  query: Record<string, string>;
}

export interface WorkerHttpProxy {
  /**
   * Runs the invocation with its bodies streamed: resolves when the client's response is over
   * (sent, or its connection ended). Never rejects; failures are answered as the host answers them.
   */
  invoke(call: ProxiedInvocation): Promise<void>;
  /** Closes the kept-alive connections to the worker's proxy. */
  close(): void;
}

/**
 * Headers Node adds to a forwarded request itself (`connection: keep-alive` for the agent, and
 * `transfer-encoding: chunked` for a POST without a length), counted with the rest of its head.
 */
const HEADERS_NODE_ADDS_BYTES = 'connection'.length + 'keep-alive'.length + 'transfer-encoding'.length + 'chunked'.length;

/**
 * The bytes of a request head that Node's HTTP parser counts against `http.maxHeaderSize` (the
 * request target and each header's name and value): the worker's proxy server, which the library
 * starts with Node's defaults, answers 431 from that size on, without the request ever reaching the
 * invocation that waits for it.
 */
function headBytes(target: string, headers: OutgoingHttpHeaders): number {
  let bytes = Buffer.byteLength(target) + HEADERS_NODE_ADDS_BYTES;
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) bytes += Buffer.byteLength(name) + Buffer.byteLength(String(one));
  }
  return bytes;
}

/**
 * How the forwarded body is delimited: as the client's was. Not left to the client's headers, whose
 * `connection` may name `content-length`, nor to Node, which sends the body of a GET, HEAD, DELETE or
 * OPTIONS request that has no length unframed: the worker's proxy would read it as the next request
 * on that connection, and a later invocation's answer would wait behind it.
 */
function bodyFraming(req: IncomingMessage): OutgoingHttpHeaders {
  const { 'transfer-encoding': transferEncoding, 'content-length': contentLength } = req.headers;
  if (transferEncoding !== undefined) return { 'transfer-encoding': transferEncoding };
  return contentLength === undefined ? {} : { 'content-length': contentLength };
}

/**
 * Ends a forwarded request where it is, so the worker sees its body break off. Its connection is
 * ended, not destroyed: what was written, the head at least, still reaches the worker, whose
 * invocation waits for the request by its id and would otherwise wait for ever.
 */
function breakOff(forwarded: ClientRequest): void {
  if (forwarded.socket) return void forwarded.socket.end();
  // Node writes the head to the socket just after it emits it.
  forwarded.once('socket', (socket) => process.nextTick(() => socket.end()));
}

/** The message's end-to-end headers: hop-by-hop ones dropped, with those the `connection` header names. */
function endToEnd(headers: IncomingHttpHeaders | Record<string, string>, alsoDrop: string[] = []): OutgoingHttpHeaders {
  const connection = headers.connection;
  const named = (Array.isArray(connection) ? connection.join(',') : (connection ?? '')).split(',').map((h) => h.trim().toLowerCase());
  const drop = new Set([...HOP_BY_HOP, ...named, ...alsoDrop]);
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => value !== undefined && !drop.has(name.toLowerCase())));
}

/**
 * The Functions host's side of HTTP streams, for a worker whose capabilities name an `HttpUri`
 * (`@azure/functions` with `app.setup({ enableHttpStream: true })`): the client's request is
 * forwarded to that URI (same method, path and query, `x-forwarded-host`/`-proto`, and the
 * invocation id in `x-ms-invocation-id`) with its body streamed through, the invocation request
 * carries the trigger metadata (headers with the injected principal, route parameters, query)
 * but no body, and the worker's proxied response is piped back to the client as it comes.
 * The request body limit holds while the body streams: past it nothing more is forwarded and the
 * client gets 413, or, if its answer has started, its connection is ended.
 */
export function workerHttpProxy(options: { worker: FunctionsWorker; httpUri: string; maxRequestBodyBytes: number }): WorkerHttpProxy {
  const { worker, maxRequestBodyBytes } = options;
  const agent = new http.Agent({ keepAlive: true });

  const invoke = (call: ProxiedInvocation): Promise<void> => {
    const { req, res, url } = call;
    const invocationId = randomUUID();
    /** Who answers the client: nobody yet, the worker (its proxied response), or the host itself. */
    let answer: 'none' | 'worker' | 'host' = 'none';
    let forwarding = true;
    let workerResponded = false;
    let noResponse: NodeJS.Timeout | undefined;

    // Path and query set on the proxy's URL, not resolved against it: a path such as `//x` stays a path.
    const target = new URL(options.httpUri);
    target.pathname = url.pathname;
    target.search = url.search;
    const headers: OutgoingHttpHeaders = {
      ...endToEnd(call.headers, ['host', 'content-length']),
      ...bodyFraming(req),
      host: target.host,
      'x-forwarded-host': url.host,
      'x-forwarded-proto': url.protocol.replace(/:$/, ''),
      'x-forwarded-for': req.socket.remoteAddress ?? '',
      [INVOCATION_ID_HEADER]: invocationId,
    };

    /** The host's own answer, for a client that has none yet; sent before the body ended, it is the connection's last. */
    const hostAnswers = (status: number, body?: unknown) => {
      answer = 'host';
      req.off('data', forwardBody);
      if (!req.complete) closeAfter(res);
      if (body === undefined) return void res.writeHead(status, { 'content-length': 0 }).end();
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const stopForwarding = () => {
      if (!forwarding) return;
      forwarding = false;
      // A worker that answered has the request, so its connection can go at once.
      if (workerResponded) forwarded.destroy();
      else breakOff(forwarded);
    };
    /** The invocation failed or the worker's proxy was lost: 500 without details, or, once the worker's answer has started, its end. */
    const fail = () => {
      stopForwarding();
      if (answer === 'none') hostAnswers(500);
      else if (answer === 'worker' && !res.writableFinished) res.destroy();
    };

    let received = 0;
    /**
     * Forwards the body as it comes, at the pace the worker takes it. Past the limit nothing more
     * is forwarded, not even that chunk: 413 if the client has no answer yet, else its connection ends.
     */
    const forwardBody = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxRequestBodyBytes) {
        stopForwarding();
        if (answer === 'none') hostAnswers(413, { error: new BodyTooLargeError(maxRequestBodyBytes).message });
        else req.socket.destroy();
        return;
      }
      if (forwarding && !forwarded.write(chunk)) req.pause();
    };

    const clientDone = new Promise<void>((resolve) => {
      res.once('close', () => {
        clearTimeout(noResponse);
        if (!res.writableFinished || !req.complete) stopForwarding();
        // Answered before the client sent all its body: the rest is read and dropped (still within
        // the limit), as the host drains a body its function did not read, so the answer arrives.
        if (res.writableFinished && !req.complete && !req.destroyed) req.resume();
        else req.off('data', forwardBody);
        resolve();
      });
    });

    // A head the worker's proxy would refuse never reaches the invocation that waits for it.
    if (headBytes(`${target.pathname}${target.search}`, headers) >= http.maxHeaderSize) {
      forwarding = false;
      hostAnswers(431, { error: `The request's headers are too large to forward to the worker (${http.maxHeaderSize} bytes with those the host adds).` });
      return clientDone;
    }

    const forwarded = http.request(target, { method: call.method, agent, headers });
    // The head goes out now, whatever becomes of the body (see breakOff).
    forwarded.flushHeaders();
    forwarded.on('drain', () => {
      if (forwarding) req.resume();
    });
    req.on('data', forwardBody);
    req.once('end', () => {
      if (forwarding) forwarded.end();
    });

    forwarded.on('response', (proxied) => {
      workerResponded = true;
      if (answer !== 'none') return void proxied.resume();
      answer = 'worker';
      res.writeHead(proxied.statusCode ?? 500, proxied.statusMessage, endToEnd(proxied.headers, [INVOCATION_ID_HEADER]));
      pipeline(proxied, res, (error) => {
        if (error) res.destroy();
      });
    });
    forwarded.on('error', () => {
      if (forwarding) fail();
    });

    worker
      .invoke(call.functionName, {
        invocationId,
        triggerData: {
          http: { method: call.method, url: url.toString(), headers: call.headers, query: call.query, params: call.params, body: null },
        } satisfies RpcTypedData,
        triggerMetadata: { ...call.params, Query: call.query, Headers: call.headers },
      })
      .then(() => {
        if (answer === 'none') noResponse = setTimeout(fail, RESPONSE_AFTER_INVOCATION_MS);
      }, fail);

    return clientDone;
  };

  return { invoke, close: () => agent.destroy() };
}

import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
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

    // Path and query set on the proxy's URL, not resolved against it: a path such as `//x` stays a path.
    const target = new URL(options.httpUri);
    target.pathname = url.pathname;
    target.search = url.search;
    const forwarded = http.request(target, {
      method: call.method,
      agent,
      headers: {
        ...endToEnd(call.headers, ['host']),
        'x-forwarded-host': url.host,
        'x-forwarded-proto': url.protocol.replace(/:$/, ''),
        'x-forwarded-for': req.socket.remoteAddress ?? '',
        [INVOCATION_ID_HEADER]: invocationId,
      },
    });
    const stopForwarding = () => {
      if (!forwarding) return;
      forwarding = false;
      req.unpipe(forwarded);
      forwarded.destroy();
    };

    /** The host's own answer, for a client that has none yet; sent before the body ended, it is the connection's last. */
    const hostAnswers = (status: number, body?: unknown) => {
      answer = 'host';
      req.off('data', countBody);
      if (!req.complete) closeAfter(res);
      if (body === undefined) return void res.writeHead(status, { 'content-length': 0 }).end();
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    /** The invocation failed or the worker's proxy was lost: 500 without details, or, once the worker's answer has started, its end. */
    const fail = () => {
      stopForwarding();
      if (answer === 'none') hostAnswers(500);
      else if (answer === 'worker' && !res.writableFinished) res.destroy();
    };

    let received = 0;
    /** Past the limit nothing more is forwarded: 413 if the client has no answer yet, else the connection ends. */
    const countBody = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxRequestBodyBytes) return;
      stopForwarding();
      if (answer === 'none') hostAnswers(413, { error: new BodyTooLargeError(maxRequestBodyBytes).message });
      else req.socket.destroy();
    };
    // Counted before the pipe forwards it: a chunk that passes the limit is not forwarded.
    req.on('data', countBody);
    req.pipe(forwarded);

    forwarded.on('response', (proxied) => {
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

    let noResponse: NodeJS.Timeout | undefined;
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

    return new Promise<void>((resolve) => {
      res.once('close', () => {
        clearTimeout(noResponse);
        if (!res.writableFinished || !req.complete) stopForwarding();
        // Answered before the client sent all its body: the rest is read and dropped (still within
        // the limit), as the host drains a body its function did not read, so the answer arrives.
        if (res.writableFinished && !req.complete && !req.destroyed) req.resume();
        else req.off('data', countBody);
        resolve();
      });
    });
  };

  return { invoke, close: () => agent.destroy() };
}

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { BodyTooLargeError, closeAfter, declaresTooLarge, DEFAULT_MAX_REQUEST_BODY_BYTES, readBodyLimited } from '../http-body';
import type { FunctionInfo, FunctionsWorker, HttpResponseData, RpcTypedData } from '../worker';
import { AdminFunctions, serveAdminFunctions } from './admin-functions';
import { workerHttpProxy } from './http-proxy';
import { authenticatedHeaders, type DevIdentities } from './identities';
import { type CompiledRoute, compileRoute } from './routes';

/** Serves `/runtime/webhooks/durabletask/...` (it reads the request body itself). */
export type DurableManagementHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface HttpKeys {
  /** Accepted for `authLevel: 'function'` routes. */
  functionKey?: string;
  /** Accepted for every route, required for `authLevel: 'admin'`. */
  masterKey?: string;
}

export interface HttpServerOptions {
  worker: FunctionsWorker;
  /** Loopback port; 0 picks a free one. */
  port: number;
  /** host.json `extensions.http.routePrefix` (no slashes); '' for none. */
  routePrefix: string;
  keys: HttpKeys;
  /** Development bearer tokens and the principals devhost injects for them (EasyAuth's part). */
  identities?: DevIdentities;
  durable?: DurableManagementHandler;
  /** Serves `POST /admin/functions/{name}` (runs a non-HTTP function now). */
  admin?: AdminFunctions;
  /** Largest request body a function gets; 413 past it. Default 100 MB, as Azure's. */
  maxRequestBodyBytes?: number;
}

export interface RunningHttpServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  routes: Array<{ functionName: string; methods: string[]; url: string; authLevel: string }>;
  stop(): Promise<void>;
}

interface HttpRoute {
  fn: FunctionInfo;
  route: CompiledRoute;
  methods: string[] | undefined;
  authLevel: string;
  rank: number[];
}

const DURABLE_PREFIX = '/runtime/webhooks/durabletask/';

/** Ranks a template so literal segments win over parameters and catch-alls, as ASP.NET routing does. */
function rankOf(template: string): number[] {
  return template
    .split('/')
    .filter(Boolean)
    .map((s) => (!s.startsWith('{') ? 4 : s.startsWith('{*') ? 0 : s.includes(':') ? 3 : s.endsWith('?}') ? 1 : 2));
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (b[i] ?? -1) - (a[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function buildRoutes(worker: FunctionsWorker): HttpRoute[] {
  return worker
    .functionsByTrigger('httpTrigger')
    .map((fn) => {
      const template = typeof fn.trigger.route === 'string' && fn.trigger.route ? fn.trigger.route : fn.name;
      const methods = Array.isArray(fn.trigger.methods)
        ? (fn.trigger.methods as unknown[]).map((m) => String(m).toUpperCase())
        : undefined;
      const authLevel = typeof fn.trigger.authLevel === 'string' ? fn.trigger.authLevel.toLowerCase() : 'function';
      return { fn, route: compileRoute(template), methods, authLevel, rank: rankOf(template) };
    })
    .sort((a, b) => compareRank(a.rank, b.rank));
}

/**
 * The request's URL, or undefined when the request target or the Host header cannot form one,
 * or the path does not decode (a broken percent escape such as `%E0%A4%A`): routes decode each
 * segment, and a segment decodes whenever the whole path does.
 */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Tells a client that waits before sending its body (`Expect: 100-continue`) to send it: only once
 * the body is going to be read, so a refusal (401, 404, 413) spares it the upload, as Kestrel does.
 */
function continueIfExpected(req: IncomingMessage, res: ServerResponse): void {
  if (/\b100-continue\b/i.test(req.headers.expect ?? '')) res.writeContinue();
}

function authorised(route: HttpRoute, keys: HttpKeys, presented: string | undefined): boolean {
  if (route.authLevel === 'anonymous') return true;
  if (presented === undefined || presented === '') return false;
  if (keys.masterKey && presented === keys.masterKey) return true;
  return route.authLevel === 'function' && !!keys.functionKey && presented === keys.functionKey;
}

interface RpcCookie {
  name?: string;
  value?: string;
  domain?: { value?: string };
  path?: { value?: string };
  expires?: { value?: { seconds?: number } };
  secure?: { value?: boolean };
  httpOnly?: { value?: boolean };
  sameSite?: string;
  maxAge?: { value?: number };
}

function setCookieHeader(c: RpcCookie): string {
  const parts = [`${c.name ?? ''}=${c.value ?? ''}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  if (c.expires?.value?.seconds != null) parts.push(`Expires=${new Date(c.expires.value.seconds * 1000).toUTCString()}`);
  if (c.maxAge?.value != null) parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  if (c.sameSite && c.sameSite !== 'none') parts.push(`SameSite=${c.sameSite === 'explicitNone' ? 'None' : c.sameSite}`);
  return parts.join('; ');
}

function writeResponse(res: ServerResponse, response: HttpResponseData | undefined): void {
  if (!response) {
    res.writeHead(204).end();
    return;
  }
  const headers: http.OutgoingHttpHeaders = { ...response.headers };
  const cookies = (response.cookies as RpcCookie[]).map(setCookieHeader);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = response.body.length;
  res.writeHead(response.status, headers);
  res.end(response.body);
}

/**
 * The host's HTTP front end on 127.0.0.1: routes `/{routePrefix}/{route}` to HTTP-triggered
 * functions (methods, function keys from `x-functions-key` or `?code=`), serves the Durable
 * extension's management API under `/runtime/webhooks/durabletask/` and `/admin/host/status`.
 * A worker that reports an `HttpUri` capability (HTTP streams) gets each invocation's request
 * through its proxy (./http-proxy.ts); otherwise the body is read whole into the invocation.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { worker, keys } = options;
  const routes = buildRoutes(worker);
  const prefix = options.routePrefix ? `/${options.routePrefix}` : '';

  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  // A worker that reports an HttpUri (the app enabled HTTP streams) gets its HTTP invocations'
  // bodies through its own proxy server, streamed; any other gets them whole in the invocation.
  const httpUri = (await worker.capabilities()).HttpUri;
  const proxy = httpUri ? workerHttpProxy({ worker, httpUri, maxRequestBodyBytes: maxBody }) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    /** An answer sent before the body is read ends the connection: the unread rest is not kept. */
    const answerBeforeBody = (status: number, body: unknown) => {
      if (!req.complete) closeAfter(res);
      sendJson(res, status, body);
    };
    const url = requestUrl(req);
    const method = (req.method ?? 'GET').toUpperCase();
    if (!url) return answerBeforeBody(400, { error: 'The request URL or its Host header is malformed.' });

    if (url.pathname.toLowerCase().startsWith(DURABLE_PREFIX)) {
      if (!options.durable) return answerBeforeBody(404, { error: 'The Durable extension is not running in this host.' });
      continueIfExpected(req, res);
      return options.durable(req, res);
    }
    if (url.pathname.toLowerCase() === '/admin/host/status') {
      return answerBeforeBody(200, { state: 'Running', version: worker.coreApi.hostVersion });
    }
    if (options.admin && AdminFunctions.serves(url.pathname)) {
      // Authorised before the body is read: without the master key nothing of it is buffered.
      const refused = options.admin.unauthorised({ headers: req.headers, url });
      if (refused) return answerBeforeBody(refused.status, refused.body);
      continueIfExpected(req, res);
      let body: Buffer;
      try {
        body = await readBodyLimited(req, maxBody);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return answerBeforeBody(413, { error: error.message });
        throw error;
      }
      return serveAdminFunctions(options.admin, { method, url, headers: req.headers, body }, res);
    }

    const lowerPath = url.pathname.toLowerCase();
    if (prefix && lowerPath !== prefix && !lowerPath.startsWith(`${prefix}/`)) {
      return answerBeforeBody(404, { error: `No function matches ${method} ${url.pathname}.` });
    }
    const routePath = url.pathname.slice(prefix.length);
    let pathMatched = false;
    for (const route of routes) {
      const params = route.route.match(routePath);
      if (!params) continue;
      pathMatched = true;
      if (route.methods && !route.methods.includes(method)) continue;

      const presented = req.headers['x-functions-key'] ?? url.searchParams.get('code') ?? undefined;
      if (!authorised(route, keys, Array.isArray(presented) ? presented[0] : presented)) {
        return answerBeforeBody(401, { error: `Function '${route.fn.name}' requires a valid function key (x-functions-key header or code query parameter).` });
      }
      const headers = authenticatedHeaders(req.headers, options.identities ?? {});
      const query = Object.fromEntries(url.searchParams.entries());
      if (proxy) {
        if (declaresTooLarge(req, maxBody)) return answerBeforeBody(413, { error: new BodyTooLargeError(maxBody).message });
        continueIfExpected(req, res);
        return proxy.invoke({ functionName: route.fn.name, req, res, url, method, headers, params, query });
      }
      // Routed and authorised: only now is the body read, and no more of it than the limit.
      continueIfExpected(req, res);
      let body: Buffer;
      try {
        body = await readBodyLimited(req, maxBody);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        return answerBeforeBody(413, { error: err.message });
      }
      const triggerData: RpcTypedData = {
        http: {
          method,
          url: url.toString(),
          headers,
          query,
          params,
          body: body.length > 0 ? { bytes: body } : null,
        },
      };
      try {
        const result = await worker.invoke(route.fn.name, {
          triggerData,
          triggerMetadata: { ...params, Query: query, Headers: headers },
        });
        return writeResponse(res, result.http);
      } catch {
        // The host answers 500 without details; the error is in the invocation log line.
        res.writeHead(500, { 'content-length': 0 }).end();
        return;
      }
    }
    const reason = pathMatched ? `${method} is not allowed on ${url.pathname}` : `No function matches ${method} ${url.pathname}`;
    return answerBeforeBody(404, { error: `${reason}.` });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  };
  const server = http.createServer(onRequest);
  // Node would answer `Expect: 100-continue` at once, before routing; `handle` does it when it reads the body.
  server.on('checkContinue', onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    routes: routes.map((r) => ({
      functionName: r.fn.name,
      methods: r.methods ?? ['*'],
      url: `${origin}${prefix}/${r.route.template.replace(/^\/+/, '')}`,
      authLevel: r.authLevel,
    })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        proxy?.close();
        server.close(() => resolve());
      }),
  };
}

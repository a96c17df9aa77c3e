import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { z } from 'zod';

import { BodyTooLargeError, closeAfter, DEFAULT_MAX_REQUEST_BODY_BYTES, readBodyLimited } from '../http-body';
import {
  durableApiBasePath,
  type DurableClientPayload,
  durableClientPayload,
  managementLinks,
} from './client-payload';
import {
  type DurableEngine,
  InstanceExistsError,
  InvalidInstanceIdError,
  type OperationOutcome,
  UnknownOrchestrationError,
} from './engine';
import { statusPayload } from './status';
import { type InstanceQuery, isTerminal, type RuntimeStatus,runtimeStatuses } from './store';

/**
 * The Durable extension's management API (`/runtime/webhooks/durabletask/...`) over a
 * DurableEngine, as a plain Node request handler: the routes, status codes and bodies of the
 * extension's HttpApiHandler, so the real DurableClient (and curl users) see the same contract.
 */
export interface DurableHttpApi {
  /** Whether a request path belongs to this API. */
  handles(url: string | undefined): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The `durableClient` binding value for functions served at `origin`. */
  clientPayload(origin: string): DurableClientPayload;
}

export interface DurableHttpApiOptions {
  connectionName?: string;
  /**
   * The key every request must present (`code` query parameter or `x-functions-key` header), as
   * the extension's system key or the host's master key on Azure; the client binding's URLs
   * carry it as `code=`. devhost passes `DEVHOST_MASTER_KEY`.
   */
  systemKey: string;
  /** Page size of the instance list when the request gives no `top`. */
  defaultPageSize?: number;
  /** Largest request body read (413 past it); default 100 MB, as Azure's. */
  maxRequestBodyBytes?: number;
}

/**
 * An answer other than success. As the extension's HttpApiHandler: `CreateResponse(NotFound|Gone)`
 * has no body; `CreateErrorResponse(status, message, exception)` is `{ Message, ExceptionMessage }`;
 * devhost's own refusals (`text`) are plain text, so the JS client's `new Error(response.data)`
 * carries a readable message.
 */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message = '',
    readonly exceptionMessage?: string,
    readonly format: 'json' | 'text' = 'json',
  ) {
    super(message);
  }
}

const notFound = () => new HttpError(404);
const gone = () => new HttpError(410);

/** The messages of HttpApiHandler.HandleRequestAsync's catch blocks. */
const ARGUMENT_ERROR = 'One or more of the arguments submitted is incorrect';
const SERVER_ERROR = 'Something went wrong while processing your request';

const continuationSchema = z.object({ offset: z.number().int().min(0) });

export function createDurableHttpApi(engine: DurableEngine, options: DurableHttpApiOptions): DurableHttpApi {
  const pageSize = options.defaultPageSize ?? 100;
  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  if (!options.systemKey) throw new Error('the Durable management API needs a system key');
  const systemKey = Buffer.from(options.systemKey);
  const payloadFor = (origin: string): DurableClientPayload =>
    durableClientPayload({
      origin,
      taskHubName: engine.taskHubName,
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
      systemKey: options.systemKey,
    });
  const readBody = async (req: IncomingMessage): Promise<string> => (await readBodyLimited(req, maxBody)).toString('utf8');

  /** The key in the `code` query parameter or the `x-functions-key` header, compared in constant time. */
  const presentsKey = (req: IncomingMessage, url: URL): boolean => {
    const header = req.headers['x-functions-key'];
    const presented = Buffer.from((Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '');
    return presented.length === systemKey.length && timingSafeEqual(presented, systemKey);
  };

  const handles = (url: string | undefined): boolean => {
    const pathname = (url ?? '').split('?')[0] ?? '';
    return pathname === durableApiBasePath || pathname.startsWith(`${durableApiBasePath}/`);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
    let url: URL;
    let segments: string[];
    try {
      url = new URL(req.url ?? '/', origin);
      segments = url.pathname
        .slice(durableApiBasePath.length)
        .split('/')
        .filter((s) => s.length > 0)
        .map((s) => decodeURIComponent(s));
    } catch {
      throw new HttpError(400, 'The request URL or Host header is malformed.');
    }
    // The key first, before routing or reading a body: a caller without it learns nothing.
    if (!presentsKey(req, url)) {
      throw new HttpError(401, 'The Durable management API needs the master key: a code query parameter or an x-functions-key header.');
    }
    const method = req.method ?? 'GET';
    const [controller, first, second, third] = segments;
    const query = url.searchParams;

    if (controller === 'orchestrators' && first !== undefined && segments.length <= 3 && method === 'POST') {
      return startOrchestration(req, res, origin, first, second, query);
    }
    if (controller === 'instances') {
      if (first === undefined) {
        if (method === 'GET') return listInstances(req, res, query);
        if (method === 'DELETE') return purgeWhere(res, query);
      } else if (second === undefined) {
        if (method === 'GET') return getStatus(res, first, query);
        if (method === 'DELETE') return purgeOne(res, first);
      } else if (second.toLowerCase() === 'raiseevent' && third !== undefined && segments.length === 4) {
        if (method === 'POST') return raiseEvent(req, res, first, third);
      } else if (third === undefined && method === 'POST') {
        return instanceOperation(res, first, second.toLowerCase(), query.get('reason'));
      }
    }
    if (controller === 'entities') {
      throw new HttpError(
        501,
        'devhost does not support Durable entities (signalEntity, readEntityState, entity queries): keep the state in Cosmos DB or in an orchestration.',
        undefined,
        'text',
      );
    }
    throw notFound();
  }

  async function startOrchestration(
    req: IncomingMessage,
    res: ServerResponse,
    origin: string,
    functionName: string,
    instanceId: string | undefined,
    query: URLSearchParams,
  ): Promise<void> {
    const body = await readBody(req);
    const input = body.trim().length === 0 ? undefined : JSON.stringify(parseJsonBody(body));
    // DurableClient.StartNewAsync: the function check and the id checks throw ArgumentException
    // (400 with ARGUMENT_ERROR); an id still Pending/Running/Suspended throws DTFx's
    // OrchestrationAlreadyExistsException, an InvalidOperationException (500 with SERVER_ERROR).
    let id: string;
    try {
      id = engine.startNew(functionName, { ...(instanceId ? { instanceId } : {}), ...(input === undefined ? {} : { input }) });
    } catch (err) {
      if (err instanceof UnknownOrchestrationError || err instanceof InvalidInstanceIdError) {
        throw new HttpError(400, ARGUMENT_ERROR, err.message);
      }
      if (err instanceof InstanceExistsError) throw new HttpError(500, SERVER_ERROR, err.message);
      throw err;
    }
    const timeout = seconds(query.get('timeout'));
    const interval = seconds(query.get('pollingInterval'));
    if (timeout !== undefined && interval !== undefined) {
      const done = await engine.waitFor(id, (i) => isTerminal(i.runtimeStatus), timeout * 1000).catch(() => undefined);
      if (done?.runtimeStatus === 'Completed') return sendJson(res, 200, JSON.parse(done.output ?? 'null'));
      if (done) return sendJson(res, 200, statusPayload(done, defaultStatusOptions, engine.getHistory(id)));
    }
    const links = managementLinks(payloadFor(origin), id);
    sendJson(res, 202, links, { Location: links.statusQueryGetUri ?? '', 'Retry-After': '10' });
  }

  function getStatus(res: ServerResponse, instanceId: string, query: URLSearchParams): void {
    const instance = engine.getInstance(instanceId);
    if (!instance) throw notFound();
    const options = {
      showInput: bool(query.get('showInput')) ?? true,
      showHistory: bool(query.get('showHistory')) ?? false,
      showHistoryOutput: bool(query.get('showHistoryOutput')) ?? false,
    };
    const history = options.showHistory ? engine.getHistory(instanceId) : [];
    const payload = statusPayload(instance, options, history);
    const running = !isTerminal(instance.runtimeStatus);
    const failedAs500 = instance.runtimeStatus === 'Failed' && bool(query.get('returnInternalServerErrorOnFailure')) === true;
    const status = running ? 202 : failedAs500 ? 500 : 200;
    const headers: Record<string, string> = running ? { Location: url(res), 'Retry-After': '5' } : {};
    sendJson(res, status, payload, headers);
  }

  function listInstances(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const token = req.headers['x-ms-continuation-token'];
    const offset = decodeToken(typeof token === 'string' ? token : undefined);
    const top = int(query.get('top')) ?? pageSize;
    if (top <= 0) throw new HttpError(400, "'top' must be a positive page size.");
    const filter = instanceQuery(query);
    const page = engine.queryInstances(filter, offset, top + 1);
    const options = { showInput: bool(query.get('showInput')) ?? true, showHistory: false, showHistoryOutput: false };
    const headers: Record<string, string> =
      page.length > top ? { 'x-ms-continuation-token': encodeToken(offset + top) } : {};
    sendJson(
      res,
      200,
      page.slice(0, top).map((i) => statusPayload(i, options, [])),
      headers,
    );
  }

  function purgeOne(res: ServerResponse, instanceId: string): void {
    // HandleDeleteHistoryByIdRequestAsync: 404 for an unknown id, else the provider's purge, which
    // on Azure Storage deletes a running instance too.
    if (engine.purge(instanceId) === 'notFound') throw notFound();
    sendJson(res, 200, { instancesDeleted: 1 });
  }

  function purgeWhere(res: ServerResponse, query: URLSearchParams): void {
    if (date(query.get('createdTimeFrom')) === undefined) {
      throw new HttpError(400, "Please provide value for 'createdTimeFrom' parameter.");
    }
    const filter = instanceQuery(query);
    const deleted = engine.purgeWhere({ ...filter, createdTimeTo: filter.createdTimeTo ?? Date.now() });
    if (deleted === 0) throw notFound();
    sendJson(res, 200, { instancesDeleted: deleted });
  }

  async function raiseEvent(req: IncomingMessage, res: ServerResponse, instanceId: string, eventName: string): Promise<void> {
    const instance = engine.getInstance(instanceId);
    if (!instance) throw notFound();
    if (isTerminal(instance.runtimeStatus)) throw gone();
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const body = await readBody(req);
    if (mediaType !== 'application/json') {
      throw new HttpError(400, 'Only application/json request content is supported');
    }
    // HttpApiHandler reads the body with JToken.Load, which refuses an empty one ("Error reading
    // JToken from JsonReader"): an event without data (the JS client's raiseEvent(id, name,
    // undefined) posts nothing) is a 400 Invalid JSON content, not an event with no input.
    const input = JSON.stringify(parseJsonBody(body));
    respondOutcome(res, engine.raiseEvent(instanceId, eventName, input));
  }

  function instanceOperation(res: ServerResponse, instanceId: string, operation: string, reason: string | null): void {
    const existing = engine.getInstance(instanceId);
    if (!existing) throw notFound();
    switch (operation) {
      case 'terminate':
        return respondOutcome(res, engine.terminate(instanceId, reason ?? ''));
      case 'suspend':
      case 'resume': {
        if (isTerminal(existing.runtimeStatus)) throw gone();
        // DurableClient.SuspendAsync / ResumeAsync throw InvalidOperationException (so 500) when
        // the instance is not Running/Pending (suspend) or not Suspended (resume).
        const allowed = operation === 'suspend' ? existing.runtimeStatus !== 'Suspended' : existing.runtimeStatus === 'Suspended';
        if (!allowed) {
          throw new HttpError(
            500,
            SERVER_ERROR,
            `Cannot ${operation} the orchestration instance ${instanceId} because instance is in the ${existing.runtimeStatus} state.`,
          );
        }
        const outcome =
          operation === 'suspend' ? engine.suspend(instanceId, reason ?? undefined) : engine.resume(instanceId, reason ?? undefined);
        return respondOutcome(res, outcome);
      }
      case 'rewind':
      case 'restart':
        throw new HttpError(
          501,
          `devhost does not support the ${operation} operation: start a new instance (client.startNew) with the same input instead.`,
          undefined,
          'text',
        );
      default:
        throw notFound();
    }
  }

  function respondOutcome(res: ServerResponse, outcome: OperationOutcome): void {
    if (outcome === 'notFound') throw notFound();
    if (outcome === 'gone') throw gone();
    res.writeHead(202).end();
  }

  return {
    handles,
    clientPayload: payloadFor,
    async handle(req, res) {
      try {
        await route(req, res);
      } catch (err) {
        if (res.headersSent) {
          res.destroy(err instanceof Error ? err : undefined);
          return;
        }
        const failure = err instanceof BodyTooLargeError ? new HttpError(413, err.message) : err;
        // Answered before the body was read: the rest of it is not waited for.
        if (!req.complete) closeAfter(res);
        if (failure instanceof HttpError) {
          if (failure.message === '') {
            res.writeHead(failure.status, { 'Content-Length': 0 }).end();
          } else if (failure.format === 'text') {
            res.writeHead(failure.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(failure.message);
          } else {
            sendJson(res, failure.status, {
              Message: failure.message,
              ...(failure.exceptionMessage === undefined ? {} : { ExceptionMessage: failure.exceptionMessage }),
            });
          }
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        sendJson(res, 500, { Message: SERVER_ERROR, ExceptionMessage: message });
      }
    },
  };
}

const defaultStatusOptions = { showInput: true, showHistory: false, showHistoryOutput: false };

function url(res: ServerResponse): string {
  const req = res.req;
  return `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? ''}`;
}

function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    throw new HttpError(400, 'Invalid JSON content', err instanceof Error ? err.message : String(err));
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function bool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

function int(value: string | null): number | undefined {
  if (value === null || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

function seconds(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function date(value: string | null): number | undefined {
  if (value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Filters as the extension parses them: unparsable dates and unknown statuses are ignored. */
function instanceQuery(query: URLSearchParams): InstanceQuery {
  const filter: InstanceQuery = {};
  const from = date(query.get('createdTimeFrom'));
  const to = date(query.get('createdTimeTo'));
  if (from !== undefined) filter.createdTimeFrom = from;
  if (to !== undefined) filter.createdTimeTo = to;
  // Enum.TryParse in HttpApiHandler.TryGetIEnumerableQueryParameterValue: case-sensitive names
  // (surrounding spaces allowed) or the enum's numbers; anything else is ignored.
  const statuses = query
    .getAll('runtimeStatus')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .map((v) => (/^\d+$/.test(v) ? runtimeStatuses[Number(v)] : runtimeStatuses.find((s) => s === v)))
    .filter((s): s is RuntimeStatus => s !== undefined);
  if (statuses.length > 0) filter.runtimeStatus = statuses;
  const prefix = query.get('instanceIdPrefix');
  if (prefix) filter.instanceIdPrefix = prefix;
  return filter;
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    return continuationSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).offset;
  } catch {
    throw new HttpError(400, 'The x-ms-continuation-token header is not a continuation token this API issued.');
  }
}

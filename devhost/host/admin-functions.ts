import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import type { BlobServiceClient } from '@azure/storage-blob';
import { z } from 'zod';

import { batchMetadata, messageMetadata } from '../triggers/servicebus-metadata';
import type { FunctionInfo, FunctionsWorker, InvokeRequest } from '../worker';
import { blobTriggerInvocation, parseBlobPath } from './blob-triggers';
import { resolveSettingRefs, stringOption } from './host-storage';
import { timerTriggerValue } from './timers';

/** Where the host's admin API for functions lives. */
export const ADMIN_FUNCTIONS_PREFIX = '/admin/functions/';

export interface AdminFunctionsOptions {
  worker: FunctionsWorker;
  /** The host's master key: admin APIs need it, and nothing runs when there is none. */
  masterKey: string | undefined;
  /** Client for the storage account a blob trigger watches, by its connection setting. */
  blobService: (connection: string | undefined) => BlobServiceClient;
  log: (line: string) => void;
}

export interface AdminRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface AdminAnswer {
  status: number;
  body?: { error: string };
}

const TRIGGERS_RUN =
  'timer, blob and Service Bus functions (HTTP functions are called on their routes, orchestrations started through the Durable API)';

/**
 * `POST /admin/functions/{name}` with `{"input": "..."}`: runs a non-HTTP function now, as the
 * Functions host does for Core Tools and the portal's Test/Run. It needs the master key, answers
 * 202 Accepted at once and runs the function in the background; an unknown function is 404, a
 * body that is not `{"input": ...}` 400. (Azure/azure-functions-host,
 * src/WebJobs.Script.WebHost/Controllers/FunctionsController.cs, `Invoke`: `[Authorize(Policy =
 * PolicyNames.AdminAuthLevel)]`, `BadRequest()` without a body, `NotFound()` for an unknown name,
 * `Task.Run(() => scriptHost.CallAsync(...))` then `Accepted()`.) The input is what the trigger
 * would have received: ignored for a timer (it gets a timer payload with `isPastDue: false`), the
 * blob path `container/name` for a blob trigger, the message body for a Service Bus trigger.
 */
export class AdminFunctions {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: AdminFunctionsOptions) {}

  static serves(pathname: string): boolean {
    return pathname.toLowerCase().startsWith(ADMIN_FUNCTIONS_PREFIX);
  }

  /**
   * 401 unless the request carries the master key. The HTTP server asks before it reads the body,
   * as the host authorises a request before it binds its body: a caller without the key costs no
   * more than its headers, whatever body it sends.
   */
  unauthorised(request: Pick<AdminRequest, 'headers' | 'url'>): AdminAnswer | undefined {
    const presented = request.headers['x-functions-key'] ?? request.url.searchParams.get('code') ?? undefined;
    const key = Array.isArray(presented) ? presented[0] : presented;
    if (this.options.masterKey && key === this.options.masterKey) return undefined;
    return {
      status: 401,
      body: { error: 'Admin APIs need the master key (DEVHOST_MASTER_KEY) as x-functions-key or ?code=.' },
    };
  }

  async handle(request: AdminRequest): Promise<AdminAnswer> {
    const refused = this.unauthorised(request);
    if (refused) return refused;
    const name = decodedName(request.url.pathname.slice(ADMIN_FUNCTIONS_PREFIX.length));
    if (request.method !== 'POST' || name === '' || name.includes('/')) {
      return {
        status: 404,
        body: {
          error: `devhost serves POST ${ADMIN_FUNCTIONS_PREFIX}{name} only, not ${request.method} ${request.url.pathname}.`,
        },
      };
    }
    const fn = this.options.worker.listFunctions().find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!fn) return { status: 404, body: { error: `No function named '${name}'.` } };
    const input = readInput(request.body);
    if ('error' in input) return { status: 400, body: input };
    const prepared = this.invocationFor(fn, input.value);
    if ('error' in prepared) return { status: 400, body: prepared };
    this.runInBackground(fn, prepared.prepare);
    return { status: 202 };
  }

  /** Waits for the invocations it started (the host stops after them). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private invocationFor(
    fn: FunctionInfo,
    input: string,
  ): { prepare: () => Promise<InvokeRequest> } | { error: string } {
    switch (String(fn.trigger.type).toLowerCase()) {
      case 'timertrigger':
        return { prepare: async () => ({ triggerValue: timerTriggerValue(null, false) }) };
      case 'blobtrigger':
        return this.blobInvocation(fn, input);
      case 'servicebustrigger':
        return { prepare: async () => serviceBusInvocation(fn, input) };
      default:
        return {
          error: `'${fn.name}' is triggered by ${String(fn.trigger.type)}: ${ADMIN_FUNCTIONS_PREFIX}{name} runs ${TRIGGERS_RUN}.`,
        };
    }
  }

  private blobInvocation(
    fn: FunctionInfo,
    input: string,
  ): { prepare: () => Promise<InvokeRequest> } | { error: string } {
    const path = resolveSettingRefs(stringOption(fn.trigger.path, `${fn.name}: blob trigger path`));
    const pattern = parseBlobPath(path);
    const slash = input.indexOf('/');
    const container = input.slice(0, slash);
    const blobName = input.slice(slash + 1);
    const params = slash > 0 && container === pattern.container ? pattern.match(blobName) : undefined;
    if (!params)
      return {
        error: `the input of '${fn.name}' is a blob path matching '${path}' (container/name), not '${input}'.`,
      };
    const connection = typeof fn.trigger.connection === 'string' ? fn.trigger.connection : undefined;
    const blobClient = this.options
      .blobService(connection)
      .getContainerClient(container)
      .getBlobClient(blobName);
    return {
      prepare: () =>
        blobTriggerInvocation(blobClient, input, params).catch((error: unknown) => {
          // Storage answers a missing blob's HEAD with a 404 and no message: say what is missing.
          if ((error as { statusCode?: number }).statusCode === 404) throw new Error(`the blob '${input}' does not exist`);
          throw error;
        }),
    };
  }

  private runInBackground(fn: FunctionInfo, prepare: () => Promise<InvokeRequest>): void {
    const run = (async () => {
      try {
        await this.options.worker.invoke(fn.name, await prepare());
      } catch (error) {
        // A handler failure is already on the invocation's log line; this reports the rest (a missing blob).
        this.options.log(
          `[admin] ${fn.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        );
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }
}

/** A path segment decoded; malformed escapes (`%E0%A4`) name no function. */
function decodedName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

/** The admin API's body: other fields are ignored, as the host ignores them. */
const adminBodySchema = z.looseObject({ input: z.union([z.string(), z.number(), z.boolean()]).nullish() });

/** The request body `{"input": <string | number | boolean>}`, the input as text (missing: empty). */
function readInput(body: Buffer): { value: string } | { error: string } {
  const usage = 'The body must be JSON: {"input": "<trigger input>"} (a string, number or boolean).';
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: usage };
  }
  const parsed = adminBodySchema.safeParse(json);
  if (!parsed.success) return { error: usage };
  return { value: parsed.data.input === undefined || parsed.data.input === null ? '' : String(parsed.data.input) };
}

/** A Service Bus function gets the input as one message body (JSON when it parses as JSON, as a JSON message would arrive). */
function serviceBusInvocation(fn: FunctionInfo, input: string): InvokeRequest {
  let body: unknown = input;
  try {
    body = JSON.parse(input);
  } catch {
    // plain text stays text
  }
  const message = {
    body,
    messageId: randomUUID(),
    deliveryCount: 0,
    enqueuedTimeUtc: new Date(),
    applicationProperties: {},
  } as unknown as ServiceBusReceivedMessage;
  return fn.trigger.cardinality === 'many'
    ? { triggerValue: [body], triggerMetadata: batchMetadata([message]) }
    : { triggerValue: body, triggerMetadata: messageMetadata(message) };
}

/** Writes an admin answer (the HTTP server calls this for paths under {@link ADMIN_FUNCTIONS_PREFIX}). */
export async function serveAdminFunctions(
  admin: AdminFunctions,
  request: AdminRequest,
  res: ServerResponse,
): Promise<void> {
  const answer = await admin.handle(request);
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...(answer.body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

import type { Disposable, FunctionsWorker } from '../worker';
import { AdminFunctions } from './admin-functions';
import { installCosmosBindings } from './bindings/cosmos-bindings';
import { installStorageBindings } from './bindings/storage-bindings';
import { assertBindingsSupported, unservedReason } from './bindings/support';
import { type RunningBlobTriggers, startBlobTriggers } from './blob-triggers';
import { blobServiceFor, ensureContainer, HOSTS_CONTAINER } from './host-storage';
import { type DurableManagementHandler, type HttpKeys, type RunningHttpServer, startHttpServer } from './http-server';
import { type DevIdentities, parseDevIdentities } from './identities';
import { readHostJson, routePrefixOf } from './settings';
import { type RunningTimers, startTimers } from './timers';

/**
 * What the Durable extension contributes to the host: the management API under
 * `/runtime/webhooks/durabletask/` and the `durableClient` input binding payload.
 */
export interface DurableExtension {
  /** Handles a request under `/runtime/webhooks/durabletask/` (devhost/durable's `DurableHttpApi.handle`). */
  handle: DurableManagementHandler;
  /** The `durableClient` binding value for functions of a host reachable at `origin`. */
  clientPayload(origin: string): unknown;
}

/**
 * A trigger source the host starts after the HTTP server and stops before it (the seam for the
 * Service Bus listener: it finds `serviceBusTrigger` functions with `worker.functionsByTrigger`).
 */
export interface TriggerListener {
  name: string;
  /** Trigger types it serves (e.g. `serviceBusTrigger`), so the host does not report them as unserved. */
  triggerTypes?: readonly string[];
  /** Installs its output binding handlers / input providers; called before the host checks every binding is supported. */
  registerBindings?(worker: FunctionsWorker): Disposable;
  start(worker: FunctionsWorker): Promise<void>;
  stop(): Promise<void>;
}

/** Trigger types the host itself serves. */
const HOST_TRIGGERS = ['httpTrigger', 'timerTrigger', 'blobTrigger'];
const DURABLE_TRIGGERS = ['orchestrationTrigger', 'activityTrigger'];

export interface HostOptions {
  worker: FunctionsWorker;
  /** The function app folder (host.json, for appStart's functionAppDirectory). */
  appDir: string;
  /** HTTP port on 127.0.0.1; 0 for a free one. Default 7071. */
  port?: number;
  /** Overrides host.json `extensions.http.routePrefix`. */
  routePrefix?: string;
  keys?: HttpKeys;
  /** Development bearer tokens -> principals; default DEVHOST_IDENTITIES from the settings. */
  identities?: DevIdentities;
  /** The host id used in receipts and timer status paths (as the host's `hostId`). Default `devhost`. */
  hostId?: string;
  /** Blob trigger poll interval; default 1000 ms. */
  blobPollIntervalMs?: number;
  durable?: DurableExtension;
  listeners?: TriggerListener[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RunningHost {
  origin: string;
  port: number;
  http: RunningHttpServer;
  timers: RunningTimers;
  blobs: RunningBlobTriggers;
  /** One line per function whose trigger devhost does not serve (also logged at start). */
  unserved: string[];
  stop(): Promise<void>;
}

/**
 * The Functions host in process: runs the appStart hooks, serves HTTP triggers and the Durable
 * management API, fires timers and blob triggers, starts extra listeners; `stop()` undoes it in
 * reverse order and runs the appTerminate hooks.
 */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { worker } = options;
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const hostId = options.hostId ?? 'devhost';
  const onError = (fn: string, err: unknown) =>
    log(`[host] ${fn}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);

  const hostJson = readHostJson(options.appDir);
  const listeners = options.listeners ?? [];
  const durable = options.durable;
  let origin = '';
  // Every binding gets its handler before the check, so that a binding nobody handles stops the
  // start with its function named, instead of its data being dropped at run time.
  const bindings: Disposable[] = [
    installStorageBindings(worker, { env, queueMessageEncoding: hostJson.extensions?.queues?.messageEncoding }),
    installCosmosBindings(worker, { env }),
    ...(durable ? [worker.setInputBindingProvider('durableClient', () => durable.clientPayload(origin))] : []),
    ...listeners.flatMap((l) => (l.registerBindings ? [l.registerBindings(worker)] : [])),
  ];
  const disposeBindings = () => bindings.forEach((b) => b.dispose());
  try {
    assertBindingsSupported(worker, durable ? [] : ['durableClient']);
  } catch (err) {
    disposeBindings();
    throw err;
  }
  const served = [...HOST_TRIGGERS, ...(durable ? DURABLE_TRIGGERS : []), ...listeners.flatMap((l) => l.triggerTypes ?? [])];
  const unserved = worker.listFunctions().flatMap((fn) => unservedReason(fn, served) ?? []);
  for (const line of unserved) log(`[host] ${line}`);

  await worker.start(options.appDir);
  const keys = options.keys ?? { functionKey: env.DEVHOST_FUNCTION_KEY, masterKey: env.DEVHOST_MASTER_KEY };
  const admin = new AdminFunctions({ worker, masterKey: keys.masterKey, blobService: (connection) => blobServiceFor(connection, env), log });
  const http = await startHttpServer({
    worker,
    port: options.port ?? 7071,
    routePrefix: options.routePrefix ?? routePrefixOf(hostJson),
    keys,
    identities: options.identities ?? parseDevIdentities(env.DEVHOST_IDENTITIES),
    durable: durable ? (req, res) => durable.handle(req, res) : undefined,
    admin,
  });
  origin = http.origin;
  if (durable) {
    // The platform sets it on Azure; without it df.getClient rewrites every URL to localhost:7071.
    env.WEBSITE_HOSTNAME = `127.0.0.1:${http.port}`;
  }

  const needsStorage = worker.functionsByTrigger('timerTrigger').length + worker.functionsByTrigger('blobTrigger').length > 0;
  const hostsContainer = needsStorage ? blobServiceFor('AzureWebJobsStorage', env).getContainerClient(HOSTS_CONTAINER) : undefined;
  if (hostsContainer) await ensureContainer(hostsContainer);

  const timers = await startTimers({ worker, hostId, hostsContainer, onError });
  const blobs = hostsContainer
    ? await startBlobTriggers({
        worker,
        hostId,
        hostsContainer,
        blobService: (connection) => blobServiceFor(connection, env),
        pollIntervalMs: options.blobPollIntervalMs ?? 1000,
        onError,
        log,
      })
    : { functions: [], pollOnce: async () => undefined, stop: async () => undefined };
  for (const listener of listeners) await listener.start(worker);

  let stopping: Promise<void> | undefined;
  return {
    origin: http.origin,
    port: http.port,
    http,
    timers,
    blobs,
    unserved,
    stop: () => {
      stopping ??= (async () => {
        for (const listener of [...listeners].reverse()) await listener.stop().catch((e: unknown) => onError(listener.name, e));
        await blobs.stop();
        await timers.stop();
        await http.stop();
        await admin.drain();
        await worker.terminate();
        disposeBindings();
      })();
      return stopping;
    },
  };
}

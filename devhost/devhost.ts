import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { createDurableHttpApi, DurableEngine, workerInvoker } from './durable';
import { type RunningHost, startHost, type TriggerListener } from './host/host';
import { applyLocalSettings, misspeltSettings, readLocalSettings } from './host/settings';
import { requestBodyLimit } from './http-body';
import { AZURITE_STANDARD_PORTS, cliStorageSetting, type RunningAzurite, startAzurite } from './services/azurite';
import { type RunningCosmos, startCosmos } from './services/cosmos';
import { type CosmosPersistence, persistCosmos } from './services/cosmos-snapshot';
import { StartupError } from './startup-error';
import { defaultWorker, entryPoints, formatLogEntry, loadApp } from './worker';

/** The Cosmos server's port with standard ports: COSMOS_ENDPOINT's (8081 by default). */
export function cosmosPortOf(endpoint: string | number | boolean | undefined): number {
  const text = String(endpoint ?? 'https://127.0.0.1:8081');
  if (!URL.canParse(text)) throw new StartupError(`COSMOS_ENDPOINT must be a URL such as https://127.0.0.1:8081, got "${text}".`);
  return Number(new URL(text).port || 8081);
}

export interface DevhostOptions {
  /** The function app folder: package.json (`main`), host.json, local.settings(.sample).json. */
  appDir: string;
  /** Overrides package.json `main` (a file or glob relative to appDir). */
  main?: string;
  /** Where Azurite data, the Cosmos snapshot and the task hub live. Default `<appDir>/.local`. */
  dataDir?: string;
  /** Host HTTP port; default 7071, 0 for a free one. */
  port?: number;
  /** `standard`: Azurite 10000-10002 and Cosmos 8081 as in local settings; `free`: OS-chosen ports. */
  servicePorts?: 'standard' | 'free';
  blobPollIntervalMs?: number;
  /** Extra trigger listeners (the Service Bus listener plugs in here). */
  listeners?: TriggerListener[];
  log?: (line: string) => void;
}

export interface RunningDevhost {
  host: RunningHost;
  engine: DurableEngine;
  /** The host's master key (DEVHOST_MASTER_KEY, or one made up for this run): admin routes and the Durable management API need it. */
  masterKey: string;
  azurite: RunningAzurite;
  cosmos: RunningCosmos;
  endpoints: Record<string, string>;
  /** Lines describing what runs where (what `npm start` prints). */
  summary: string[];
  stop(): Promise<void>;
}

/**
 * Everything `npm start` runs, in this process: local settings into the environment, Azurite
 * (child process, data in `<dataDir>/azurite`), the Cosmos server (in process, documents kept in
 * `<dataDir>/cosmos.json`), the app's functions, the Durable task hub (`<dataDir>/durable`) and
 * the host. The started services' addresses override the storage and Cosmos settings.
 */
export async function startDevhost(options: DevhostOptions): Promise<RunningDevhost> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const appDir = path.resolve(options.appDir);
  const dataDir = path.resolve(options.dataDir ?? path.join(appDir, '.local'));
  const standard = (options.servicePorts ?? 'standard') === 'standard';
  const { file: settingsFile, settings } = readLocalSettings(appDir);
  for (const { name, meant } of misspeltSettings(settings)) {
    log(`[devhost] ${path.basename(settingsFile ?? '')}: nothing reads the setting ${name}; did you mean ${meant}?`);
  }
  applyLocalSettings(settings);
  const env = process.env;

  fs.mkdirSync(path.join(dataDir, 'azurite'), { recursive: true });
  fs.mkdirSync(path.join(dataDir, 'durable'), { recursive: true });
  const cosmosPort = standard ? cosmosPortOf(env.COSMOS_ENDPOINT) : undefined;
  const [azurite, cosmos] = await Promise.all([
    startAzurite({
      location: path.join(dataDir, 'azurite'),
      exitWithParent: true,
      onUnexpectedExit: (how) =>
        log(
          `[devhost] Azurite ended (${how}) while devhost runs: blob triggers and everything that uses the data lake fail until devhost is restarted (Ctrl-C, then npm start again; the blobs in ${path.join(dataDir, 'azurite')} are kept)`,
        ),
      ...(standard ? AZURITE_STANDARD_PORTS : {}),
    }),
    startCosmos(cosmosPort ? { port: cosmosPort } : {}),
  ]);
  const started: Array<{ stop(): Promise<void> }> = [azurite, cosmos];
  // Stopped one by one in reverse start order: host (no new work), engine (drains), Cosmos
  // snapshot (final write), Cosmos server, Azurite.
  const stopStarted = async (): Promise<void> => {
    for (const service of [...started].reverse()) {
      await service.stop().catch((err: unknown) => log(`[devhost] stop failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  };

  try {
    env.AzureWebJobsStorage = azurite.connectionString;
    env.STORAGE_CONNECTION_STRING = azurite.connectionString;
    env.COSMOS_ENDPOINT = cosmos.endpoint;
    env.COSMOS_KEY = cosmos.key;
    env.COSMOS_ALLOW_INSECURE_TLS = 'true';

    const persistence: CosmosPersistence = await persistCosmos(cosmos, path.join(dataDir, 'cosmos.json'), {
      onError: (err) => log(`[cosmos] snapshot failed: ${err instanceof Error ? err.message : String(err)}`),
      onWarning: (message) => log(`[cosmos] ${message}`),
    });
    started.push(persistence);

    const worker = defaultWorker();
    if (options.log) {
      const sink = options.log;
      worker.setLogSink((entry) => {
        const line = formatLogEntry(entry);
        if (line !== undefined) sink(line);
      });
    }
    let loaded: string[] = [];
    try {
      loaded = loadApp(worker, appDir, options.main);
    } catch (err) {
      // A product with no functions yet still gets its services; anything else is fatal.
      const noEntries = (() => {
        try {
          entryPoints(appDir, options.main);
          return false;
        } catch {
          return true;
        }
      })();
      if (!noEntries) throw err;
      log(`[host] ${err instanceof Error ? err.message : String(err)} Starting with no functions.`);
    }

    const engine = new DurableEngine({
      storePath: path.join(dataDir, 'durable', 'taskhub.sqlite'),
      invoker: workerInvoker(worker),
      taskHubName: env.TASK_HUB_NAME || 'DevHostHub',
      log,
    });
    started.push({ stop: () => engine.stop() });
    // Azure always has a master key; when the settings give none, this run makes one up.
    const generatedKey = !env.DEVHOST_MASTER_KEY;
    if (generatedKey) env.DEVHOST_MASTER_KEY = randomBytes(24).toString('base64url');
    const masterKey = env.DEVHOST_MASTER_KEY!;
    const maxRequestBodyBytes = requestBodyLimit(env);
    const api = createDurableHttpApi(engine, { systemKey: masterKey, maxRequestBodyBytes });
    const host = await startHost({
      worker,
      appDir,
      port: options.port ?? 7071,
      durable: api,
      listeners: options.listeners ?? [],
      blobPollIntervalMs: options.blobPollIntervalMs,
      maxRequestBodyBytes,
      log,
    });
    started.push(host);
    engine.start();

    const endpoints: Record<string, string> = {
      host: host.origin,
      durable: `${host.origin}/runtime/webhooks/durabletask`,
      admin: `${host.origin}/admin/functions/{name} (POST, master key: runs a timer, blob or Service Bus function now)`,
      azuriteBlob: `http://127.0.0.1:${azurite.blobPort}/devstoreaccount1`,
      azuriteQueue: `http://127.0.0.1:${azurite.queuePort}/devstoreaccount1`,
      azuriteTable: `http://127.0.0.1:${azurite.tablePort}/devstoreaccount1`,
      cosmos: cosmos.endpoint,
    };
    const summary = [
      `settings: ${settingsFile ? path.relative(appDir, settingsFile) : '(none)'}; data: ${path.relative(appDir, dataDir) || '.'}`,
      `functions loaded from ${loaded.length} file(s): ${worker.listFunctions().length}`,
      ...host.http.routes.map((r) => `  ${r.functionName}: [${r.methods.join(',')}] ${r.url}${r.authLevel === 'anonymous' ? '' : ` (${r.authLevel} key)`}`),
      ...host.timers.functions.map((t) => `  ${t.functionName}: timer '${t.schedule}'`),
      ...host.blobs.functions.map((b) => `  ${b.functionName}: blob ${b.path} (${b.source}, polled)`),
      ...worker.functionsByTrigger('orchestrationTrigger').map((f) => `  ${f.name}: orchestrator`),
      ...worker.functionsByTrigger('activityTrigger').map((f) => `  ${f.name}: activity`),
      ...host.unserved.map((line) => `  ${line}`),
      ...Object.entries(endpoints).map(([k, v]) => `${k.padEnd(12)} ${v}`),
      // What `mlops lake` needs to reach this Azurite, ready to paste into the shell that runs it.
      `mlops lake   export STORAGE_CONNECTION_STRING='${cliStorageSetting(azurite)}'`,
      `cosmos documents restored: ${persistence.restored}`,
      generatedKey
        ? `master key (DEVHOST_MASTER_KEY is not set; made up for this run): ${masterKey}`
        : 'master key: DEVHOST_MASTER_KEY (admin routes and /runtime/webhooks/durabletask take it as code= or x-functions-key)',
    ];
    let stopping: Promise<void> | undefined;
    return {
      host,
      engine,
      masterKey,
      azurite,
      cosmos,
      endpoints,
      summary,
      stop: () => {
        stopping ??= stopStarted();
        return stopping;
      },
    };
  } catch (err) {
    await stopStarted();
    throw err;
  }
}

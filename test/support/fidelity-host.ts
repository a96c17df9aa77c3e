/**
 * One devhost for a fidelity suite file: the fidelity app (`test/fidelity-app`) loaded into this
 * module registry's worker, a Durable engine on a temporary task hub, and the host on a free
 * port, using the local services the integration global setup started. A real `DurableClient`
 * talks to it over HTTP, as a function's `df.getClient(context)` would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { createDurableHttpApi, DurableEngine, workerInvoker } from '../../devhost/durable';
import { type RunningHost, startHost, type TriggerListener } from '../../devhost/host/host';
import { LOCAL_COSMOS_KEY } from '../../devhost/services/cosmos';
import { defaultWorker, type FunctionsWorker, loadApp } from '../../devhost/worker';

export const fidelityAppDir = path.join(__dirname, '../fidelity-app');

export interface FidelityHost {
  worker: FunctionsWorker;
  engine: DurableEngine;
  host: RunningHost;
  client: df.DurableClient;
  /** `{origin}/runtime/webhooks/durabletask/{relative}` */
  durableUrl(relative: string): string;
  /** Host and worker log lines. */
  lines: string[];
  stop(): Promise<void>;
}

/** The fidelity app's binding connections: Azurite, and Cosmos as an emulator connection string would name it. */
export const fidelitySettings = {
  StorageConnString: process.env.AzureWebJobsStorage ?? '',
  FidelityCosmos: `AccountEndpoint=https://localhost:8081/;AccountKey=${LOCAL_COSMOS_KEY};`,
};

export async function startFidelityHost(options: { listeners?: TriggerListener[] } = {}): Promise<FidelityHost> {
  Object.assign(process.env, fidelitySettings);
  const lines: string[] = [];
  const worker = defaultWorker();
  worker.setLogSink((entry) => lines.push(`${entry.functionName ?? ''} ${entry.message}`));
  // Files the test file imported already are in the module cache: they do not register twice.
  loadApp(worker, fidelityAppDir);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-'));
  const engine = new DurableEngine({
    storePath: path.join(dataDir, 'hub.sqlite'),
    invoker: workerInvoker(worker, { quietActivities: true }),
    log: (line) => lines.push(line),
  });
  const api = createDurableHttpApi(engine);
  const host = await startHost({
    worker,
    appDir: fidelityAppDir,
    port: 0,
    durable: api,
    listeners: options.listeners ?? [],
    log: (line) => lines.push(line),
  });
  engine.start();
  const clientInput = df.input.durableClient();
  const context = new InvocationContext({ functionName: 'fidelityStarter', options: { extraInputs: [clientInput] } });
  context.extraInputs.set(clientInput, api.clientPayload(host.origin));
  return {
    worker,
    engine,
    host,
    client: df.getClient(context),
    durableUrl: (relative) => `${host.origin}/runtime/webhooks/durabletask/${relative}`,
    lines,
    stop: async () => {
      await host.stop();
      await engine.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

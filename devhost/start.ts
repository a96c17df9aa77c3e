/**
 * `npm start`: runs the function app locally with its services (see docs/devhost.md).
 *
 *   node dist/devhost/start.js [--app DIR] [--main GLOB] [--port N] [--data DIR] [--free-ports] [--blob-poll-ms N]
 *
 * Prints `devhost ready in N ms` and the endpoints once everything listens; Ctrl-C or SIGTERM
 * stops the host, drains the task hub, snapshots Cosmos and stops the services.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { lockDataDir } from './data-lock';
import { cosmosPortOf, startDevhost } from './devhost';
import { hostPortOf, readHostJson, readLocalSettings, serviceBusOptionsOf } from './host/settings';
import { startServiceBusBroker } from './servicebus/broker';
import { ensurePortsFree } from './services/ports';
import { describeStartFailure } from './startup-error';
import { serviceBusListener } from './triggers/servicebus';

async function main(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    options: {
      app: { type: 'string' },
      main: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      'free-ports': { type: 'boolean', default: false },
      'blob-poll-ms': { type: 'string' },
      'servicebus-config': { type: 'string' },
    },
  });
  const blobPoll = values['blob-poll-ms'] === undefined ? undefined : Number(values['blob-poll-ms']);

  const appDir = values.app ?? process.cwd();
  const dataDir = values.data ?? path.join(path.resolve(appDir), '.local');
  // Ctrl-C before devhost is ready: nothing has been served yet, so it exits now, through
  // process.exit so the lock goes (the services started so far end with the process: Azurite
  // watches its stdin pipe, the rest runs in it). Listened for before the lock is taken: a signal
  // right after the lock file appears must not find the default handler, which would leave it.
  const abortStart = (signal: NodeJS.Signals) => {
    process.stdout.write(`[devhost] ${signal} while starting: exiting\n`);
    process.exit(130);
  };
  process.on('SIGINT', abortStart);
  process.on('SIGTERM', abortStart);
  // One devhost per data folder: a second `npm start` there (with --free-ports) would write the
  // same Azurite, Cosmos, task hub and broker files.
  const unlock = lockDataDir(dataDir, (message) => process.stdout.write(`[devhost] ${message}\n`));
  process.on('exit', unlock);

  const localSettings = readLocalSettings(appDir).settings;
  const settings = localSettings.Values;
  const port = hostPortOf(values.port, process.env, localSettings);
  const standardPorts = !values['free-ports'];
  const freePortsFlag = '--free-ports (npm start -- --free-ports): Azurite, Cosmos DB and Service Bus on free ports';
  await ensurePortsFree([
    { port, what: 'the Functions host', instead: '--port N (npm start -- --port N) or DEVHOST_PORT=N (in the shell or local settings): the host on another port (0: any free one)' },
    ...(standardPorts
      ? [
          { port: 10000, what: 'Azurite Blob', instead: freePortsFlag },
          { port: 10001, what: 'Azurite Queue', instead: freePortsFlag },
          { port: 10002, what: 'Azurite Table', instead: freePortsFlag },
          { port: cosmosPortOf(process.env.COSMOS_ENDPOINT ?? settings.COSMOS_ENDPOINT), what: 'the Cosmos DB server, from COSMOS_ENDPOINT', instead: freePortsFlag },
          { port: 5672, what: 'the Service Bus broker', instead: freePortsFlag },
        ]
      : []),
  ]);
  // Service Bus: the local broker (5672 as the emulator, or a free port), its data beside the
  // others; the app's SERVICEBUS_CONNECTION_STRING points at it unless it names a real namespace.
  const serviceBus = await startServiceBusBroker({
    port: values['free-ports'] ? undefined : 5672,
    configPath: values['servicebus-config'],
    dataDir: path.join(dataDir, 'servicebus'),
  });
  const configured = process.env.SERVICEBUS_CONNECTION_STRING ?? String(settings.SERVICEBUS_CONNECTION_STRING ?? '');
  if (!configured || /UseDevelopmentEmulator=true/i.test(configured)) {
    process.env.SERVICEBUS_CONNECTION_STRING = serviceBus.connectionString;
  }
  const listener = serviceBusListener({ brokerConnectionString: serviceBus.connectionString, ...serviceBusOptionsOf(readHostJson(appDir)) });
  const devhost = await startDevhost({
    appDir,
    main: values.main,
    dataDir: values.data,
    port,
    servicePorts: values['free-ports'] ? 'free' : 'standard',
    blobPollIntervalMs: blobPoll,
    listeners: [listener],
  }).catch(async (err: unknown) => {
    await serviceBus.stop();
    throw err;
  });

  // One Ctrl-C under `npm start` arrives twice: the terminal signals npm and devhost, and npm
  // forwards its copy. A signal within DUPLICATE_MS of the first is that copy, not a second Ctrl-C.
  const DUPLICATE_MS = 500;
  let stoppingSince: number | undefined;
  const stop = (signal: string) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < DUPLICATE_MS) return;
      process.stdout.write(`[devhost] ${signal} again: exiting now\n`);
      process.exit(130);
    }
    stoppingSince = performance.now();
    process.stdout.write(`[devhost] ${signal}: stopping...\n`);
    devhost
      .stop()
      .then(() => serviceBus.stop())
      .then(
        () => {
          process.stdout.write('[devhost] stopped\n');
          process.exit(0);
        },
        (err: unknown) => {
          process.stderr.write(`[devhost] stop failed: ${String(err)}\n`);
          process.exit(1);
        },
      );
  };
  process.off('SIGINT', abortStart);
  process.off('SIGTERM', abortStart);
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  process.stdout.write(`${devhost.summary.join('\n')}\n`);
  for (const f of listener.served) {
    process.stdout.write(`  ${f.functionName}: serviceBusTrigger ${f.entity} (${f.cardinality})\n`);
  }
  process.stdout.write(`servicebus   ${serviceBus.connectionString}\n`);
  process.stdout.write(`devhost ready in ${Math.round(performance.now() - started)} ms: ${devhost.endpoints.host}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[devhost] failed to start: ${describeStartFailure(err)}\n`);
  process.exit(1);
});

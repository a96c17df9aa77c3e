import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AmqpListener } from './amqp';
import {
  type BrokerConfig,
  type BrokerConfigInput,
  loadBrokerConfig,
  parseBrokerConfig,
} from './broker-config';
import { BrokerEngine } from './engine';
import { MessageStore } from './store';

/** The config shipped with devhost: the product's queue and topic. */
export const DEFAULT_CONFIG_PATH = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'devhost',
  'servicebus',
  'config.json',
);

export interface ServiceBusBrokerOptions {
  /** Loopback port; a free one when omitted. */
  port?: number;
  /** A config file like the official emulator's Config.json (default: devhost/servicebus/config.json). */
  configPath?: string;
  /** The config as an object (takes precedence over configPath). */
  config?: BrokerConfigInput;
  /** Folder for the message store; a temporary folder (deleted on stop) when omitted. */
  dataDir?: string;
  /** How often locks, schedules and expiry are checked, in ms (default 100). */
  sweepIntervalMs?: number;
  /** Where protocol and sweep errors go (default: stderr). */
  log?: (line: string) => void;
}

export interface RunningServiceBusBroker {
  /** `Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true` for ServiceBusClient. */
  connectionString: string;
  port: number;
  dataDir: string;
  config: BrokerConfig;
  engine: BrokerEngine;
  stop(): Promise<void>;
}

function resolveConfigPath(configPath: string | undefined): string {
  if (configPath) return configPath;
  // Compiled code runs from dist/devhost/servicebus; the JSON file stays in the source tree.
  const beside = path.join(__dirname, 'config.json');
  return fs.existsSync(beside) ? beside : DEFAULT_CONFIG_PATH;
}

/**
 * Starts the local Service Bus broker on 127.0.0.1: an AMQP 1.0 server that the real
 * `@azure/service-bus` client accepts with `UseDevelopmentEmulator=true`, with messages kept in
 * SQLite under `dataDir` so a restart (even after SIGKILL) loses nothing that was not completed.
 */
export async function startServiceBusBroker(
  options: ServiceBusBrokerOptions = {},
): Promise<RunningServiceBusBroker> {
  const config = options.config
    ? parseBrokerConfig(options.config, 'options.config')
    : loadBrokerConfig(resolveConfigPath(options.configPath));
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'servicebus-'));
  const store = new MessageStore(path.join(dataDir, 'messages.sqlite'));
  const engine = new BrokerEngine(config, store);
  const listener = new AmqpListener(engine, {
    port: options.port ?? 0,
    log,
  });
  let port: number;
  try {
    port = await listener.listen();
  } catch (e) {
    store.close();
    throw e;
  }
  const timer = setInterval(() => {
    try {
      engine.sweep();
    } catch (e) {
      // A failed sweep (e.g. the disk is full) is retried on the next tick rather than killing devhost.
      log(`[servicebus] sweep failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, options.sweepIntervalMs ?? 100);
  timer.unref();
  let stopped = false;
  return {
    connectionString:
      `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;` +
      'SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    port,
    dataDir,
    config,
    engine,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await listener.close();
      store.close();
      if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

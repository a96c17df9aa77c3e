import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

import { freePort, waitForPort } from './ports';

/** Azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Folder for persistent data; omit for in-memory storage (tests). */
  location?: string;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /**
   * End Azurite when this process ends, even by SIGKILL: the child watches its stdin pipe, which
   * the OS closes when the parent dies (so a killed devhost does not leave Azurite holding ports).
   */
  exitWithParent?: boolean;
  /**
   * Called when Azurite ends other than through `stop()` (killed, crashed), with how it ended:
   * nothing else would tell, as every later storage call only fails to connect.
   */
  onUnexpectedExit?: (how: string) => void;
}

// When the parent dies (its end of the stdin pipe closes) Azurite shuts down through its own
// SIGTERM handler, which saves its metadata database: exiting at once would lose the blobs written
// since its last autosave, though their bytes are on disk. unref: the watcher must not keep
// Azurite alive after that shutdown.
const EXIT_WITH_PARENT =
  'data:text/javascript,const bye=()=>process.kill(process.pid,"SIGTERM");process.stdin.on("end",bye);process.stdin.on("error",bye);process.stdin.resume();process.stdin.unref();';

export interface RunningAzurite {
  connectionString: string;
  blobPort: number;
  queuePort: number;
  tablePort: number;
  /** The child process's id. */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Azurite's standard ports, the ones `UseDevelopmentStorage=true` names. */
export const AZURITE_STANDARD_PORTS = { blobPort: 10000, queuePort: 10001, tablePort: 10002 } as const;

/**
 * The STORAGE_CONNECTION_STRING a command line (`mlops lake`) sets to reach this Azurite.
 * `UseDevelopmentStorage=true` means the standard ports only: on free ports it reaches another
 * Azurite (another engineer's devhost) or nothing, so there it is the full connection string.
 */
export function cliStorageSetting(azurite: Pick<RunningAzurite, 'connectionString' | 'blobPort' | 'queuePort' | 'tablePort'>): string {
  const standard = azurite.blobPort === AZURITE_STANDARD_PORTS.blobPort && azurite.queuePort === AZURITE_STANDARD_PORTS.queuePort && azurite.tablePort === AZURITE_STANDARD_PORTS.tablePort;
  return standard ? 'UseDevelopmentStorage=true' : azurite.connectionString;
}

/** Attempts at free ports: another process may take a port between freePort() and Azurite's bind. */
const FREE_PORT_ATTEMPTS = 3;

/**
 * Starts Azurite 3.35 as a child process on loopback. `require('azurite')` does not work (it wants
 * vscode), so the CLI entry point is spawned with the current Node binary. Ports left to it are
 * chosen free; if one was taken meanwhile (EADDRINUSE), it starts again on new ones.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const choosesPorts = options.blobPort === undefined || options.queuePort === undefined || options.tablePort === undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startAzuriteOnce({
        ...options,
        blobPort: options.blobPort ?? (await freePort()),
        queuePort: options.queuePort ?? (await freePort()),
        tablePort: options.tablePort ?? (await freePort()),
      });
    } catch (error) {
      const taken = error instanceof Error && error.message.includes('EADDRINUSE');
      if (!taken || !choosesPorts || attempt >= FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

async function startAzuriteOnce(options: AzuriteOptions & { blobPort: number; queuePort: number; tablePort: number }): Promise<RunningAzurite> {
  const { blobPort, queuePort, tablePort } = options;
  const entry = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');
  const args = [
    entry,
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--loose',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(blobPort),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(queuePort),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(tablePort),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
  ];
  const nodeArgs = options.exitWithParent ? ['--import', EXIT_WITH_PARENT] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    stdio: [options.exitWithParent ? 'pipe' : 'ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`azurite exited with ${code}: ${stderr}`))),
  );
  await Promise.race([
    Promise.all([waitForPort(blobPort), waitForPort(queuePort), waitForPort(tablePort)]),
    exited,
  ]);
  exited.catch(() => undefined);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) options.onUnexpectedExit?.(signal ? `killed by ${signal}` : `exit code ${code}`);
  });

  const base = 'http://127.0.0.1';
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=${base}:${blobPort}/${AZURITE_ACCOUNT};QueueEndpoint=${base}:${queuePort}/${AZURITE_ACCOUNT};` +
    `TableEndpoint=${base}:${tablePort}/${AZURITE_ACCOUNT};`;

  return {
    connectionString,
    blobPort,
    queuePort,
    tablePort,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        // A child killed by a signal has no exit code, only a signal code; it will not exit again.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

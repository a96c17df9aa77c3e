/**
 * The product run as `npm start` runs it (devhost/start.ts in a child process, with its own
 * Azurite, Cosmos server and Service Bus broker on free ports), from the TypeScript sources, so
 * end-to-end tests talk to it over real HTTP and can kill it like a crashed host.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';

import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../devhost/services/azurite';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from './model-kit';

const root = `${__dirname}/../..`;

/** Development tokens the tests use (devhost injects their principals). */
export const TEST_IDENTITIES = {
  reader: { name: 'rita.reader@contoso.example', roles: ['MLOps.Reader'] },
  contributor: { name: 'carlos.contributor@contoso.example', roles: ['MLOps.Contributor'] },
  approver: { name: 'ana.approver@contoso.example', roles: ['MLOps.Approver'] },
  approver2: { name: 'arne.approver@contoso.example', roles: ['MLOps.Approver'] },
  admin: { name: 'adam.admin@contoso.example', roles: ['MLOps.Admin'] },
  /** Registers and approves: separation of duties must stop them on their own versions. */
  lead: { name: 'lea.lead@contoso.example', roles: ['MLOps.Contributor', 'MLOps.Approver'] },
} as const;
export type TestIdentity = keyof typeof TEST_IDENTITIES;

export interface ProductDevhost {
  origin: string;
  /** The devhost process (the host and the worker are one process, as `npm start` runs them). */
  pid: number;
  serviceBusConnectionString: string;
  blobConnectionString: string;
  /** The data container (DATA_CONTAINER). */
  container(): ContainerClient;
  output: string[];
  /** SIGKILL, as a crashed host. */
  kill(): Promise<void>;
  /** SIGTERM: drains and stops. */
  stop(): Promise<void>;
}

export interface ProductDevhostOptions {
  dataDir: string;
  env?: Record<string, string>;
  /** How long to wait for `devhost ready`. */
  timeoutMs?: number;
}

/** Starts the product under devhost and resolves once it prints `devhost ready`. */
export async function startProductDevhost(options: ProductDevhostOptions): Promise<ProductDevhost> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      `${root}/test/support/register-ts.js`,
      `${root}/devhost/start.ts`,
      '--app',
      root,
      '--main',
      '{functions,orchestrations}/**/*.ts',
      '--free-ports',
      '--port',
      '0',
      '--data',
      options.dataDir,
      '--blob-poll-ms',
      '200',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SERVICEBUS_CONNECTION_STRING: '',
        DEVHOST_IDENTITIES: JSON.stringify(Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v]))),
        ...options.env,
      },
    },
  );
  const output: string[] = [];
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devhost did not start in time:\n${output.join('\n')}`)), options.timeoutMs ?? 60_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('devhost ready')) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devhost exited with ${code}:\n${output.join('\n')}`));
    });
  });
  const line = (prefix: string) => output.find((l) => l.startsWith(prefix))?.slice(prefix.length).trim() ?? '';
  const blobEndpoint = line('azuriteBlob');
  const blobConnectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`;
  const dataContainer = options.env?.DATA_CONTAINER ?? 'mlops';
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    origin: /(http:\/\/127\.0\.0\.1:\d+)/.exec(ready)![1]!,
    pid: child.pid!,
    serviceBusConnectionString: line('servicebus'),
    blobConnectionString,
    container: () => BlobServiceClient.fromConnectionString(blobConnectionString).getContainerClient(dataContainer),
    output,
    kill: () => stopWith('SIGKILL'),
    stop: () => stopWith('SIGTERM'),
  };
}

/** A client of the API as one of the test identities (or anonymous). */
export function apiClient(origin: string, who?: TestIdentity) {
  const auth: Record<string, string> = who ? { authorization: `Bearer token-${who}` } : {};
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${origin}/api/${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are checked field by field in the tests
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, body: json };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    /** A multipart registration: the manifest as a field, the artifact as a file. */
    register: async (model: string, manifest: unknown, onnx: Buffer, headers: Record<string, string> = {}) => {
      const form = new FormData();
      form.set('manifest', JSON.stringify(manifest));
      form.set('artifact', new Blob([new Uint8Array(onnx)]), 'model.onnx');
      const response = await fetch(`${origin}/api/models/${model}/versions`, { method: 'POST', headers: { ...auth, ...headers }, body: form });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Makes v1 of the model kit's regional model (`model`, quick validation gates) champion the way a
 * team does, over the API: define it, upload its validation set with `upload`, register v1,
 * approve it once its lifecycle waits for approval, wait until its lifecycle has ended and it is
 * champion. `policies` are added to the quick validation gates; `training` also uploads a training
 * set v1 names (what the built-in trainer falls back on without labelled rows).
 */
export async function regionalChampion(
  origin: string,
  model: string,
  upload: (name: string, body: string) => Promise<unknown>,
  options: { policies?: Record<string, unknown>; training?: boolean } = {},
): Promise<void> {
  await apiClient(origin, 'contributor').post('models', aRegionalModel(model, { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 20 }, ...options.policies }));
  await upload(`datasets/${model}/validation.csv`, toCsv(regionalRows(200, 1)));
  const datasets = [{ role: 'validation', uri: `datasets/${model}/validation.csv` }];
  if (options.training) {
    await upload(`datasets/${model}/training.csv`, toCsv(regionalRows(400, 2)));
    datasets.push({ role: 'training', uri: `datasets/${model}/training.csv` });
  }
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets });
  await apiClient(origin, 'contributor').register(model, pkg.manifest, pkg.onnx);
  // Approve once the lifecycle waits for it: the recordValidation activity moves the version first
  // and then publishes and records that transition; an approval in between would publish it itself.
  const pending = await eventually('the lifecycle to wait for approval', async () => {
    const v = await apiClient(origin, 'reader').get(`models/${model}/versions/1`);
    return v.body?.lifecycle?.customStatus?.step === 'pending_approval' ? v.body : undefined;
  });
  await apiClient(origin, 'approver').post(`models/${model}/versions/1/approve`, { evidenceHash: pending.version.evidenceHash });
  // The champion pointer moves first; v1's state, the ledger entries and their events follow, and
  // the lifecycle ends after them: callers go on once nothing of the promotion is left to happen.
  await eventually('the lifecycle of v1 to end', async () => {
    const v = await apiClient(origin, 'reader').get(`models/${model}/versions/1`);
    return v.body?.lifecycle?.runtimeStatus === 'Completed' ? true : undefined;
  });
  await eventually('a champion', async () => ((await apiClient(origin, 'reader').get(`models/${model}/champion`)).body?.version === 1 ? true : undefined));
}

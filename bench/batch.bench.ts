/**
 * Batch inference through the orchestration vs the same pipeline in one process:
 *  - orchestrated: a 1M-row CSV written to `drops/{model}/` in Azurite, scored by devhost (npm
 *    start's own code in a child process: the blob trigger, `batchInference`, its activities,
 *    Cosmos documents), timed from the end of the upload to the run's completion;
 *  - reference: the same file planned and scored in this process by the same use cases
 *    (`scoreRunChunk` with its window profiles, `completeRun`), against the same Azurite and
 *    Cosmos, with the same number of chunks in flight.
 * The ratio isolates what the orchestration adds (trigger latency, durable history, activity
 * dispatch). Target: <= 1.3. Each side runs twice; the second (steady state) is the figure, the
 * first is printed as the cold first drop.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { BlobServiceClient } from '@azure/storage-blob';

import { AZURITE_ACCOUNT, AZURITE_KEY } from '../devhost/services/azurite';
import { blobDataLake } from '../shared/adapters/blob/data-lake';
import { cosmosModelRegistry } from '../shared/adapters/cosmos/model-registry';
import { cosmosRunStore } from '../shared/adapters/cosmos/run-store';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { systemClock } from '../shared/adapters/system-clock';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import { type BatchDeps, completeRun, planRun, type ScoredChunk, scoreRunChunk, startRun, VersionCache } from '../shared/usecases/batch-inference';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../test/support/model-kit';

const ROWS = Number(process.env.BATCH_BENCH_ROWS ?? 1_000_000);
const PARALLEL = Number(process.env.BATCH_BENCH_PARALLEL ?? 2);
const root = path.join(__dirname, '..', '..');
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

interface Devhost {
  origin: string;
  output: string[];
  stop(): Promise<void>;
}

async function startDevhost(dataDir: string): Promise<Devhost> {
  const child = spawn(process.execPath, [path.join(root, 'dist/devhost/start.js'), '--app', root, '--free-ports', '--port', '0', '--data', dataDir, '--blob-poll-ms', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SERVICEBUS_CONNECTION_STRING: '',
      BATCH_MAX_PARALLEL_CHUNKS: String(PARALLEL),
      DEVHOST_IDENTITIES: JSON.stringify({ c: { name: 'carlos', roles: ['MLOps.Contributor', 'MLOps.Reader'] }, a: { name: 'ana', roles: ['MLOps.Approver'] } }),
    },
  });
  const output: string[] = [];
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('devhost ready')) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`devhost exited with ${code}:\n${output.join('\n')}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { origin: /(http:\/\/127\.0\.0\.1:\d+)/.exec(ready)![1]!, output, stop: async () => (child.kill('SIGTERM'), await exited) };
}

const line = (output: string[], prefix: string) => output.find((l) => l.startsWith(prefix))!.slice(prefix.length).trim();

async function api(origin: string, token: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${origin}/api/${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 600_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-bench-'));
  const devhost = await startDevhost(dataDir);
  try {
    const blobEndpoint = line(devhost.output, 'azuriteBlob');
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`;
    // This process's adapters read the same services as the devhost child.
    process.env.STORAGE_CONNECTION_STRING = connectionString;
    process.env.COSMOS_ENDPOINT = line(devhost.output, 'cosmos');
    process.env.COSMOS_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';
    process.env.COSMOS_ALLOW_INSECURE_TLS = 'true';
    const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient('mlops');
    await container.createIfNotExists();

    await api(devhost.origin, 'c', 'POST', 'models', aRegionalModel('bench', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 20 } }));
    const validation = toCsv(regionalRows(500, 1));
    await container.getBlockBlobClient('datasets/bench/validation.csv').upload(validation, validation.length);
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: 'datasets/bench/validation.csv' }] });
    const form = new FormData();
    form.set('manifest', JSON.stringify(pkg.manifest));
    form.set('artifact', new Blob([new Uint8Array(pkg.onnx)]), 'model.onnx');
    await fetch(`${devhost.origin}/api/models/bench/versions`, { method: 'POST', headers: { authorization: 'Bearer c' }, body: form });
    const pending = await until(async () => {
      const v = await api(devhost.origin, 'c', 'GET', 'models/bench/versions/1');
      return v.version?.state === 'pending_approval' ? v : undefined;
    });
    await api(devhost.origin, 'a', 'POST', 'models/bench/versions/1/approve', { evidenceHash: pending.version.evidenceHash });
    await until(async () => ((await api(devhost.origin, 'c', 'GET', 'models/bench/champion')).version === 1 ? true : undefined));

    let t0 = process.hrtime.bigint();
    const csv = Buffer.from(toCsv(regionalRows(ROWS, 42)));
    console.log(`generated ${ROWS.toLocaleString('en-US')} rows: ${(csv.length / 1024 / 1024).toFixed(0)} MB CSV in ${seconds(t0).toFixed(1)} s; ${PARALLEL} chunks in flight`);

    const orchestrated: number[] = [];
    for (let i = 0; i < 2; i++) {
      const name = `drops/bench/orchestrated-${i}.csv`;
      await container.getBlockBlobClient(name).uploadData(csv);
      t0 = process.hrtime.bigint();
      await until(async () => {
        const runs = (await api(devhost.origin, 'c', 'GET', 'models/bench/runs')).runs as { state: string; sources: { path: string }[] }[];
        return runs.find((r) => r.sources[0]!.path === name && r.state === 'completed');
      });
      orchestrated.push(seconds(t0));
    }

    const runtime = new OnnxModelRuntime();
    const lake = blobDataLake();
    const deps: BatchDeps = { registry: cosmosModelRegistry(), runs: cosmosRunStore(), lake, files: new LakeTabularFiles(lake), runtime, clock: systemClock, cache: new VersionCache() };
    const direct: number[] = [];
    for (let i = 0; i < 2; i++) {
      const name = `drops/bench/scheduled/direct-${i}.csv`; // not picked up by the drop trigger
      const info = await lake.write(name, csv);
      t0 = process.hrtime.bigint();
      const source = { path: name, etag: info.etag, size: info.size, lastModified: new Date().toISOString() };
      const runId = `direct-${i}-${Date.now()}`;
      await startRun(deps, { model: 'bench', runId, instanceId: 'bench', kind: 'batch', sources: [source] });
      const plan = await planRun(deps, { model: 'bench', runId });
      if ('failed' in plan) throw new Error(plan.failed);
      const scored: ScoredChunk[] = [];
      for (let start = 0; start < plan.chunks.length; start += PARALLEL) {
        const wave = plan.chunks.slice(start, start + PARALLEL);
        scored.push(...(await Promise.all(wave.map((planned) => scoreRunChunk(deps, { model: 'bench', runId, version: 1, planned, arrival: source.lastModified })))));
      }
      await completeRun(deps, { model: 'bench', runId, version: 1, chunks: scored });
      direct.push(seconds(t0));
    }
    await runtime.close();

    const rate = (s: number) => Math.round(ROWS / s).toLocaleString('en-US');
    console.log('\nscenario                         seconds       rows/s');
    console.log(`orchestrated (devhost), cold    ${orchestrated[0]!.toFixed(2).padStart(8)} ${rate(orchestrated[0]!).padStart(12)}`);
    console.log(`orchestrated (devhost)          ${orchestrated[1]!.toFixed(2).padStart(8)} ${rate(orchestrated[1]!).padStart(12)}`);
    console.log(`same pipeline, one process, cold${direct[0]!.toFixed(2).padStart(8)} ${rate(direct[0]!).padStart(12)}`);
    console.log(`same pipeline, one process      ${direct[1]!.toFixed(2).padStart(8)} ${rate(direct[1]!).padStart(12)}`);
    console.log(`\nratio orchestrated / one process: ${(orchestrated[1]! / direct[1]!).toFixed(2)} (target <= 1.3)`);
    console.log(`  cold first drop (devhost just started) / steady state on devhost: ${(orchestrated[0]! / orchestrated[1]!).toFixed(2)}`);
  } finally {
    await devhost.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

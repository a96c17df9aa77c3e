/**
 * Actuals join benchmark (one run, figures side by side):
 *  - 5M stored predictions (20 Parquet parts of 250k rows from 5 completed runs, in the layout and
 *    encoding batch inference writes) and 1M actuals (Parquet: 99% match, 1% have no prediction)
 *    in Azurite (in memory, as the scoring bench runs it), run documents, windows and records on
 *    the local Cosmos DB server;
 *  - the join as `actualsJoin` runs it (plan, buckets, windows, record) in a fresh process with
 *    the default settings, twice, the second reported, and that process's peak RSS (VmHWM);
 *  - DuckDB joining the same Parquet files from local disk with the same rule (the latest run's
 *    prediction, the last actuals row of an id) into a labelled Parquet file plus the unmatched
 *    actuals, twice, the second reported;
 *  - DuckDB as the join engine through the lake: the same join after downloading the files from
 *    Azurite, its labelled files (one per window) and unmatched actuals uploaded back, printed
 *    with its ratio to the DuckDB join: how near a native engine would come to the target here.
 * The ratio compares the join proper (plan and buckets: reading, joining, writing labelled rows
 * and quarantine) with DuckDB; the file's realised metrics (which a single bucket computes from
 * what it holds, timed by the bucket's own durations), window metrics and the record are printed
 * beside it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Container } from '@azure/cosmos';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

import { startAzurite } from '../devhost/services/azurite';
import { startCosmos } from '../devhost/services/cosmos';
import { localCosmosClient } from '../devhost/services/cosmos-snapshot';
import { BlobDataLake } from '../shared/adapters/blob/data-lake';
import { cosmosRunStore } from '../shared/adapters/cosmos/run-store';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import { BufferedParquetSink } from '../shared/adapters/tabular/parquet-writer';
import { configSchema } from '../shared/config';
import { lakePaths } from '../shared/domain/lake-paths';
import { seededRandom } from '../shared/domain/random';
import type { RunStore } from '../shared/ports/run-store';
import type { ActualsJoinInput, BucketSummary } from '../shared/schemas/actuals';
import type { ModelDefinition } from '../shared/schemas/model';
import type { InferenceRun, PredictionManifest } from '../shared/schemas/monitoring';
import type { ActualsDeps } from '../shared/usecases/actuals/deps';
import { joinActualsBucket } from '../shared/usecases/actuals/join-bucket';
import { planActualsJoin } from '../shared/usecases/actuals/plan';
import { completeActualsJoin } from '../shared/usecases/actuals/record';
import { updateLabelledWindow } from '../shared/usecases/actuals/window';
import { OUTPUT_ROW_GROUP_ROWS, outputColumns } from '../shared/usecases/score-chunk';
import { aDemandModel } from '../test/support/actuals-kit';
import { InMemoryModelRegistry } from '../test/support/in-memory-registry';
import { peakRssBytes } from './peak-rss';

/** The product's default settings (shared/config.ts). */
const defaults = configSchema.parse({});

const PREDICTIONS = Number(process.env.ACTUALS_BENCH_PREDICTIONS ?? 5_000_000);
const ACTUALS = Number(process.env.ACTUALS_BENCH_ACTUALS ?? 1_000_000);
const PART_ROWS = 250_000;
const RUNS = 5;
const UNMATCHED_SHARE = 0.01;
const CONTAINER = 'bench';
const START = Date.UTC(2026, 2, 1);
const NOW = new Date(START + 70 * 86_400_000);
/** The actuals file, uploaded once outside `actuals/` and copied in for each pass (a new blob version). */
const STAGED_ACTUALS = lakePaths.report('bench-demand', 'actuals.parquet');

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const definition: ModelDefinition = aDemandModel({ name: 'bench-demand' });
const REGIONS = ['north', 'south', 'east'];
const runId = (k: number) => `run-${k + 1}`;
const predictionOf = (i: number) => (i % 1000) / 10;

/** The parts of run k as batch inference lays them out (outputColumns order, 65,536-row groups). */
function writeParts(dir: string): string[] {
  const files: string[] = [];
  const parts = Math.ceil(PREDICTIONS / PART_ROWS);
  const specs = outputColumns(definition);
  for (let p = 0; p < parts; p += 1) {
    const k = Math.floor((p * RUNS) / parts);
    const sink = new BufferedParquetSink();
    const first = p * PART_ROWS;
    const last = Math.min(PREDICTIONS, first + PART_ROWS);
    for (let g = first; g < last; g += OUTPUT_ROW_GROUP_ROWS) {
      const n = Math.min(OUTPUT_ROW_GROUP_ROWS, last - g);
      const values: Record<string, ArrayLike<string | number | null>> = {
        id: Array.from({ length: n }, (_, i) => `r${g + i}`),
        ts: Float64Array.from({ length: n }, (_, i) => START + (g + i) * 1000),
        region: Array.from({ length: n }, (_, i) => REGIONS[(g + i) % 3]!),
        prediction: Float64Array.from({ length: n }, (_, i) => predictionOf(g + i)),
        model_version: new Int32Array(n).fill(1),
        run_id: new Array<string>(n).fill(runId(k)),
        source_row: Int32Array.from({ length: n }, (_, i) => g + i - first + 1),
        source_file: new Array<string>(n).fill(`drops/bench-demand/${k}.csv`),
      };
      sink.writeRowGroup(specs.map((s) => ({ ...s, values: values[s.name]! })));
    }
    const file = path.join(dir, 'parts', runId(k), `part-${String(p).padStart(5, '0')}.parquet`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, sink.finish());
    files.push(file);
  }
  return files;
}

/** 1M actuals: every fifth prediction's id (sales = prediction + noise), 1% ids never scored. */
function writeActuals(file: string): void {
  const random = seededRandom(5);
  const sink = new BufferedParquetSink();
  for (let g = 0; g < ACTUALS; g += OUTPUT_ROW_GROUP_ROWS) {
    const n = Math.min(OUTPUT_ROW_GROUP_ROWS, ACTUALS - g);
    const ids = new Array<string>(n);
    const sales = new Float64Array(n);
    for (let i = 0; i < n; i += 1) {
      const a = g + i;
      const unmatched = random.next() < UNMATCHED_SHARE;
      const p = (a * 5 + 3) % PREDICTIONS;
      ids[i] = unmatched ? `u${a}` : `r${p}`;
      sales[i] = predictionOf(p) + (random.next() - 0.5) * 4;
    }
    sink.writeRowGroup([
      { name: 'id', type: 'string', values: ids },
      { name: 'sales', type: 'double', values: sales },
    ]);
  }
  fs.writeFileSync(file, sink.finish());
}

function runStoreOn(endpoint: string, key: string): RunStore {
  const database = localCosmosClient({ endpoint, key }).database('mlops');
  const containers = Object.fromEntries(['models', 'runs', 'audit'].map((id) => [id, database.container(id)])) as Record<'models' | 'runs' | 'audit', Container>;
  return cosmosRunStore(() => Promise.resolve(containers));
}

async function duckdbJoin(parts: string[], actuals: string, dir: string, threads?: number): Promise<{ seconds: number; matched: number; unmatched: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  if (threads !== undefined) await connection.run(`SET threads = ${threads}`);
  const list = `[${parts.map((p) => `'${p}'`).join(', ')}]`;
  const t0 = process.hrtime.bigint();
  await connection.run(`CREATE TEMP VIEW a AS SELECT id, sales AS actual, row_number() OVER () AS actuals_row FROM read_parquet('${actuals}')`);
  await connection.run(`COPY (
      SELECT p.*, a.actual, a.actuals_row FROM a JOIN read_parquet(${list}) p USING (id)
      QUALIFY row_number() OVER (PARTITION BY id ORDER BY p.run_id DESC, p.source_row DESC, a.actuals_row DESC) = 1
    ) TO '${dir}/duck-labelled.parquet' (FORMAT parquet)`);
  await connection.run(`COPY (SELECT * FROM a ANTI JOIN read_parquet(${list}) p USING (id)) TO '${dir}/duck-unmatched.json' (FORMAT json)`);
  const s = seconds(t0);
  const count = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRows()[0]![0]);
  const matched = await count(`SELECT count(*) FROM read_parquet('${dir}/duck-labelled.parquet')`);
  const unmatched = await count(`SELECT count(*) FROM read_json('${dir}/duck-unmatched.json')`);
  connection.closeSync();
  instance.closeSync();
  return { seconds: s, matched, unmatched };
}

/** Files moved between the lake and local disk at once by the lake-engine reference. */
const TRANSFER_PARALLELISM = 4;

async function inGroups<T>(items: readonly T[], size: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((item, j) => each(item, i + j)));
}

/**
 * A second reference: DuckDB as the join engine of the service, with the service's inputs and
 * outputs. It downloads the parts and the actuals file from Azurite to local disk, joins them on
 * two threads with the same rule as `duckdbJoin`, writes the labelled rows as one Parquet file per
 * daily window (as the join writes them) and the unmatched actuals, and uploads them all. What it
 * answers: how near a native Parquet engine would come to the target here, where the target
 * compares a join that reads and writes the lake with DuckDB reading and writing local disk.
 */
async function duckdbThroughLake(container: ContainerClient, partPaths: string[], actualsPath: string, dir: string): Promise<{ seconds: number; download: number; join: number; upload: number; files: number }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const work = fs.mkdtempSync(path.join(dir, 'lake-engine-'));
  try {
    const t0 = process.hrtime.bigint();
    const inputs = [...partPaths, actualsPath].map((p, i) => ({ lakePath: p, local: path.join(work, `input-${i}.parquet`) }));
    await inGroups(inputs, TRANSFER_PARALLELISM, ({ lakePath, local }) => container.getBlobClient(lakePath).downloadToFile(local).then(() => undefined));
    const download = seconds(t0);

    const t1 = process.hrtime.bigint();
    const actuals = inputs.at(-1)!.local;
    const list = `[${inputs.slice(0, -1).map((i) => `'${i.local}'`).join(', ')}]`;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`CREATE TEMP VIEW a AS SELECT id, sales AS actual, row_number() OVER () AS actuals_row FROM read_parquet('${actuals}')`);
    await connection.run(`COPY (
        SELECT p.*, a.actual, a.actuals_row, strftime(p.ts, '%Y%m%dT0000Z') AS window_id FROM a JOIN read_parquet(${list}) p USING (id)
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY p.run_id DESC, p.source_row DESC, a.actuals_row DESC) = 1
      ) TO '${work}/labelled' (FORMAT parquet, PARTITION_BY (window_id))`);
    await connection.run(`COPY (SELECT * FROM a ANTI JOIN read_parquet(${list}) p USING (id)) TO '${work}/unmatched.json' (FORMAT json)`);
    connection.closeSync();
    instance.closeSync();
    const join = seconds(t1);

    const t2 = process.hrtime.bigint();
    const labelled = path.join(work, 'labelled');
    const outputs = [path.join(work, 'unmatched.json'), ...fs.readdirSync(labelled).flatMap((w) => fs.readdirSync(path.join(labelled, w)).map((f) => path.join(labelled, w, f)))];
    await inGroups(outputs, TRANSFER_PARALLELISM, (file) => container.getBlockBlobClient(`lake-engine/${path.relative(work, file)}`).uploadFile(file).then(() => undefined));
    const upload = seconds(t2);
    return { seconds: seconds(t0), download, join, upload, files: outputs.length };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

interface JoinFigures {
  planSeconds: number;
  /** The buckets, less the time they spent on the file's realised metrics (fileMetricsSeconds). */
  bucketSeconds: number;
  fileMetricsSeconds: number;
  /** The buckets' own account of their time (summed over buckets), milliseconds per phase. */
  phasesMs: Record<string, number>;
  windowSeconds: number;
  completeSeconds: number;
  buckets: number;
  windows: number;
  matched: number;
  unmatched: number;
}

/** The join's steps in the orchestration's order, timed. */
async function joinOnce(deps: ActualsDeps, input: ActualsJoinInput): Promise<JoinFigures> {
  let t0 = process.hrtime.bigint();
  const planned = await planActualsJoin(deps, { ...input, instanceId: 'bench', at: NOW.toISOString() });
  if (planned.outcome !== 'planned') throw new Error(`not planned: ${planned.outcome}`);
  const planSeconds = seconds(t0);
  t0 = process.hrtime.bigint();
  const summaries: BucketSummary[] = [];
  for (let bucket = 0; bucket < planned.buckets; bucket += 1) summaries.push(await joinActualsBucket(deps, { model: input.model, actualsId: planned.actualsId, bucket }));
  const fileMetricsSeconds = summaries.reduce((sum, s) => sum + (s.durationsMs?.metrics ?? 0), 0) / 1000;
  const bucketSeconds = seconds(t0) - fileMetricsSeconds;
  const phasesMs: Record<string, number> = {};
  for (const s of summaries) for (const [phase, ms] of Object.entries(s.durationsMs ?? {})) phasesMs[phase] = (phasesMs[phase] ?? 0) + ms;
  t0 = process.hrtime.bigint();
  const windows = [...new Set(summaries.flatMap((s) => s.windows.map((w) => w.windowId)))].sort();
  for (let i = 0; i < windows.length; i += deps.settings.parallelism) {
    await Promise.all(windows.slice(i, i + deps.settings.parallelism).map((windowId) => updateLabelledWindow(deps, { model: input.model, actualsId: planned.actualsId, windowId })));
  }
  const windowSeconds = seconds(t0);
  t0 = process.hrtime.bigint();
  const { record } = await completeActualsJoin(deps, { model: input.model, actualsId: planned.actualsId, summaries, completedAt: NOW.toISOString() });
  const completeSeconds = seconds(t0);
  return { planSeconds, bucketSeconds, fileMetricsSeconds, phasesMs, windowSeconds, completeSeconds, buckets: planned.buckets, windows: windows.length, matched: record.matched, unmatched: record.unmatched };
}

/** Child mode: join the actuals twice (a new blob version each time) and report the figures and peak RSS. */
async function child(connectionString: string, cosmosEndpoint: string, cosmosKey: string): Promise<void> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(CONTAINER);
  const lake = new BlobDataLake(() => Promise.resolve(container));
  const registry = new InMemoryModelRegistry();
  await registry.createModel({ modelName: definition.name, definition, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString(), createdBy: 'bench', latestVersion: 1 });
  const deps: ActualsDeps = {
    registry,
    runs: runStoreOn(cosmosEndpoint, cosmosKey),
    lake,
    files: new LakeTabularFiles(lake),
    events: { publish: () => Promise.resolve(), publishAll: () => Promise.resolve() },
    clock: { now: () => NOW },
    settings: {
      lookback: defaults.ACTUALS_LOOKBACK,
      bucketRows: Number(process.env.ACTUALS_BENCH_BUCKET_ROWS ?? defaults.ACTUALS_BUCKET_ROWS),
      parallelism: defaults.ACTUALS_PARALLELISM,
      metricsMaxRows: defaults.ACTUALS_METRICS_MAX_ROWS,
      bootstrapResamples: Number(process.env.ACTUALS_BENCH_RESAMPLES ?? defaults.ACTUALS_BOOTSTRAP_RESAMPLES),
    },
  };
  const results: JoinFigures[] = [];
  for (let pass = 1; pass <= 2; pass += 1) {
    for await (const o of lake.list(lakePaths.datasetsFolder(definition.name))) await lake.delete(o.path);
    // Each pass starts from a collected heap: the first pass's garbage is not the second's cost.
    (globalThis as { gc?: () => void }).gc?.();
    // A new version of the blob: a new join.
    const info = await lake.copy(STAGED_ACTUALS, lakePaths.actuals(definition.name, `sales-${pass}.parquet`));
    results.push(await joinOnce(deps, { model: definition.name, path: info.path, etag: info.etag, size: info.size, lastModified: info.lastModified.toISOString() }));
  }
  process.stdout.write(`${JSON.stringify({ results, maxRssBytes: peakRssBytes() })}\n`);
}

function runChild(args: string[]): Promise<{ results: JoinFigures[]; maxRssBytes: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, __filename, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`join child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actuals-bench-'));
  const [azurite, cosmos] = await Promise.all([startAzurite(), startCosmos()]);
  try {
    let t0 = process.hrtime.bigint();
    const parts = writeParts(dir);
    const actualsFile = path.join(dir, 'actuals.parquet');
    writeActuals(actualsFile);
    const partsBytes = parts.reduce((s, p) => s + fs.statSync(p).size, 0);
    console.log(`generated ${PREDICTIONS.toLocaleString('en-US')} predictions in ${parts.length} parts (${mb(partsBytes)}) and ${ACTUALS.toLocaleString('en-US')} actuals (${mb(fs.statSync(actualsFile).size)}) in ${seconds(t0).toFixed(1)} s`);

    t0 = process.hrtime.bigint();
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CONTAINER);
    await container.create();
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runs = runStoreOn(cosmos.endpoint, cosmos.key);
    const { database } = await localCosmosClient(cosmos).databases.createIfNotExists({ id: 'mlops' });
    for (const id of ['models', 'runs', 'audit']) await database.containers.createIfNotExists({ id, partitionKey: { paths: ['/modelName'] } });
    for (let k = 0; k < RUNS; k += 1) {
      const mine = parts.filter((p) => p.includes(`/${runId(k)}/`));
      const manifestParts: PredictionManifest['parts'] = [];
      for (const file of mine) {
        const chunk = Number(/part-(\d+)/.exec(file)![1]);
        const lakePath = lakePaths.predictionPart(definition.name, 1, runId(k), chunk);
        await lake.write(lakePath, fs.createReadStream(file, { highWaterMark: 8 << 20 }));
        manifestParts.push({ path: lakePath, chunk, rows: PART_ROWS });
      }
      const createdAt = new Date(NOW.getTime() - (RUNS - k) * 86_400_000).toISOString();
      const rows = manifestParts.reduce((s, p) => s + p.rows, 0);
      const manifest: PredictionManifest = { schemaVersion: 1, model: definition.name, version: 1, runId: runId(k), sources: [{ path: `drops/bench-demand/${k}.csv`, etag: '"0x1"', size: 1 }], parts: manifestParts, rows, quarantinedRows: 0, columns: [], createdAt };
      await lake.write(lakePaths.predictionManifest(definition.name, 1, runId(k)), Buffer.from(JSON.stringify(manifest)));
      const run: InferenceRun = {
        runId: runId(k),
        modelName: definition.name,
        kind: 'batch',
        state: 'completed',
        sources: manifest.sources,
        instanceId: `batch:${runId(k)}`,
        version: 1,
        chunks: manifestParts.length,
        rowsRead: rows,
        rowsScored: rows,
        rowsQuarantined: 0,
        rejectionReasons: {},
        predictionsFolder: lakePaths.predictionsRunFolder(definition.name, 1, runId(k)),
        windows: [],
        createdAt,
        completedAt: createdAt,
      };
      await runs.runs.create(definition.name, run.runId, run);
    }
    await lake.write(STAGED_ACTUALS, fs.createReadStream(actualsFile, { highWaterMark: 8 << 20 }));
    console.log(`uploaded to Azurite (in memory), runs recorded in Cosmos in ${seconds(t0).toFixed(1)} s`);

    await duckdbJoin(parts, actualsFile, dir);
    const duck = await duckdbJoin(parts, actualsFile, dir);
    const duckOneThread = await duckdbJoin(parts, actualsFile, dir, 1);
    const partPaths: string[] = [];
    for await (const o of lake.list(`predictions/${definition.name}/`)) if (o.path.endsWith('.parquet')) partPaths.push(o.path);
    await duckdbThroughLake(container, partPaths, STAGED_ACTUALS, dir);
    const lakeEngine = await duckdbThroughLake(container, partPaths, STAGED_ACTUALS, dir);
    const ours = await runChild([azurite.connectionString, cosmos.endpoint, cosmos.key]);
    const [cold, warm] = ours.results as [JoinFigures, JoinFigures];
    const join = (r: JoinFigures) => r.planSeconds + r.bucketSeconds;
    const total = (r: JoinFigures) => join(r) + r.fileMetricsSeconds + r.windowSeconds + r.completeSeconds;

    console.log(`\n(ours: one process, default settings: ${warm.buckets} bucket(s), windows 4 at a time; the second of two runs, the first is "cold")`);
    console.log('\n                                   matched  unmatched   plan s  buckets s  join s  file metrics s  windows s  record s  total s');
    const line = (name: string, r: JoinFigures) =>
      console.log(
        `${name.padEnd(32)} ${String(r.matched).padStart(9)} ${String(r.unmatched).padStart(10)} ${r.planSeconds.toFixed(2).padStart(8)} ${r.bucketSeconds.toFixed(2).padStart(10)} ${join(r).toFixed(2).padStart(7)} ${r.fileMetricsSeconds.toFixed(2).padStart(15)} ${r.windowSeconds.toFixed(2).padStart(10)} ${r.completeSeconds.toFixed(2).padStart(9)} ${total(r).toFixed(2).padStart(8)}`,
      );
    line('actuals join (Azurite, Cosmos)', warm);
    line('actuals join, cold', cold);
    const duckLine = (name: string, d: typeof duck) =>
      console.log(`${name.padEnd(32)} ${String(d.matched).padStart(9)} ${String(d.unmatched).padStart(10)} ${''.padStart(8)} ${''.padStart(10)} ${d.seconds.toFixed(2).padStart(7)}`);
    duckLine(`DuckDB join (local disk, ${os.availableParallelism()} thr)`, duck);
    duckLine('DuckDB join, 1 thread', duckOneThread);
    console.log(`\nthe bucket's phases (second run): ${Object.entries(warm.phasesMs).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
    console.log(`${warm.windows} windows touched; ${warm.matched.toLocaleString('en-US')} labelled rows`);
    console.log(`ratio join (plan + buckets) / DuckDB join: ${(join(warm) / duck.seconds).toFixed(2)} (target <= 2.0)`);
    console.log(`  the whole join (with the file's and the windows' metrics and the record) / DuckDB join: ${(total(warm) / duck.seconds).toFixed(2)}`);
    console.log(`  join / DuckDB on one thread (one join activity is one thread): ${(join(warm) / duckOneThread.seconds).toFixed(2)}`);
    console.log(`peak RSS of the joining process (VmHWM): ${mb(ours.maxRssBytes)}`);
    console.log(
      `\nDuckDB as the engine through the lake (${partPaths.length} parts and the actuals downloaded from Azurite, joined on 2 threads, ${lakeEngine.files} files uploaded): ${lakeEngine.seconds.toFixed(2)} s (download ${lakeEngine.download.toFixed(2)}, join ${lakeEngine.join.toFixed(2)}, upload ${lakeEngine.upload.toFixed(2)}); / DuckDB join: ${(lakeEngine.seconds / duck.seconds).toFixed(2)}`,
    );
    console.log(`  join (plan + buckets) / DuckDB through the lake (the same inputs and outputs): ${(join(warm) / lakeEngine.seconds).toFixed(2)}`);
  } finally {
    await Promise.all([azurite.stop(), cosmos.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [, , mode, ...rest] = process.argv;
(mode === '--child' ? child(rest[0]!, rest[1]!, rest[2]!) : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

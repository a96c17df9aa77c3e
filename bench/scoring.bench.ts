/**
 * Batch scoring benchmark (one run, figures side by side):
 *  - end-to-end rows/s of one chunk and of a whole 1M-row x 20-column file, CSV and Parquet,
 *    read from and written to Azurite (Blob API), with one-hot and PCA in the transforms;
 *  - DuckDB converting the same CSV to Parquet on local disk (the read-parse-write floor) and our
 *    whole-file CSV time as a ratio of it (target <= 2.0);
 *  - the same file through a graph with one input per column (skl2onnx's Pipeline export, the
 *    preprocessing in the graph, no fitted transforms) beside the transforms + one-input model;
 *  - peak RSS of a separate process scoring a 5M-row CSV (target <= 512 MB).
 * Every scenario (and DuckDB) runs twice and the second run is reported (steady state); the first
 * whole-file CSV run is printed too, as the first drop after a cold start.
 * Data is generated into a temp dir; Azurite is started here (in-memory: the storage service does
 * not share our cores in production, and the emulator's disk layer would only add its own CPU
 * time to ours) and stopped at the end.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { BlobServiceClient } from '@azure/storage-blob';

import { startAzurite } from '../devhost/services/azurite';
import { BlobDataLake } from '../shared/adapters/blob/data-lake';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import type { DataLake } from '../shared/ports/data-lake';
import { modelInputSchema } from '../shared/schemas/model';
import type { ChunkPlan, ChunkSummary } from '../shared/schemas/scoring';
import { defaultChunkTargets, planChunks } from '../shared/usecases/plan-chunks';
import { scoreChunk, type ScoringVersion } from '../shared/usecases/score-chunk';
import { peakRssBytes } from './peak-rss';
import { benchModel, writeBenchCsv } from './scoring-data';
import { type BenchModel, benchTransformSpec, benchVersion } from './scoring-version';

const ROWS = Number(process.env.SCORING_BENCH_ROWS ?? 1_000_000);
const RSS_ROWS = Number(process.env.SCORING_BENCH_RSS_ROWS ?? 5_000_000);
const CONCURRENCY = Number(process.env.SCORING_BENCH_CONCURRENCY ?? 2);
const WORKERS = 2;

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function scoreFile(lake: DataLake, version: ScoringVersion, source: string, runId: string, onlyFirst = false) {
  const files = new LakeTabularFiles(lake);
  const t0 = process.hrtime.bigint();
  const plan: ChunkPlan = await planChunks({ files }, version.definition, source, defaultChunkTargets);
  const planSeconds = seconds(t0);
  const chunks = onlyFirst ? plan.chunks.slice(0, 1) : plan.chunks;
  const t1 = process.hrtime.bigint();
  const summaries: ChunkSummary[] = [];
  let next = 0;
  // Chunks run two at a time, as two activity invocations on one worker would.
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, chunks.length) }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        summaries.push(await scoreChunk({ lake, files }, version, { source, runId, chunk }));
      }
    }),
  );
  const scoreSeconds = seconds(t1);
  const rows = summaries.reduce((s, c) => s + c.rowsScored, 0);
  const rejected = summaries.reduce((s, c) => s + c.rowsRejected, 0);
  return { plan, planSeconds, scoreSeconds, total: planSeconds + scoreSeconds, rows, rejected, chunks: chunks.length };
}

interface ChunkJob {
  source: string;
  runId: string;
  chunk: ChunkPlan['chunks'][number];
  model: BenchModel;
}

/** Worker thread: one warm scorer per thread, like one activity worker per core. */
async function workerMain(): Promise<void> {
  const { connectionString, container } = workerData as { connectionString: string; container: string };
  const lake = new BlobDataLake(() => Promise.resolve(BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container)));
  const files = new LakeTabularFiles(lake);
  const runtime = new OnnxModelRuntime();
  const definition = modelInputSchema.parse(benchModel);
  const versions = { transforms: await benchVersion(runtime, definition), columns: await benchVersion(runtime, definition, 'columns') };
  parentPort!.on('message', (job: ChunkJob | 'stop') => {
    if (job === 'stop') {
      void runtime.close().then(() => parentPort!.close());
      return;
    }
    scoreChunk({ lake, files }, versions[job.model], job).then(
      (summary) => parentPort!.postMessage({ summary }),
      (e: unknown) => parentPort!.postMessage({ error: String(e) }),
    );
  });
  parentPort!.postMessage('ready');
}

class WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(n: number, connectionString: string, container: string): Promise<WorkerPool> {
    const workers = Array.from({ length: n }, () => new Worker(__filename, { workerData: { connectionString, container } }));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    return new WorkerPool(workers);
  }

  /** Scores a whole file: plan here, chunks fanned out to the workers. */
  async scoreFile(lake: DataLake, definition: ScoringVersion['definition'], source: string, runId: string, model: BenchModel = 'transforms') {
    const files = new LakeTabularFiles(lake);
    const t0 = process.hrtime.bigint();
    const plan = await planChunks({ files }, definition, source, defaultChunkTargets);
    const planSeconds = seconds(t0);
    const t1 = process.hrtime.bigint();
    const summaries: ChunkSummary[] = [];
    let next = 0;
    await Promise.all(
      this.workers.map(async (worker) => {
        while (next < plan.chunks.length) {
          const chunk = plan.chunks[next++]!;
          const reply = await new Promise<{ summary?: ChunkSummary; error?: string }>((resolve) => {
            worker.once('message', resolve);
            worker.postMessage({ source, runId, chunk, model } satisfies ChunkJob);
          });
          if (reply.error) throw new Error(reply.error);
          summaries.push(reply.summary!);
        }
      }),
    );
    const scoreSeconds = seconds(t1);
    const rows = summaries.reduce((s, c) => s + c.rowsScored, 0);
    return { plan, planSeconds, scoreSeconds, total: planSeconds + scoreSeconds, rows, chunks: plan.chunks.length };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise((resolve) => (w.postMessage('stop'), w.once('exit', resolve)))));
  }
}

async function duckdbCsvToParquet(csv: string, parquet: string): Promise<number> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const t0 = process.hrtime.bigint();
  await connection.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${parquet}' (FORMAT parquet)`);
  const s = seconds(t0);
  connection.closeSync();
  instance.closeSync();
  return s;
}

/** Child mode: score one blob end to end and report this process's peak RSS. */
async function rssChild(connectionString: string, container: string, source: string): Promise<void> {
  const lake = new BlobDataLake(() => Promise.resolve(BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container)));
  const runtime = new OnnxModelRuntime();
  const version = await benchVersion(runtime, modelInputSchema.parse(benchModel));
  const result = await scoreFile(lake, version, source, 'rss');
  process.stdout.write(
    JSON.stringify({ rows: result.rows, seconds: result.total, maxRssBytes: peakRssBytes() }) + '\n',
  );
  await runtime.close();
}

function runChild(args: string[]): Promise<{ rows: number; seconds: number; maxRssBytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--rss-child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`rss child exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scoring-bench-'));
  const azurite = await startAzurite();
  try {
    const containerName = 'bench';
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(containerName);
    await container.create();
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runtime = new OnnxModelRuntime();
    const definition = modelInputSchema.parse(benchModel);

    const csv = path.join(dir, 'drop.csv');
    let t0 = process.hrtime.bigint();
    const csvBytes = writeBenchCsv(csv, ROWS);
    console.log(`generated ${ROWS.toLocaleString('en-US')} rows x 20 columns: ${mb(csvBytes)} CSV in ${seconds(t0).toFixed(1)} s`);

    const parquet = path.join(dir, 'drop.parquet');
    // Run twice like our scenarios, the second one reported.
    await duckdbCsvToParquet(csv, parquet);
    const duckSeconds = await duckdbCsvToParquet(csv, parquet);
    await lake.write('drops/bench-churn/drop.csv', fs.createReadStream(csv, { highWaterMark: 8 << 20 }));
    await lake.write('drops/bench-churn/drop.parquet', fs.createReadStream(parquet, { highWaterMark: 8 << 20 }));

    t0 = process.hrtime.bigint();
    const version = await benchVersion(runtime, definition);
    console.log(`fitted transforms and loaded the model in ${seconds(t0).toFixed(2)} s (model input width ${benchTransformSpec.output.length})`);
    const columnsVersion = await benchVersion(runtime, definition, 'columns');

    const pool = await WorkerPool.start(WORKERS, azurite.connectionString, containerName);
    // Each scenario runs twice and the second run is reported: a scoring host that handles a
    // stream of drops has its code compiled by the optimizing JIT; the first drop after a cold
    // start is printed separately.
    const twice = async <T>(run: (pass: number) => Promise<T>) => [await run(1), await run(2)] as const;
    const csvOne = await twice((pass) => scoreFile(lake, version, 'drops/bench-churn/drop.csv', `csv-one-${pass}`, true));
    const csvAll = await twice((pass) => pool.scoreFile(lake, definition, 'drops/bench-churn/drop.csv', `csv-all-${pass}`));
    const pqOne = await twice((pass) => scoreFile(lake, version, 'drops/bench-churn/drop.parquet', `pq-one-${pass}`, true));
    const pqAll = await twice((pass) => pool.scoreFile(lake, definition, 'drops/bench-churn/drop.parquet', `pq-all-${pass}`));
    // The same data through a graph that takes one input per column and does its own preprocessing.
    const colOne = await twice((pass) => scoreFile(lake, columnsVersion, 'drops/bench-churn/drop.csv', `col-one-${pass}`, true));
    const colAll = await twice((pass) => pool.scoreFile(lake, definition, 'drops/bench-churn/drop.csv', `col-all-${pass}`, 'columns'));
    const colPqAll = await twice((pass) => pool.scoreFile(lake, definition, 'drops/bench-churn/drop.parquet', `col-pq-all-${pass}`, 'columns'));
    const results = [
      ['CSV, one chunk', csvOne[1]],
      ['CSV, whole file', csvAll[1]],
      ['Parquet, one chunk', pqOne[1]],
      ['Parquet, whole file', pqAll[1]],
      ['CSV, whole, cold', csvAll[0]],
      ['per-column inputs:', undefined],
      ['CSV, one chunk', colOne[1]],
      ['CSV, whole file', colAll[1]],
      ['Parquet, whole file', colPqAll[1]],
    ] as const;
    await pool.stop();
    console.log(`\n(one chunk: this thread; whole file: planned here, chunks fanned out to ${WORKERS} worker threads, as activities on ${WORKERS} cores;`);
    console.log(' each run after a first one that warms the JIT, except "cold": the first whole-file CSV run after the workers started)');
    console.log('\nscenario              chunks      rows   plan s  score s  total s     rows/s');
    for (const [name, r] of results)
      if (!r) console.log(name);
      else
        console.log(
        `${name.padEnd(20)} ${String(r.chunks).padStart(7)} ${String(r.rows).padStart(9)} ${r.planSeconds.toFixed(2).padStart(8)} ${r.scoreSeconds
          .toFixed(2)
          .padStart(8)} ${r.total.toFixed(2).padStart(8)} ${Math.round(r.rows / r.total)
          .toLocaleString('en-US')
          .padStart(10)}`,
      );
    console.log(`${'DuckDB CSV->Parquet'.padEnd(20)} ${''.padStart(7)} ${String(ROWS).padStart(9)} ${''.padStart(8)} ${''.padStart(8)} ${duckSeconds.toFixed(2).padStart(8)} ${Math.round(ROWS / duckSeconds).toLocaleString('en-US').padStart(10)}`);
    console.log(`\nratio whole-file CSV scoring (Azurite in and out) / DuckDB CSV->Parquet (local disk): ${(csvAll[1].total / duckSeconds).toFixed(2)} (target <= 2.0)`);
    console.log(`  the same for the first drop after a cold start: ${(csvAll[0].total / duckSeconds).toFixed(2)}`);
    console.log(`  whole-file Parquet scoring / DuckDB CSV->Parquet: ${(pqAll[1].total / duckSeconds).toFixed(2)}`);
    console.log(
      `per-column-input model (skl2onnx Pipeline: 13 float + 5 string inputs, scaling and one-hot in the graph) / transforms + one input, whole-file CSV: ${(colAll[1].total / csvAll[1].total).toFixed(2)}, Parquet: ${(colPqAll[1].total / pqAll[1].total).toFixed(2)}`,
    );
    await runtime.close();

    const big = path.join(dir, 'big.csv');
    t0 = process.hrtime.bigint();
    const bigBytes = writeBenchCsv(big, RSS_ROWS, 11);
    await lake.write('drops/bench-churn/big.csv', fs.createReadStream(big, { highWaterMark: 8 << 20 }));
    fs.rmSync(big);
    console.log(`\ngenerated and uploaded ${RSS_ROWS.toLocaleString('en-US')} rows (${mb(bigBytes)}) in ${seconds(t0).toFixed(1)} s`);
    const rss = await runChild([azurite.connectionString, containerName, 'drops/bench-churn/big.csv']);
    console.log(
      `peak RSS scoring ${rss.rows.toLocaleString('en-US')} rows end to end in a fresh process: ${mb(rss.maxRssBytes)} (target <= 512 MB), ${rss.seconds.toFixed(1)} s, ${Math.round(rss.rows / rss.seconds).toLocaleString('en-US')} rows/s`,
    );
  } finally {
    await azurite.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [, , mode, ...rest] = process.argv;
(!isMainThread ? workerMain() : mode === '--rss-child' ? rssChild(rest[0]!, rest[1]!, rest[2]!) : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

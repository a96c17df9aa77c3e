/**
 * What actuals tests need: a model, stored predictions made the way batch inference makes them
 * (parts by the product's scoreChunk with a real ONNX model, the `_manifest.json`, a completed
 * run document per docs/production-loop.md), and the join's steps run in process in the order
 * the `actualsJoin` orchestration runs them.
 */
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { actualsIdOf } from '../../shared/domain/actuals';
import { lakePaths } from '../../shared/domain/lake-paths';
import { windowLengthMs, windowOf } from '../../shared/domain/windows';
import type { DataLake } from '../../shared/ports/data-lake';
import type { EventPublisher } from '../../shared/ports/event-publisher';
import type { ModelRegistry } from '../../shared/ports/model-registry';
import type { ModelRuntime } from '../../shared/ports/model-runtime';
import type { RunStore } from '../../shared/ports/run-store';
import type { TabularFiles } from '../../shared/ports/tabular-files';
import type { ActualsJoinInput, BucketSummary } from '../../shared/schemas/actuals';
import { type ModelDefinition, type ModelInput, modelInputSchema } from '../../shared/schemas/model';
import type { ActualsRecord, InferenceRun, PredictionManifest } from '../../shared/schemas/monitoring';
import type { ActualsDeps, ActualsSettings } from '../../shared/usecases/actuals/deps';
import { joinActualsBucket } from '../../shared/usecases/actuals/join-bucket';
import { planActualsJoin } from '../../shared/usecases/actuals/plan';
import { completeActualsJoin, failActualsJoin } from '../../shared/usecases/actuals/record';
import { updateLabelledWindow } from '../../shared/usecases/actuals/window';
import { planChunks } from '../../shared/usecases/plan-chunks';
import { scoreChunk, type ScoringVersion } from '../../shared/usecases/score-chunk';
import { linearRegressor, type Stump, treeEnsembleClassifier } from '../fixtures/onnx-models';
import { artifactOf, passThroughTransform } from './scoring-fixtures';

export const WEIGHTS = [2, 3];
export const BIAS = 1;

/** A regression model: prediction = 2 x1 + 3 x2 + 1; windows on `ts`, segments by region. */
export function aDemandModel(overrides: Partial<ModelInput> = {}): ModelDefinition {
  return modelInputSchema.parse({
    name: 'demand',
    task: 'regression',
    idColumn: 'id',
    timestampColumn: 'ts',
    targetColumn: 'sales',
    segmentKeys: ['region'],
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
      { name: 'region', type: 'categorical' },
    ],
    policies: { performance: { minLabelCoverage: 0.5 } },
    ...overrides,
  });
}

/** A binary classifier: `leave` when x1 > 0.5 (probability 0.8), else `stay` (0.8). */
export function aChurnModel(overrides: Partial<ModelInput> = {}): ModelDefinition {
  return modelInputSchema.parse({
    name: 'churn',
    task: 'binary',
    idColumn: 'customer',
    segmentKeys: ['region'],
    classLabels: ['stay', 'leave'],
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
      { name: 'region', type: 'categorical' },
    ],
    ...overrides,
  });
}

export const CHURN_STUMPS: Stump[] = [{ feature: 0, threshold: 0.5, left: [0.8, 0.2], right: [0.2, 0.8] }];

export interface DropRow {
  id: string;
  x1: number | string;
  x2: number | string;
  region: string;
  ts?: string;
}

export const dropCsv = (definition: ModelDefinition, rows: readonly DropRow[]) => {
  const ts = definition.timestampColumn;
  const header = [definition.idColumn, ...(ts ? [ts] : []), 'x1', 'x2', 'region'];
  const lines = rows.map((r) => [r.id, ...(ts ? [r.ts ?? ''] : []), r.x1, r.x2, r.region].join(','));
  return `${header.join(',')}\n${lines.join('\n')}\n`;
};

export const actualsCsv = (header: string[], rows: (string | number)[][]) => `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

export interface ActualsWorld {
  definition: ModelDefinition;
  lake: DataLake;
  files: TabularFiles;
  registry: ModelRegistry;
  runs: RunStore;
  events: EventPublisher;
  deps: ActualsDeps;
  /** The model, as scoring uses it (loaded once). */
  version: ScoringVersion;
  now: Date;
}

export const DEFAULT_SETTINGS: ActualsSettings = { lookback: 'P90D', bucketRows: 2_000_000, parallelism: 4, metricsMaxRows: 1_000_000, bootstrapResamples: 50 };

/** Loads the model's ONNX graph for `definition` (regressor or classifier). */
export async function scoringVersion(runtime: ModelRuntime, definition: ModelDefinition, version = 1): Promise<ScoringVersion> {
  if (definition.task === 'regression') {
    const fx = linearRegressor(WEIGHTS, BIAS);
    return { definition, version, transform: passThroughTransform(['x1', 'x2']), model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, version)) };
  }
  const fx = treeEnsembleClassifier(2, CHURN_STUMPS, definition.classLabels!);
  return { definition, version, transform: passThroughTransform(['x1', 'x2']), model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, version)) };
}

export async function actualsWorld(
  parts: { definition: ModelDefinition; lake: DataLake; registry: ModelRegistry; runs: RunStore; events: EventPublisher; runtime: ModelRuntime },
  settings: Partial<ActualsSettings> = {},
): Promise<ActualsWorld> {
  const { definition, lake, registry, runs, events } = parts;
  const files = new LakeTabularFiles(lake);
  if (!(await registry.getModel(definition.name))) {
    await registry.createModel({
      modelName: definition.name,
      definition,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'alice@example.com',
      latestVersion: 1,
    });
  }
  const world: ActualsWorld = {
    definition,
    lake,
    files,
    registry,
    runs,
    events,
    version: await scoringVersion(parts.runtime, definition),
    now: new Date('2026-03-10T12:00:00Z'),
    deps: undefined as unknown as ActualsDeps,
  };
  world.deps = { registry, runs, lake, files, events, clock: { now: () => world.now }, settings: { ...DEFAULT_SETTINGS, ...settings } };
  return world;
}

/**
 * Scores a drop as batch inference does and stores what it leaves behind: the parts (scoreChunk,
 * chunks of `chunkRows` rows), the manifest, and a completed run document.
 */
export async function scoredRun(
  world: Pick<ActualsWorld, 'lake' | 'files' | 'runs' | 'version'>,
  options: { runId: string; createdAt: string; rows: readonly DropRow[]; chunkBytes?: number; version?: ScoringVersion },
): Promise<InferenceRun> {
  const version = options.version ?? world.version;
  const def = version.definition;
  const source = lakePaths.drop(def.name, `${options.runId}.csv`);
  await world.lake.write(source, Buffer.from(dropCsv(def, options.rows)));
  const plan = await planChunks({ files: world.files }, def, source, { targetChunkBytes: options.chunkBytes ?? 1 << 20, targetChunkRows: 1 });
  const parts: PredictionManifest['parts'] = [];
  let scored = 0;
  let quarantined = 0;
  for (const chunk of plan.chunks) {
    const summary = await scoreChunk({ lake: world.lake, files: world.files }, version, { source, runId: options.runId, chunk });
    parts.push({ path: summary.partPath, chunk: chunk.index, rows: summary.rowsScored });
    scored += summary.rowsScored;
    quarantined += summary.rowsRejected;
  }
  const length = windowLengthMs(def.policies.drift.window);
  const windows = def.timestampColumn
    ? [...new Set(options.rows.filter((r) => r.ts).map((r) => windowOf(Date.parse(r.ts!), length).id))].sort()
    : [windowOf(Date.parse(options.createdAt), length).id];
  const manifest: PredictionManifest = {
    schemaVersion: 1,
    model: def.name,
    version: version.version,
    runId: options.runId,
    sources: [{ path: source, etag: plan.etag ?? '"x"', size: plan.size }],
    parts,
    rows: scored,
    quarantinedRows: quarantined,
    columns: [],
    createdAt: options.createdAt,
  };
  await world.lake.write(lakePaths.predictionManifest(def.name, version.version, options.runId), Buffer.from(JSON.stringify(manifest)));
  const run: InferenceRun = {
    runId: options.runId,
    modelName: def.name,
    kind: 'batch',
    state: 'completed',
    sources: manifest.sources,
    instanceId: `batch:${options.runId}`,
    version: version.version,
    chunks: plan.chunks.length,
    rowsRead: scored + quarantined,
    rowsScored: scored,
    rowsQuarantined: quarantined,
    rejectionReasons: {},
    predictionsFolder: lakePaths.predictionsRunFolder(def.name, version.version, options.runId),
    windows,
    createdAt: options.createdAt,
    completedAt: options.createdAt,
  };
  await world.runs.runs.create(def.name, run.runId, run);
  return run;
}

/** Writes an actuals file; returns the join input its blob event would give. */
export async function dropActuals(world: ActualsWorld, name: string, body: string | Buffer): Promise<ActualsJoinInput> {
  const path = lakePaths.actuals(world.definition.name, name);
  const info = await world.lake.write(path, typeof body === 'string' ? Buffer.from(body) : body);
  return { model: world.definition.name, path, etag: info.etag, size: info.size, lastModified: info.lastModified.toISOString() };
}

export interface JoinedInProcess {
  record: ActualsRecord | undefined;
  outcome: string;
  summaries: BucketSummary[];
  /** What the failing step threw (the orchestration retries it unless it is a DomainError). */
  thrown?: unknown;
}

/** The join's steps in the orchestration's order (plan, buckets, windows, complete; fail on an error). */
export async function joinInProcess(world: ActualsWorld, input: ActualsJoinInput, hooks: { afterPlan?: () => Promise<void> } = {}): Promise<JoinedInProcess> {
  const at = world.now.toISOString();
  const instanceId = `actuals:${input.model}`;
  let actualsId = '';
  try {
    const planned = await planActualsJoin(world.deps, { ...input, instanceId, at });
    actualsId = planned.actualsId;
    if (planned.outcome !== 'planned') return { record: (await world.runs.actuals.get(input.model, actualsId))?.value, outcome: planned.outcome, summaries: [] };
    await hooks.afterPlan?.();
    const summaries: BucketSummary[] = [];
    for (let bucket = 0; bucket < planned.buckets; bucket += 1) summaries.push(await joinActualsBucket(world.deps, { model: input.model, actualsId, bucket }));
    const windows = [...new Set(summaries.flatMap((s) => s.windows.map((w) => w.windowId)))].sort();
    for (const windowId of windows) await updateLabelledWindow(world.deps, { model: input.model, actualsId, windowId });
    const { record } = await completeActualsJoin(world.deps, { model: input.model, actualsId, summaries, completedAt: at });
    return { record, outcome: 'completed', summaries };
  } catch (error) {
    actualsId ||= actualsIdOf(input.path, input.etag);
    const { record } = await failActualsJoin(world.deps, { ...input, actualsId, instanceId, error: (error as Error).message, at });
    return { record, outcome: 'failed', summaries: [], thrown: error };
  }
}

/**
 * A world for drift monitor tests built from real parts: the regional model of model-kit.ts
 * registered and validated for real (ONNX scoring, the reference profile and evidence validation
 * writes), made champion; window profiles written as batch inference writes them (monitoredBatch
 * + profileAgainst the champion's reference); fakes behind the ports for the rest.
 */
import { Readable } from 'node:stream';

import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { lakePaths } from '../../shared/domain/lake-paths';
import { type RetrainingProgressBounds, retrainingProgressBounds } from '../../shared/domain/policies/retraining-staleness';
import { FUNCTION_TIMEOUT, SERVICEBUS_RESOURCES } from '../../shared/domain/resources';
import type { ValidatedRows } from '../../shared/domain/row-validation';
import { windowFromId, windowLengthMs } from '../../shared/domain/windows';
import type { Clock } from '../../shared/ports/clock';
import type { DataLake } from '../../shared/ports/data-lake';
import type { EventPublisher } from '../../shared/ports/event-publisher';
import type { RetrainingQueue } from '../../shared/ports/retraining-queue';
import type { RunStore } from '../../shared/ports/run-store';
import { type ModelDefinition, modelInputSchema } from '../../shared/schemas/model';
import type { ModelVersion } from '../../shared/schemas/model-version';
import {
  type MonitoringWindow,
  type ReferenceProfile,
  referenceProfileSchema,
  type WindowProfile,
  windowProfileSchema,
  type WindowSpan,
} from '../../shared/schemas/monitoring';
import { type DriftMonitorDeps, type DriftMonitorReport, runDriftMonitor } from '../../shared/usecases/drift-monitor';
import { monitoredBatch, profileAgainst } from '../../shared/usecases/profiling';
import { registerPackage, stageUpload } from '../../shared/usecases/register-package';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { validateVersion } from '../../shared/usecases/validate-version';
import { anActor } from './builders';
import { InMemoryModelRegistry } from './in-memory-registry';
import { inMemoryRunStore } from './in-memory-run-store';
import { MemoryLake } from './memory-lake';
import { aRegionalModel, regionalPackage, regionalRows, type Row, toCsv, TRUE_WEIGHTS } from './model-kit';
import { RecordingPublisher } from './recording-publisher';
import { RecordingRetrainingQueue } from './recording-queue';

export const MODEL = 'regional';
const VALIDATION = 'datasets/regional/validation.csv';
/** Validation gates that keep the real validation quick (no bootstrap) and judge segments of 20 rows. */
const VALIDATION_GATES = { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 0 };
const champion = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: VALIDATION }] });

interface Validated {
  objects: MemoryLake['objects'];
  version: ModelVersion;
}

let validated: Promise<Validated> | undefined;

/** v1 of the regional model validated once per test file: its lake files and its version document. */
function validateChampionOnce(): Promise<Validated> {
  validated ??= (async () => {
    const store = new InMemoryModelRegistry();
    const lake = new MemoryLake();
    const carlos = anActor({ id: 'carlos', roles: ['MLOps.Contributor'] });
    const registry = new RegistryUseCases({ registry: store, clock: { now: () => new Date('2026-06-01T00:00:00Z') } });
    await registry.createModel(aRegionalModel(MODEL, { validation: VALIDATION_GATES }), carlos);
    await lake.write(VALIDATION, Buffer.from(toCsv(regionalRows(200, 3))));
    const runtime = new OnnxModelRuntime();
    try {
      const deps = { registry, lake, maxArtifactBytes: 1_000_000, runtime };
      const staged = await stageUpload(deps, MODEL, Readable.from([champion.onnx]));
      const { version } = await registerPackage(deps, { model: MODEL, manifest: champion.manifest, artifact: staged, actor: carlos });
      const outcome = await validateVersion(
        { registry: store, lake, files: new LakeTabularFiles(lake), runtime },
        { model: MODEL, version: version.version, validatedAt: '2026-06-01T00:00:00.000Z' },
      );
      if (outcome.decision !== 'pass') throw new Error(`the champion did not validate: ${outcome.reasons.join('; ')}`);
      return { objects: new Map(lake.objects), version: { ...version, state: 'production', evidenceHash: outcome.evidenceHash } };
    } finally {
      await runtime.close();
    }
  })();
  return validated;
}

/** A clock the test moves. */
export class TestClock implements Clock {
  constructor(public at: Date) {}
  now(): Date {
    return new Date(this.at);
  }
}

export interface MonitorWorld {
  deps: DriftMonitorDeps;
  store: InMemoryModelRegistry;
  lake: MemoryLake;
  runs: ReturnType<typeof inMemoryRunStore>;
  queue: RecordingRetrainingQueue;
  events: RecordingPublisher;
  clock: TestClock;
  definition: ModelDefinition;
  reference: ReferenceProfile;
  /** Profiles `rows` as the champion scored them into window `windowId` (one run profile). */
  scored(windowId: string, rows: readonly Row[], runId?: string): Promise<void>;
  /** What the actuals join records on a window: realised rmse and label coverage. */
  labelled(windowId: string, rmse: number, options?: { coverage?: number; provisional?: boolean; updatedAt?: string }): Promise<void>;
  run(): Promise<DriftMonitorReport>;
}

export interface WorldOptions {
  /** Ports to use instead of the fakes (integration tests pass the real adapters). */
  runs?: RunStore;
  queue?: RetrainingQueue;
  events?: EventPublisher;
  lake?: DataLake;
  model?: string;
  now?: string;
  maxWindowsPerModel?: number;
  retrainingBounds?: RetrainingProgressBounds;
}

/**
 * The bounds the app derives from its default settings: queued P1D; built-in training 5 deliveries
 * of (30 min + the 5 min lock) = 175 min; webhook training those 175 min + 6 x (30 min + 2 min) + P1D = P1DT6H7M.
 */
export const DEFAULT_RETRAINING_BOUNDS = retrainingProgressBounds({
  queuedTimeout: 'P1D',
  webhookTimeout: 'P1D',
  functionTimeout: FUNCTION_TIMEOUT,
  lockDuration: SERVICEBUS_RESOURCES.queues[0].lockDuration,
  maxDeliveryCount: SERVICEBUS_RESOURCES.queues[0].maxDeliveryCount,
});

/** The regional model with `policies` (drift, performance, retraining) and v1 as its champion. */
export async function monitorWorld(policies: Record<string, unknown> = {}, options: WorldOptions = {}): Promise<MonitorWorld> {
  const { objects, version: v1 } = await validateChampionOnce();
  const model = options.model ?? MODEL;
  const lake = new MemoryLake();
  for (const [path, object] of objects) {
    const renamed = path.replace(/^(\w+)\/regional\//, `$1/${model}/`);
    lake.objects.set(renamed, { ...object, info: { ...object.info, path: renamed } });
  }
  const store = new InMemoryModelRegistry();
  const definition = modelInputSchema.parse(aRegionalModel(model, { validation: VALIDATION_GATES, ...policies }));
  await store.createModel({ modelName: model, definition, createdAt: '2026-06-01T00:00:00.000Z', updatedAt: '2026-06-01T00:00:00.000Z', createdBy: 'carlos', latestVersion: 0 });
  await store.registerVersion(model, () => ({ ...v1, modelName: model, artifact: { ...v1.artifact, path: v1.artifact.path.replace('/regional/', `/${model}/`) } }));
  await store.swapChampion({ modelName: model, version: 1, previous: [], epoch: 1, since: '2026-06-02T00:00:00.000Z' }, undefined);
  const reference = referenceProfileSchema.parse(JSON.parse(lake.body(lakePaths.referenceProfile(model, 1)).toString()));
  if (options.lake) for (const [path, object] of lake.objects) await options.lake.write(path, object.body, { contentType: object.info.contentType });
  const dataLake = options.lake ?? lake;

  const runs = inMemoryRunStore();
  const queue = new RecordingRetrainingQueue();
  const events = new RecordingPublisher();
  const clock = new TestClock(new Date(options.now ?? '2026-06-20T12:00:00Z'));
  const deps: DriftMonitorDeps = {
    registry: store,
    runs: options.runs ?? runs,
    lake: dataLake,
    queue: options.queue ?? queue,
    events: options.events ?? events,
    clock,
    maxWindowsPerModel: options.maxWindowsPerModel ?? 48,
    retrainingBounds: options.retrainingBounds ?? DEFAULT_RETRAINING_BOUNDS,
  };
  const lengthMs = windowLengthMs(definition.policies.drift.window);
  return {
    deps,
    store,
    lake,
    runs,
    queue,
    events,
    clock,
    definition,
    reference,
    async scored(windowId, rows, runId = `run-${windowId}`) {
      const profile = windowProfileOf(definition, reference, windowFromId(windowId, lengthMs), rows);
      await dataLake.write(lakePaths.windowRunProfile(model, windowId, runId), Buffer.from(JSON.stringify(profile)));
    },
    async labelled(windowId, rmse, { coverage = 0.9, provisional = false, updatedAt = '2026-06-20T00:00:00.000Z' } = {}) {
      const performance: MonitoringWindow['performance'] = {
        metrics: { overall: { task: 'regression', rows: 180, metrics: { rmse: { value: rmse, rows: 180, ci: null } } }, segments: [] },
        provisional,
        updatedAt,
      };
      const store = options.runs ?? runs;
      const existing = await store.windows.get(model, windowId);
      const fields = { predictions: 200, labelled: Math.round(200 * coverage), labelCoverage: coverage, performance };
      if (existing) await store.windows.replace(model, windowId, { ...existing.value, ...fields }, existing.etag);
      else await store.windows.create(model, windowId, { modelName: model, window: windowFromId(windowId, lengthMs), version: 1, drift: null, ...fields });
    },
    run: () => runDriftMonitor(deps),
  };
}

/** The run profile batch inference writes for `rows` of a window, scored by the champion (v1 of model-kit's regional model). */
export function windowProfileOf(definition: ModelDefinition, reference: ReferenceProfile, window: WindowSpan, rows: readonly Row[]): WindowProfile {
  return windowProfileSchema.parse({ schemaVersion: 1, model: definition.name, window, ...profileAgainst(definition, scoredBatch(definition, rows), reference) });
}

/** The rows as batch inference hands them to profiling: validated features, segment keys and the champion's predictions. */
function scoredBatch(definition: ModelDefinition, rows: readonly Row[]) {
  const n = rows.length;
  const valid = {
    batch: { rowCount: n, numeric: { x1: Float64Array.from(rows, (r) => r.x1), x2: Float64Array.from(rows, (r) => r.x2) }, categorical: { region: rows.map((r) => r.region) } },
    rowNumbers: Int32Array.from(rows, (_, i) => i + 1),
    sourceRows: Int32Array.from(rows, (_, i) => i),
    ids: rows.map((r) => r.id),
    segments: { region: rows.map((r) => r.region) },
    rejected: [],
  } satisfies ValidatedRows;
  const predictions = { kind: 'regression' as const, rows: n, values: Float64Array.from(rows, (r) => champion.predict(r)) };
  return monitoredBatch(definition, valid, Int32Array.from(rows, (_, i) => i), predictions);
}

/** The champion's baseline rmse, as its validation evidence has it (mean over the splits). */
export function championBaselineRmse(world: MonitorWorld, model = MODEL): number {
  const version = [...world.store.versions.values()].find((v) => v.value.modelName === model)!.value;
  const evidence = JSON.parse(world.lake.body(lakePaths.evidence(model, 1, version.evidenceHash!)).toString()) as {
    splits: Array<{ challenger: { overall: { metrics: { rmse: { value: number } } } } }>;
  };
  return evidence.splits.reduce((s, split) => s + split.challenger.overall.metrics.rmse.value, 0) / evidence.splits.length;
}

/** Rows from the same process as the validation data. */
export const usual = (seed: number, n = 200, regions?: readonly string[]): Row[] => regionalRows(n, seed, { idPrefix: `u${seed}-`, ...(regions ? { regions } : {}) });
/** Rows whose x1 moved far off (x1 and the prediction drift, x2 and the region do not). */
export const shifted = (seed: number, n = 200): Row[] => usual(seed, n).map((r) => ({ ...r, x1: r.x1 + 8 }));

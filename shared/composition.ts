/**
 * The composition root: the one place that wires the Azure adapters into the use cases. Triggers,
 * orchestrations and activities take what they need from here; each piece is created on first
 * use and shared by the process (clients and model sessions are costly to open).
 */
import { blobDataLake } from './adapters/blob/data-lake';
import { blobProbe } from './adapters/blob/probe';
import { cosmosModelRegistry } from './adapters/cosmos/model-registry';
import { cosmosProbe } from './adapters/cosmos/probe';
import { cosmosRunStore } from './adapters/cosmos/run-store';
import { HttpTrainingWebhook } from './adapters/http/training-webhook';
import { OnnxModelExporter } from './adapters/onnx/linear-onnx';
import { OnnxModelRuntime } from './adapters/onnx/onnx-model-runtime';
import { eventPublisher } from './adapters/servicebus/event-publisher';
import { serviceBusProbe } from './adapters/servicebus/probe';
import { retrainingQueue } from './adapters/servicebus/retraining-queue';
import { systemClock } from './adapters/system-clock';
import { lakeTabularFiles } from './adapters/tabular/lake-tabular-files';
import { driftMetrics } from './adapters/telemetry/metrics';
import { config } from './config';
import { retrainingProgressBounds } from './domain/policies/retraining-staleness';
import { FUNCTION_TIMEOUT, SERVICEBUS_RESOURCES } from './domain/resources';
import type { DataLake } from './ports/data-lake';
import type { EventPublisher } from './ports/event-publisher';
import type { DependencyProbe } from './ports/health';
import type { ModelRegistry } from './ports/model-registry';
import type { ModelRuntime } from './ports/model-runtime';
import type { OrchestrationInstances } from './ports/orchestration-instances';
import type { RetrainingQueue } from './ports/retraining-queue';
import type { RunStore } from './ports/run-store';
import type { TabularFiles } from './ports/tabular-files';
import type { TrainingWebhook } from './ports/training-webhook';
import type { ActualsDeps } from './usecases/actuals/deps';
import { type BatchDeps, VersionCache } from './usecases/batch-inference';
import type { DriftMonitorDeps } from './usecases/drift-monitor';
import { defaultChunkTargets } from './usecases/plan-chunks';
import type { ReconcileDeps } from './usecases/reconcile-orchestrations';
import type { RegisterPackageDeps } from './usecases/register-package';
import { RegistryUseCases } from './usecases/registry';
import type { RetrainingDeps } from './usecases/retraining';
import type { DecisionDeps } from './usecases/retraining-records';
import type { RevalidationDeps } from './usecases/revalidation';
import type { ValidateVersionDeps } from './usecases/validate-version';

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export const registryStore: () => ModelRegistry = once(() => cosmosModelRegistry());
export const dataLake: () => DataLake = once(() => blobDataLake());
export const tabularFiles: () => TabularFiles = once(() => lakeTabularFiles(dataLake()));
export const modelRuntime: () => ModelRuntime = once(() => new OnnxModelRuntime());
export const events: () => EventPublisher = once(() => eventPublisher());
export const runStore: () => RunStore = once(() => cosmosRunStore());
const versionCache = once(() => new VersionCache());
export const retrainingRequests: () => RetrainingQueue = once(() => retrainingQueue());
const trainingWebhook: () => TrainingWebhook = once(() => new HttpTrainingWebhook());

export const registry: () => RegistryUseCases = once(
  () => new RegistryUseCases({ registry: registryStore(), clock: systemClock, events: events() }),
);

export const registration = (): RegisterPackageDeps => ({
  registry: registry(),
  lake: dataLake(),
  runtime: modelRuntime(),
  maxArtifactBytes: config().MAX_ARTIFACT_BYTES,
});

export const validation = (): ValidateVersionDeps => ({
  registry: registryStore(),
  lake: dataLake(),
  files: tabularFiles(),
  runtime: modelRuntime(),
  maxRows: config().VALIDATION_MAX_ROWS,
  segmentMaxValues: config().SEGMENT_MAX_VALUES,
});

export const batch = (): BatchDeps => ({
  registry: registryStore(),
  runs: runStore(),
  lake: dataLake(),
  files: tabularFiles(),
  runtime: modelRuntime(),
  clock: systemClock,
  cache: versionCache(),
  chunkTargets: {
    ...defaultChunkTargets,
    targetChunkBytes: config().BATCH_TARGET_CHUNK_BYTES,
    targetChunkRows: config().BATCH_TARGET_CHUNK_ROWS,
  },
  segmentMaxValues: config().SEGMENT_MAX_VALUES,
});

export const driftMonitoring = (): DriftMonitorDeps => ({
  registry: registryStore(),
  runs: runStore(),
  lake: dataLake(),
  queue: retrainingRequests(),
  events: events(),
  clock: systemClock,
  maxWindowsPerModel: config().DRIFT_MONITOR_MAX_WINDOWS,
  retrainingBounds: retrainingProgressBounds({
    queuedTimeout: config().RETRAINING_QUEUED_TIMEOUT,
    webhookTimeout: config().RETRAINING_WEBHOOK_TIMEOUT,
    functionTimeout: FUNCTION_TIMEOUT,
    lockDuration: SERVICEBUS_RESOURCES.queues[0].lockDuration,
    maxDeliveryCount: config().RETRAINING_MAX_DELIVERY_COUNT,
  }),
  metrics: driftMetrics,
  segmentMaxValues: config().SEGMENT_MAX_VALUES,
});

export const revalidation = (): RevalidationDeps => ({ registry: registryStore(), runs: runStore(), lake: dataLake(), files: tabularFiles(), segmentMaxValues: config().SEGMENT_MAX_VALUES });

export const actualsJoin = (): ActualsDeps => {
  const c = config();
  return {
    registry: registryStore(),
    runs: runStore(),
    lake: dataLake(),
    files: tabularFiles(),
    events: events(),
    clock: systemClock,
    settings: {
      lookback: c.ACTUALS_LOOKBACK,
      bucketRows: c.ACTUALS_BUCKET_ROWS,
      parallelism: c.ACTUALS_PARALLELISM,
      metricsMaxRows: c.ACTUALS_METRICS_MAX_ROWS,
      bootstrapResamples: c.ACTUALS_BOOTSTRAP_RESAMPLES,
      segmentMaxValues: c.SEGMENT_MAX_VALUES,
    },
  };
};

/** Reconciliation of documents whose orchestration ended without recording the outcome: the actuals join's dependencies and the Durable client of the invocation. */
export const reconciliation = (instances: OrchestrationInstances): ReconcileDeps => ({ ...actualsJoin(), instances });

/** Retraining records: what the lifecycle's end and the completion API change. */
export const retrainingRecords = (): DecisionDeps => ({ runs: runStore(), clock: systemClock, events: events(), registry: registryStore() });

/** The retraining trigger: records, the training data, the built-in trainer and registration. */
export const retraining = (): RetrainingDeps => {
  const cfg = config();
  return {
    ...retrainingRecords(),
    lake: dataLake(),
    files: tabularFiles(),
    runtime: modelRuntime(),
    exporter: new OnnxModelExporter(),
    registration: registration(),
    limits: {
      windows: cfg.RETRAINING_WINDOWS,
      maxRows: cfg.RETRAINING_MAX_ROWS,
      minRows: cfg.RETRAINING_MIN_ROWS,
      trainingDataset: cfg.RETRAINING_TRAINING_DATASET,
    },
    webhookUrl: cfg.RETRAINING_WEBHOOK_URL,
    maxDeliveryCount: cfg.RETRAINING_MAX_DELIVERY_COUNT,
  };
};

/** A webhook trainer: where the job goes and how long to wait for its report. */
export const webhookTrainer = () => ({
  webhook: trainingWebhook(),
  webhookUrl: config().RETRAINING_WEBHOOK_URL,
  timeout: config().RETRAINING_WEBHOOK_TIMEOUT,
});

export const dependencyProbes = (): DependencyProbe[] => [cosmosProbe, blobProbe, serviceBusProbe];

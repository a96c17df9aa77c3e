import { createHash } from 'node:crypto';

import { windowFromId } from '../../shared/domain/windows';
import type { Actor } from '../../shared/schemas/lifecycle';
import type { ModelInput } from '../../shared/schemas/model';
import { type ModelVersion, type ModelVersionInput, modelVersionSchema } from '../../shared/schemas/model-version';
import type { ActualsRecord, InferenceRun, MonitoringWindow, RetrainingRecord } from '../../shared/schemas/monitoring';
import { DEFAULT_APPROVER_ROLE } from '../../shared/schemas/policies';
import type { AuditEvent } from '../../shared/schemas/registry';

/** A sha256 of a label, so tests can name hashes ("evidence-1") and still pass the schema. */
export const sha = (label: string): string => createHash('sha256').update(label).digest('hex');

export const APPROVER_ROLE = DEFAULT_APPROVER_ROLE;

export function anActor(overrides: Partial<Actor> = {}): Actor {
  return { id: 'alice@example.com', kind: 'user', roles: [], ...overrides };
}

export const anApprover = (id = 'bob@example.com'): Actor => anActor({ id, roles: [APPROVER_ROLE] });
export const theSystem = (): Actor => anActor({ id: 'system:lifecycle', kind: 'system', roles: [] });

export function aModelDefinition(overrides: Partial<ModelInput> = {}): ModelInput {
  return {
    name: 'churn',
    task: 'binary',
    idColumn: 'customer_id',
    features: [
      { name: 'tenure', type: 'numeric', range: { min: 0, max: 120 } },
      { name: 'plan', type: 'categorical', allowedValues: ['basic', 'pro'] },
    ],
    classLabels: ['stay', 'leave'],
    ...overrides,
  };
}

export function aModelVersionInput(overrides: Partial<ModelVersionInput> = {}): ModelVersionInput {
  return {
    artifact: { path: 'models/churn/1/model.onnx', sha256: sha('artifact') },
    transformSpecHash: sha('transforms'),
    signature: {
      inputs: [{ name: 'features', type: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'probabilities', type: 'float32', shape: [-1, 2] }],
    },
    trainingMetrics: { roc_auc: 0.81 },
    datasets: [{ role: 'training', uri: 'drops/churn/train.parquet', rows: 1000 }],
    lineage: { source: 'manual', trainingRun: 'run-1' },
    environment: { runtime: 'python 3.11', packages: [{ name: 'scikit-learn', version: '1.5.2' }], onnxOpset: 17 },
    ...overrides,
  };
}

/** A stored version in `registered` state; override what the test is about. */
export function aModelVersion(overrides: Partial<ModelVersion> = {}): ModelVersion {
  return modelVersionSchema.parse({
    ...aModelVersionInput(),
    modelName: 'churn',
    version: 1,
    registrant: 'alice@example.com',
    state: 'registered',
    revision: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    history: [],
    ...overrides,
  });
}

/** An inference run document (a batch run of version 1, running, nothing counted yet). */
export function anInferenceRun(model: string, runId: string, overrides: Partial<InferenceRun> = {}): InferenceRun {
  return {
    runId,
    modelName: model,
    kind: 'batch',
    state: 'running',
    sources: [{ path: `drops/${model}/a.csv`, etag: '"0x1"', size: 10 }],
    instanceId: `batch:${runId}`,
    version: 1,
    chunks: 0,
    rowsRead: 0,
    rowsScored: 0,
    rowsQuarantined: 0,
    rejectionReasons: {},
    windows: [],
    createdAt: '2026-03-01T00:00:00.000Z',
    ...overrides,
  };
}

/**
 * An actuals record (a completed join of one row, matched; created at `createdAt`, its file last
 * modified then, at `actuals/{model}/{actualsId}.csv`).
 */
export function anActualsRecord(model: string, actualsId: string, createdAt = '2026-03-01T00:00:00.000Z', overrides: Partial<ActualsRecord> = {}): ActualsRecord {
  return {
    actualsId,
    modelName: model,
    source: { path: `actuals/${model}/${actualsId}.csv`, etag: '"1"', size: 10, lastModified: createdAt },
    state: 'completed',
    instanceId: `actuals:${model}:${actualsId}`,
    rows: 1,
    matched: 1,
    unmatched: 0,
    duplicateIds: 0,
    rejectionReasons: {},
    metrics: null,
    windows: [],
    createdAt,
    ...overrides,
  };
}

/** A retraining request the drift monitor queued for a drift breach in `windowId` (champion version 1). */
export function aRetrainingRecord(model: string, windowId: string, overrides: Partial<RetrainingRecord> = {}): RetrainingRecord {
  return { requestId: `retrain:${model}:${windowId}`, modelName: model, version: 1, reason: 'drift', windowId, state: 'queued', requestedAt: windowFromId(windowId, 86_400_000).end, ...overrides };
}

/** A daily monitoring window of version 1 with `predictions` scored, nothing labelled or judged yet. */
export function aMonitoringWindow(model: string, windowId: string, predictions = 10): MonitoringWindow {
  return { modelName: model, window: windowFromId(windowId, 86_400_000), version: 1, predictions, labelled: 0, labelCoverage: 0, performance: null, drift: null };
}

/** A ledger entry of a version's transition (registered -> validating, by alice), at `at`. */
export function aTransitionEntry(model: string, version: number, revision: number, at: string): AuditEvent {
  return {
    id: `${model}:v${version}:r${revision}`,
    kind: 'transition',
    modelName: model,
    version,
    revision,
    command: 'start_validation',
    from: 'registered',
    to: 'validating',
    actor: anActor({ id: 'alice@example.com' }),
    at,
  };
}

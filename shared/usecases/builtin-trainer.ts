import { createHash, randomUUID } from 'node:crypto';

import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { jsonRows } from '../domain/json-rows';
import { lakePaths } from '../domain/lake-paths';
import { computeMetrics, type MetricsData } from '../domain/metrics';
import type { GoldenRecord } from '../domain/parity';
import type { RawRows } from '../domain/raw-rows';
import { type ColumnLayout, FLOAT32_OVERFLOW, layoutColumns, validateRows } from '../domain/row-validation';
import { runStepsPausing, type Steps } from '../domain/steps';
import type { FeatureMatrix, RowBatch } from '../domain/tabular';
import type { LinearCoefficients } from '../domain/training/least-squares';
import { linearRegressionSteps } from '../domain/training/least-squares';
import { logisticRegressionSteps } from '../domain/training/logistic';
import { type MultinomialCoefficients, multinomialLogisticRegressionSteps } from '../domain/training/multinomial';
import { recoverTransformSpec } from '../domain/training/spec-recovery';
import { applyTransforms, fitTransformsWithRows, transformSpecHash } from '../domain/transforms';
import type { DataLake } from '../ports/data-lake';
import type { ExportedModel, ModelExporter } from '../ports/model-exporter';
import type { ModelRuntime, Predictions } from '../ports/model-runtime';
import type { TabularFiles } from '../ports/tabular-files';
import type { ActorInput } from '../schemas/lifecycle';
import type { RetrainingRequest } from '../schemas/messages';
import type { ModelDefinition, ModelTask } from '../schemas/model';
import type { ModelVersion } from '../schemas/model-version';
import type { RegistrationManifest } from '../schemas/registration';
import type { TrainingSnapshot } from '../schemas/retraining';
import { type FittedTransforms, type TransformSpec, transformSpecSchema } from '../schemas/transforms';
import { withFiniteOutputs } from './finite-predictions';
import { readFittedTransforms } from './load-version';
import { concatBatches, subsetBatch } from './profiling';
import { registerPackage, type RegisterPackageDeps } from './register-package';
import { type ScoringVersion, scoringVersion } from './score-chunk';
import { refusalList } from './training-data';

/**
 * The reference trainer: refits the champion's transform spec and a linear model (least squares
 * for regression, L2 logistic regression for binary models, L2 multinomial logistic regression for
 * multiclass models) on a request's training snapshot,
 * writes the ONNX file, computes golden records with the new model as the scoring runtime runs
 * it, and registers the result as a new version (lineage: builtin, the champion, the request).
 * Everything it writes depends only on the snapshot, so a retried request registers the same
 * version (registration is idempotent on the request id).
 */

export interface BuiltinTrainerDeps {
  lake: DataLake;
  files: TabularFiles;
  runtime: ModelRuntime;
  exporter: ModelExporter;
  registration: RegisterPackageDeps;
}

export interface BuiltinTrainingInput {
  definition: ModelDefinition;
  /** The champion whose monitoring raised the request: its transform spec is refitted. */
  parent: ModelVersion;
  requestId: string;
  request: RetrainingRequest;
  snapshot: TrainingSnapshot;
  /** The champion's spec (championSpec), refitted on the snapshot. */
  spec: TransformSpec;
}

/** Who registers what the built-in trainer produced. */
export const RETRAINING_ACTOR: ActorInput = { id: 'system:retraining', kind: 'system', roles: [] };

/** Golden records written with each version (from the validation rows). */
const GOLDEN_RECORDS = 3;

/** Rows of a snapshot file read for training: the validated batch and each row's target. */
interface LabelledBatch {
  batch: RowBatch;
  /** Regression: the value; classifiers: the class index in `classLabels`. */
  target: Float64Array;
  /** Rows row validation refused, by code (`not_a_number:x1`...). */
  rejected: Record<string, number>;
}

/** Counts a refused row under its code. */
function refuse(rejected: Record<string, number>, code: string, n = 1): void {
  if (n > 0) rejected[code] = (rejected[code] ?? 0) + n;
}

/** One batch of rows as the trainer takes them: validated, each with a usable target; the others counted in `rejected` by code. */
function labelledRows(definition: ModelDefinition, raw: RawRows, layout: ColumnLayout, targetColumn: number, rejected: Record<string, number>): { batch: RowBatch; targets: number[] } {
  const labels = definition.classLabels ?? [];
  const valid = validateRows(raw, layout);
  for (const { code } of valid.rejected) refuse(rejected, code);
  const kept: number[] = [];
  const targets: number[] = [];
  for (let r = 0; r < valid.batch.rowCount; r += 1) {
    const text = raw.text(targetColumn, valid.sourceRows[r]!)?.trim() ?? '';
    const value = definition.task === 'regression' ? (text === '' ? NaN : Number(text)) : labels.indexOf(text);
    if (definition.task === 'regression' ? !Number.isFinite(value) : value < 0) {
      refuse(rejected, 'unusable_actual');
      continue;
    }
    kept.push(r);
    targets.push(value);
  }
  return { batch: subsetBatch(valid.batch, kept), targets };
}

async function readLabelled(files: TabularFiles, definition: ModelDefinition, path: string): Promise<LabelledBatch> {
  const plan = await files.plan(path, { targetChunkBytes: 64 * 1024 * 1024, targetChunkRows: 1_000_000 });
  const layout = layoutColumns(definition, plan.columns);
  const targetColumn = plan.columns.indexOf(definition.targetColumn);
  const batches: RowBatch[] = [];
  const targets: number[] = [];
  const rejected: Record<string, number> = {};
  for (const chunk of plan.chunks) {
    const opened = await files.open(path, chunk);
    for await (const raw of opened.batches) {
      const rows = labelledRows(definition, raw, layout, targetColumn, rejected);
      batches.push(rows.batch);
      targets.push(...rows.targets);
    }
  }
  const data = { batch: concatBatches(batches), target: Float64Array.from(targets), rejected };
  // Fewer than two rows cannot be fitted on or scored: say why, before a transform names a column.
  if (data.batch.rowCount < 2) {
    throw errors.insufficientData(`only ${data.batch.rowCount} rows of '${path}' passed row validation${refusalList(rejected)}`, { path, rejected });
  }
  return data;
}

/**
 * How many of a snapshot's rows (cells under `columns`, as its CSV files hold them) the trainer can
 * use, and why the others are refused: a row must pass row validation, have a usable target and be
 * kept by the champion's spec refitted on the rows (the trainer refits it on the training share: a
 * step that learns which rows to keep, an outlier filter, may keep a few more or fewer there).
 * RETRAINING_MIN_ROWS is held against this count, not against the rows read.
 */
export function usableTrainingRows(
  definition: ModelDefinition,
  spec: TransformSpec,
  columns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
): { usable: number; refused: Record<string, number> } {
  const refused: Record<string, number> = {};
  const raw = jsonRows(rows.map((cells) => Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? null]))), columns);
  const { batch } = labelledRows(definition, raw, layoutColumns(definition, columns), columns.indexOf(definition.targetColumn), refused);
  if (batch.rowCount < 2) return { usable: batch.rowCount, refused };
  let usable: number;
  try {
    const { fitted, rows: fittedRows } = fitTransformsWithRows(spec, batch);
    usable = applyTransforms(fitted, subsetBatch(batch, fittedRows)).keptRows.length;
  } catch (error) {
    // A spec that cannot be fitted on them fails the training itself, in its own words.
    if (!isDomainError(error)) throw error;
    usable = batch.rowCount;
  }
  refuse(refused, 'transform', batch.rowCount - usable);
  return { usable, refused };
}

/**
 * The champion's transform spec: the one its manifest carries (`transformSpec`), else recovered
 * from its fitted transforms; either way its hash is the one the champion was registered with.
 * Asked before any data is read, so a champion the trainer can never retrain (a graph on raw
 * columns, a spec that cannot be recovered) does not read and snapshot its data first.
 */
export async function championSpec(lake: DataLake, parent: ModelVersion): Promise<TransformSpec> {
  if (parent.transformSpecHash === undefined) {
    throw errors.unsupportedModel(
      `v${parent.version} has no fitted transforms (its graph takes raw columns): the built-in trainer refits a transform spec and a linear model on its features; retrain this model with a webhook trainer`,
    );
  }
  const path = lakePaths.modelManifest(parent.modelName, parent.version);
  let manifest: { transformSpec?: unknown };
  try {
    manifest = JSON.parse((await lake.readBuffer(path)).toString('utf8')) as { transformSpec?: unknown };
  } catch (error) {
    if (error instanceof SyntaxError) throw errors.validation(`'${path}' is not JSON: ${error.message}`, { path });
    throw error;
  }
  if (manifest.transformSpec !== undefined) {
    const spec = parseOrThrow(transformSpecSchema, manifest.transformSpec, `transformSpec of v${parent.version}`);
    if (transformSpecHash(spec) === parent.transformSpecHash) return spec;
  }
  return recoverTransformSpec((await readFittedTransforms(lake, parent))!);
}

/**
 * Refits the champion's spec on the training rows. A one-hot step learns its categories from the
 * data, so a category no training row has any more (a region that stopped sending) leaves the
 * spec's output for it unmade: that is said in those words, not as a spec naming an unknown column.
 */
async function refitTransforms(lake: DataLake, parent: ModelVersion, spec: TransformSpec, batch: RowBatch) {
  try {
    return fitTransformsWithRows(spec, batch);
  } catch (error) {
    const output = isDomainError(error) && error.code === 'VALIDATION_ERROR' ? error.details?.column : undefined;
    if (typeof output !== 'string' || !spec.output.includes(output)) throw error;
    const made = (await readFittedTransforms(lake, parent))?.steps.find((s) => s.type === 'one_hot' && s.outputs.includes(output));
    const category = made?.type === 'one_hot' ? made.categories[made.outputs.indexOf(output)] : undefined;
    if (made?.type !== 'one_hot' || category === undefined) throw error;
    throw errors.insufficientData(
      `no training row has '${category}' in '${made.column}', and the champion's spec (v${parent.version}) outputs '${output}' for it: its one_hot step learns its categories from the data; ` +
        `list them in the step (categories) to keep a column for a value that is absent, or retrain with the webhook trainer`,
      { column: made.column, category, output },
    );
  }
}

/** A turn of the event loop: other invocations of the worker (HTTP, activities, lock renewals) run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a fit gives: one linear model (regression, binary), or one per class (multiclass). */
type FittedModel = LinearCoefficients | MultinomialCoefficients;

/** The fit of each task, as the version's description names it. */
const METHODS: Record<ModelTask, string> = { regression: 'least squares', binary: 'logistic regression', multiclass: 'multinomial logistic regression' };

/**
 * The fit, handing the event loop back between its steps: a logistic fit of 160,000 rows x 100
 * columns takes over a minute, which the worker's other invocations would otherwise wait out (a
 * multinomial one about (classes^2 / 2 + classes / 2) times that).
 */
function fitModel(definition: ModelDefinition, matrix: FeatureMatrix, target: Float64Array): Promise<FittedModel> {
  const classLabels = definition.classLabels ?? [];
  const steps: Steps<FittedModel> =
    definition.task === 'regression'
      ? linearRegressionSteps(matrix, target)
      : definition.task === 'binary'
        ? logisticRegressionSteps(matrix, target)
        : multinomialLogisticRegressionSteps(matrix, target, classLabels.length, { classLabels });
  return runStepsPausing(steps, turn);
}

const isMultinomial = (model: FittedModel): model is MultinomialCoefficients => 'biases' in model;

function exportModel(exporter: ModelExporter, definition: ModelDefinition, model: FittedModel): ExportedModel {
  if (isMultinomial(model)) return exporter.multinomialLogisticRegression(model, definition.classLabels ?? []);
  if (definition.task === 'regression') return exporter.linearRegression(model);
  const [negative, positive] = definition.classLabels ?? [];
  return exporter.logisticRegression(model, [negative!, positive!]);
}

/** The snapshot rows through the fitted transforms: the matrix and the target of each matrix row. */
function transformed(fitted: FittedTransforms, data: Pick<LabelledBatch, 'batch' | 'target'>) {
  const { matrix, keptRows } = applyTransforms(fitted, data.batch);
  return { matrix, target: Float64Array.from(keptRows, (r) => data.target[r]!), keptRows };
}

/** The ONNX graph holds float32: a coefficient beyond its range would make every prediction infinite. */
function checkFloat32(model: FittedModel): void {
  const coefficients = isMultinomial(model) ? [...model.weights.flat(), ...model.biases] : [...model.weights, model.bias];
  const outside = coefficients.find((w) => !(Math.abs(w) < FLOAT32_OVERFLOW));
  if (outside !== undefined) {
    throw errors.validation(`a fitted coefficient (${outside}) is outside the float32 range of the ONNX graph: the targets or features are too large for a float32 model`);
  }
}

/** Rows scored as production scores them: fed by the version's input plan, run by onnxruntime. */
async function scored(version: ScoringVersion, batch: RowBatch, expectedRows: number, what: string): Promise<Predictions> {
  const fed = version.transform(batch);
  if (fed.inputs.rows !== expectedRows) throw new Error(`the scoring path kept ${fed.inputs.rows} rows, the transforms ${expectedRows}`);
  const out = await version.model.predict(fed.inputs);
  // A non-finite output (float32 overflow of X w + b) is no prediction: refuse the model, saying so.
  const rejected = withFiniteOutputs(Int32Array.from({ length: out.rows }, (_, k) => k), out, version.definition.classLabels ?? []).rejected;
  if (rejected.length > 0) {
    throw errors.validation(`the new model's output is not finite for ${rejected.length} of ${out.rows} ${what} rows (${rejected[0]!.reason}): the values are too large for a float32 model`);
  }
  return out;
}

function metricsData(definition: ModelDefinition, target: Float64Array, predictions: Predictions): MetricsData {
  if (predictions.kind === 'regression') return { actual: target, predicted: predictions.values };
  return { actual: Int32Array.from(target), probabilities: Float64Array.from(predictions.probabilities), classCount: definition.classLabels?.length ?? 2 };
}

/** Point values of the task's metrics on a data set, prefixed (`train_`, `validation_`...). */
function metricValues(definition: ModelDefinition, data: MetricsData, prefix: string): Record<string, number> {
  const report = computeMetrics(definition.task, data, { bootstrap: { resamples: 0 } });
  const out: Record<string, number> = {};
  for (const [name, estimate] of Object.entries(report.metrics)) {
    if (estimate?.value !== null && estimate?.value !== undefined) out[`${prefix}${name}`] = estimate.value;
  }
  return out;
}

/** A golden record's input row: every feature, as JSON (numbers, booleans as 0/1, datetimes as epoch ms). */
function goldenInput(definition: ModelDefinition, batch: RowBatch, row: number): GoldenRecord['input'] {
  const input: GoldenRecord['input'] = {};
  for (const { name, type } of definition.features) {
    if (type === 'categorical') input[name] = batch.categorical[name]?.[row] ?? null;
    else {
      const value = batch.numeric[name]?.[row] ?? NaN;
      input[name] = Number.isNaN(value) ? null : value;
    }
  }
  return input;
}

function goldenRecords(definition: ModelDefinition, batch: RowBatch, keptRows: Int32Array, matrix: FeatureMatrix, out: Predictions, count: number): GoldenRecord[] {
  return Array.from({ length: count }, (_, k) => ({
    input: goldenInput(definition, batch, keptRows[k]!),
    expectedFeatures: Array.from(matrix.values.subarray(k * matrix.width, (k + 1) * matrix.width)),
    expectedOutput:
      out.kind === 'regression'
        ? { prediction: out.values[k]! }
        : { prediction: out.labels[k]!, probabilities: Array.from(out.probabilities.subarray(k * out.classCount, (k + 1) * out.classCount)) },
  }));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Trains on the request's snapshot and registers the result; returns the version (found again on a retry). */
/** Rows of the snapshot's files the trainer could not use, by reason: what it read, less what it fitted on or validated with. */
function refusedRows(train: LabelledBatch, trainedRows: number, validation: LabelledBatch, validatedRows: number): Record<string, number> {
  const refused: Record<string, number> = { ...train.rejected };
  for (const [code, n] of Object.entries(validation.rejected)) refused[code] = (refused[code] ?? 0) + n;
  const byTransforms = train.batch.rowCount - trainedRows + (validation.batch.rowCount - validatedRows);
  if (byTransforms > 0) refused.transform = byTransforms;
  return refused;
}

export async function trainBuiltin(
  deps: BuiltinTrainerDeps,
  input: BuiltinTrainingInput,
): Promise<{ version: ModelVersion; created: boolean; refused: Record<string, number> }> {
  const { definition, parent, snapshot, request, requestId, spec } = input;
  const train = await readLabelled(deps.files, definition, snapshot.trainPath);
  const { fitted, rows } = await refitTransforms(deps.lake, parent, spec, train.batch);
  const fittedRows = subsetBatch(train.batch, rows);
  const fitOn = transformed(fitted, { batch: fittedRows, target: Float64Array.from(rows, (r) => train.target[r]!) });
  if (fitOn.matrix.rows < 2) throw errors.insufficientData(`only ${fitOn.matrix.rows} training rows are left after the transforms`);
  const coefficients = await fitModel(definition, fitOn.matrix, fitOn.target);
  checkFloat32(coefficients);
  const exported = exportModel(deps.exporter, definition, coefficients);

  // Scored as production scores: the ONNX file in onnxruntime (not yet registered: version 0).
  const model = await deps.runtime.load({
    model: definition.name,
    version: 0,
    sha256: sha256(exported.bytes),
    signature: exported.signature,
    task: definition.task,
    ...(definition.classLabels ? { classLabels: definition.classLabels } : {}),
    fetch: async () => exported.bytes,
  });
  const version = scoringVersion(definition, 0, exported.signature, fitted, model);
  const validation = await readLabelled(deps.files, definition, snapshot.validationPath);
  const checked = transformed(fitted, validation);
  if (checked.matrix.rows < 2) throw errors.insufficientData(`only ${checked.matrix.rows} validation rows are left after the transforms`);
  const onTrain = await scored(version, fittedRows, fitOn.matrix.rows, 'training');
  const onValidation = await scored(version, validation.batch, checked.matrix.rows, 'validation');
  const metrics = {
    ...metricValues(definition, metricsData(definition, fitOn.target, onTrain), 'train_'),
    ...metricValues(definition, metricsData(definition, checked.target, onValidation), ''),
  };

  const manifest: RegistrationManifest = {
    artifact: { path: 'model.onnx', sha256: sha256(exported.bytes) },
    signature: exported.signature,
    transforms: fitted,
    transformSpec: spec,
    goldenRecords: goldenRecords(definition, validation.batch, checked.keptRows, checked.matrix, onValidation, Math.min(GOLDEN_RECORDS, checked.matrix.rows)),
    metrics,
    lineage: { source: 'builtin', parentVersion: parent.version, trainingRun: requestId },
    environment: { runtime: 'mlops built-in trainer 1', packages: [], onnxOpset: exported.opset },
    datasets: [
      { role: 'training', uri: snapshot.trainPath, rows: snapshot.trainRows },
      { role: 'validation', uri: snapshot.validationPath, rows: snapshot.validationRows },
    ],
    description:
      `Retrained by the built-in trainer for ${requestId} (${request.reason} in window ${request.window.id}, champion v${parent.version}): ` +
      `${METHODS[definition.task]} on ${fitOn.matrix.rows} rows of ${snapshot.source === 'labelled' ? 'labelled data' : 'the training set'}.`,
  };

  // Staged under a name of its own: registration deletes its upload when done, and a concurrent
  // attempt of the same request (a redelivery after a lost lock) must not lose its file to that.
  const staged = lakePaths.artifactUpload(definition.name, `retrain-${request.window.id}-${randomUUID()}`);
  await deps.lake.write(staged, exported.bytes, { contentType: 'application/octet-stream' });
  const artifact = { path: staged, sha256: sha256(exported.bytes), size: exported.bytes.length, temporary: true };
  const registered = await registerPackage(deps.registration, { model: definition.name, manifest, artifact, actor: RETRAINING_ACTOR, idempotencyKey: requestId });
  return { ...registered, refused: refusedRows(train, fitOn.matrix.rows, validation, checked.matrix.rows) };
}

import { actualsIdOf } from '../../domain/actuals';
import { errors, isDomainError, parseOrThrow } from '../../domain/errors';
import { lakePathProblem, lakePaths } from '../../domain/lake-paths';
import { headerDescribed, headerIndex } from '../../domain/row-validation';
import { windowFromId, windowLengthMs, windowOf } from '../../domain/windows';
import type { TabularFiles } from '../../ports/tabular-files';
import type { ActualsJoinInput, ActualsJoinPlan, ActualsPlanInput, ActualsPlanResult, CandidateRun } from '../../schemas/actuals';
import type { ModelDefinition } from '../../schemas/model';
import {
  type ActualsRecord,
  type InferenceRun,
  MAX_LISTED_SKIPPED_RUNS,
  type PredictionManifest,
  predictionManifestSchema,
  type SkippedRun,
} from '../../schemas/monitoring';
import type { ChunkPlan } from '../../schemas/scoring';
import { type ActualsDeps, lookbackStart, readingUnchanged, sameEtag, updateActualsRecord, WHOLE_FILE, writePlan } from './deps';

/** Actuals chunks: byte ranges or row groups of about this size, read one after another. */
const ACTUALS_CHUNKS = { targetChunkBytes: 64 * 1024 * 1024, targetChunkRows: 1_000_000 };

/**
 * Buckets one join splits into at most: the orchestration lists them and each reads the whole
 * file, so a count a Parquet footer can claim for free must stop at the plan.
 */
const MAX_BUCKETS = 10_000;
/** Rows one file may hold: a bucket keeps row numbers (and labelled data `actuals_row`) as int32. */
const MAX_ROWS = 2 ** 31 - 1;

/** A new record of a file being joined, counts at zero. */
export function runningRecord(input: ActualsJoinInput & { instanceId: string; at: string }, actualsId: string): ActualsRecord {
  return {
    actualsId,
    modelName: input.model,
    source: { path: input.path, etag: input.etag, size: input.size, lastModified: input.lastModified },
    state: 'running',
    instanceId: input.instanceId,
    rows: 0,
    matched: 0,
    unmatched: 0,
    duplicateIds: 0,
    rejectionReasons: {},
    metrics: null,
    windows: [],
    createdAt: input.at,
  };
}

/** Data rows of a file whose plan does not say (gzip CSV): counted by reading it once. */
async function countRows(files: TabularFiles, plan: ChunkPlan): Promise<number> {
  let rows = 0;
  for (const chunk of plan.chunks) {
    const opened = await files.open(plan.source, chunk);
    for await (const batch of opened.batches) rows += batch.rowCount;
  }
  return rows;
}

const isGone = (error: unknown) => isDomainError(error) && error.code === 'NOT_FOUND';

/** Manifest parts no longer in the lake, found with one listing per folder they are in. */
async function missingParts(deps: ActualsDeps, parts: readonly string[]): Promise<string[]> {
  const present = new Set<string>();
  for (const folder of new Set(parts.map((p) => p.slice(0, p.lastIndexOf('/') + 1)))) {
    for await (const o of deps.lake.list(folder)) present.add(o.path);
  }
  return parts.filter((p) => !present.has(p));
}

/**
 * Why a predictions part cannot be joined, found by opening it as every bucket will (its footer):
 * not Parquet or truncated, or without the model's id column; undefined when it can. Each bucket
 * opens every part anyway, so this adds one footer read per part to a join's many.
 */
async function unreadablePart(deps: ActualsDeps, part: string, idColumn: string): Promise<string | undefined> {
  let columns: readonly string[];
  try {
    ({ columns } = await deps.files.plan(part, WHOLE_FILE));
  } catch (error) {
    if (isGone(error)) return `its predictions part '${part}' is gone`;
    if (isDomainError(error) && error.code === 'INVALID_INPUT_FILE') return `its predictions part '${part}' is damaged: ${error.message}`;
    throw error;
  }
  return columns.includes(idColumn) ? undefined : `its predictions part '${part}' has no id column '${idColumn}'`;
}

/**
 * The predictions parts of a completed run, from the manifest written when they were all in
 * place; or why the run cannot be joined: its manifest or a part is gone (retention, an
 * operator), or its manifest or a part is damaged (not JSON, not a manifest; not Parquet, truncated). Either way the run can never
 * be read again, so failing would fail every join of the model until the run leaves the lookback;
 * left out, its ids come out unmatched and are quarantined. Outages are thrown, to be retried.
 */
export async function candidateRun(deps: ActualsDeps, definition: ModelDefinition, run: InferenceRun & { version: number }, windowLength: number): Promise<CandidateRun | SkippedRun> {
  const folder = run.predictionsFolder ?? lakePaths.predictionsRunFolder(run.modelName, run.version, run.runId);
  const manifestPath = `${folder.endsWith('/') ? folder : `${folder}/`}_manifest.json`;
  const skipped = (reason: string): SkippedRun => ({ runId: run.runId, reason: reason.length > 1000 ? `${reason.slice(0, 999)}…` : reason });
  let bytes: Buffer;
  try {
    bytes = await deps.lake.readBuffer(manifestPath);
  } catch (error) {
    if (isGone(error)) return skipped(`its predictions manifest '${manifestPath}' is gone`);
    throw error;
  }
  let parts: PredictionManifest['parts'];
  try {
    ({ parts } = parseOrThrow(predictionManifestSchema, JSON.parse(bytes.toString('utf8')), `predictions manifest ${manifestPath}`));
  } catch (error) {
    if (error instanceof SyntaxError) return skipped(`its predictions manifest '${manifestPath}' is not JSON`);
    if (isDomainError(error)) return skipped(error.message);
    throw error;
  }
  const paths = [...parts].sort((a, b) => a.chunk - b.chunk).map((p) => (p.path.startsWith('predictions/') ? p.path : `${folder.replace(/\/$/, '')}/${p.path}`));
  const missing = await missingParts(deps, paths);
  if (missing.length > 0) return skipped(`${missing.length} of its ${paths.length} predictions part(s) are gone, the first '${missing[0]}'`);
  for (const part of paths) {
    const problem = await unreadablePart(deps, part, definition.idColumn);
    if (problem !== undefined) return skipped(problem);
  }
  const only = run.windows.length === 1 ? run.windows[0] : undefined;
  return {
    runId: run.runId,
    version: run.version,
    createdAt: run.createdAt,
    arrivalWindow: only ? windowFromId(only, windowLength) : windowOf(Date.parse(run.createdAt), windowLength),
    parts: paths,
  };
}

/**
 * Completed runs created within the lookback, newest first (ties by run id, later first): an
 * id scored by several runs joins the prediction of the first of them. Only runs created since
 * the lookback's start are read (a query on `createdAt`), not the model's whole history. A run
 * document read that does not read fails the join naming it: left out, its predictions would
 * count as unmatched in the record.
 * A run whose predictions are gone or damaged is left out with the reason (`skipped`).
 */
async function candidateRuns(deps: ActualsDeps, definition: ModelDefinition, since: Date): Promise<{ runs: CandidateRun[]; skipped: SkippedRun[] }> {
  const windowLength = windowLengthMs(definition.policies.drift.window);
  const runs = (await deps.runs.runs.listCreatedSince(definition.name, since))
    .filter((r): r is InferenceRun & { version: number } => r.state === 'completed' && r.version !== null && Date.parse(r.createdAt) >= since.getTime())
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  const out = { runs: [] as CandidateRun[], skipped: [] as SkippedRun[] };
  for (const run of runs) {
    const candidate = await candidateRun(deps, definition, run, windowLength);
    if ('parts' in candidate) out.runs.push(candidate);
    else out.skipped.push(candidate);
  }
  return out;
}

/**
 * The actuals file's chunks and rows, once its header has the model's id and target columns (each
 * once). Read while the file is the version being joined: a failure on a newer version says so.
 */
async function readActualsLayout(deps: ActualsDeps, definition: ModelDefinition, source: { path: string; etag: string }): Promise<{ actuals: ChunkPlan; rows: number }> {
  return readingUnchanged(deps.lake, source, async () => {
    const actuals = await deps.files.plan(source.path, ACTUALS_CHUNKS);
    const columns = headerIndex(actuals.columns);
    const needed = [definition.idColumn, definition.targetColumn];
    const missing = needed.filter((c) => !columns.has(c));
    if (missing.length > 0) {
      // The record keeps the message only: what the header holds shows a wrong delimiter or line ending at once.
      throw errors.invalidInputFile(
        `the actuals file lacks the column(s) ${missing.map((c) => `'${c}'`).join(', ')} (the model's id and target columns); ${headerDescribed(actuals.columns)}`,
        { missing, columns: actuals.columns },
      );
    }
    // Which of two same-named columns holds the ids or the actuals is anyone's guess: as scoring does, refuse.
    const repeated = needed.filter((name) => actuals.columns.filter((c) => c.trim() === name).length > 1);
    if (repeated.length > 0) {
      throw errors.invalidInputFile(`the actuals file's header names ${repeated.map((c) => `'${c}'`).join(', ')} more than once`, { repeated });
    }
    return { actuals, rows: actuals.rows ?? (await countRows(deps.files, actuals)) };
  });
}

/**
 * Starts the join of one actuals file version: its record (`running`), and the plan every later
 * step reads (the model's definition, the file's chunks, how many hash buckets keep each join
 * activity's ids bounded, and the completed runs to search). A file version already joined (or
 * failed) is `done`; one that changed since its event is `superseded` (its new version has its
 * own event). Problems with the file or the model throw, for the caller to record the failure.
 */
export async function planActualsJoin(deps: ActualsDeps, input: ActualsPlanInput): Promise<ActualsPlanResult> {
  const actualsId = actualsIdOf(input.path, input.etag);
  const existing = await deps.runs.actuals.get(input.model, actualsId);
  if (existing && existing.value.state !== 'running') return { outcome: 'done', actualsId, state: existing.value.state };
  // The trigger starts a join for any blob name, so that one the lake refuses ends on a record too.
  const badName = lakePathProblem(input.path);
  if (badName) throw errors.invalidInputFile(`the actuals file cannot be joined under this name: ${badName}; upload it under another name`, { path: input.path });
  const info = await deps.lake.stat(input.path);
  if (!info || !sameEtag(info.etag, input.etag)) return { outcome: 'superseded', actualsId };
  if (!existing) await deps.runs.actuals.create(input.model, actualsId, runningRecord(input, actualsId));

  const model = await deps.registry.getModel(input.model);
  if (!model) throw errors.modelNotFound(input.model);
  const definition = model.definition;
  const { actuals, rows } = await readActualsLayout(deps, definition, input);
  const buckets = Math.max(1, Math.ceil(rows / deps.settings.bucketRows));
  const n = (x: number) => x.toLocaleString('en-US');
  if (rows > MAX_ROWS) throw errors.invalidInputFile(`the actuals file has ${n(rows)} rows: more than ${n(MAX_ROWS)}, the most a join numbers; split it into smaller files`, { rows });
  if (buckets > MAX_BUCKETS) {
    throw errors.invalidInputFile(
      `the actuals file has ${n(rows)} rows: more than ${n(MAX_BUCKETS)} buckets of ${n(deps.settings.bucketRows)} ids (ACTUALS_BUCKET_ROWS) would join; split it into smaller files`,
      { rows, buckets },
    );
  }
  const since = lookbackStart(deps.settings, input.at);
  const candidates = await candidateRuns(deps, definition, since);
  const listed = candidates.skipped.slice(0, MAX_LISTED_SKIPPED_RUNS);
  const omitted = candidates.skipped.length - listed.length;
  // On the record before any bucket runs: a join that fails later still says which runs it left out.
  await updateActualsRecord(deps, input.model, actualsId, (r) => {
    const { skippedRuns: _runs, skippedRunsOmitted: _omitted, ...rest } = r;
    return { ...rest, ...(listed.length > 0 ? { skippedRuns: listed } : {}), ...(omitted > 0 ? { skippedRunsOmitted: omitted } : {}) };
  });
  const plan: ActualsJoinPlan = {
    schemaVersion: 1,
    actualsId,
    model: input.model,
    source: { path: input.path, etag: input.etag, size: input.size, lastModified: input.lastModified },
    plannedAt: input.at,
    definition,
    actuals,
    rows,
    buckets,
    window: definition.policies.drift.window,
    lookbackFrom: since.toISOString(),
    runs: candidates.runs,
    ...(candidates.skipped.length > 0 ? { skippedRuns: candidates.skipped } : {}),
  };
  await writePlan(deps.lake, plan);
  return {
    outcome: 'planned',
    actualsId,
    buckets: plan.buckets,
    parallelism: deps.settings.parallelism,
    ...(listed.length > 0 ? { skippedRuns: listed } : {}),
  };
}

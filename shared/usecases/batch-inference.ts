import { createHash } from 'node:crypto';

import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { sameEtag } from '../domain/lake-objects';
import { isLakePath, lakePathProblem, lakePaths } from '../domain/lake-paths';
import { lookAlikesOf } from '../domain/profiles/look-alikes';
import { latestOccurrence, scheduleProblem } from '../domain/schedule';
import { DEFAULT_SEGMENT_MAX_VALUES, OTHER_SEGMENT_VALUE } from '../domain/segment-cap';
import type { RowBatch } from '../domain/tabular';
import { windowFromId, windowIdOf, windowLengthMs, windowStartOf } from '../domain/windows';
import type { Clock } from '../ports/clock';
import type { DataLake } from '../ports/data-lake';
import type { ModelRegistry } from '../ports/model-registry';
import type { ModelRuntime } from '../ports/model-runtime';
import { everyDocument, type RunStore } from '../ports/run-store';
import type { TabularFiles } from '../ports/tabular-files';
import type { ModelDefinition } from '../schemas/model';
import {
  type BatchInput,
  type Flavours,
  type InferenceRun,
  type MonitoringWindow,
  type PredictionManifest,
  profileCountMetadataSchema,
  referenceProfileSchema,
  type WindowProfile,
  windowProfileSchema,
} from '../schemas/monitoring';
import type { Profile } from '../schemas/profile';
import { type Chunk, chunkSchema, type ChunkSummary } from '../schemas/scoring';
import { checkParity } from './check-parity';
import { type LoadedVersion, loadScoringVersion } from './load-version';
import { type ChunkTargets, defaultChunkTargets, planChunks } from './plan-chunks';
import { concatBatches, mergeSegmented, monitoredBatch, profileAgainst, type SegmentCap, type SegmentedProfile, subsetBatch } from './profiling';
import { outputColumns, quarantineChunkPath, scoreChunk } from './score-chunk';
import { isRunProfileName } from './window-profiles';

/** Drops under `drops/{model}/scheduled/` wait for the model's schedule instead of being scored on arrival. */
export const SCHEDULED_DROPS = 'scheduled/';

/** A loaded version with its reference profile, kept per process: every chunk of every run shares it. */
export interface ScoringCache {
  get(key: string, load: () => Promise<LoadedScoring>): Promise<LoadedScoring>;
}

export interface LoadedScoring {
  version: LoadedVersion;
  reference: SegmentedProfile | undefined;
}

export interface BatchDeps {
  registry: ModelRegistry;
  runs: RunStore;
  lake: DataLake;
  files: TabularFiles;
  runtime: ModelRuntime;
  clock: Clock;
  cache: ScoringCache;
  /** How drops are cut into chunks (defaultChunkTargets unless configured). */
  chunkTargets?: ChunkTargets;
  /** Values a segment key keeps by name in run profiles (SEGMENT_MAX_VALUES; DEFAULT_SEGMENT_MAX_VALUES unless configured). */
  segmentMaxValues?: number;
}

const segmentMaxValuesOf = (deps: Pick<BatchDeps, 'segmentMaxValues'>): number => deps.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES;

/** A data file as the blob event saw it. */
export interface SourceRef {
  path: string;
  etag: string;
  size: number;
  /** Arrival time: the window of rows without a timestamp. */
  lastModified: string;
}

/** A run id from what it scores: the same files at the same ETags give the same run (a repeated event is no new run). */
export function runIdFor(sources: readonly Pick<SourceRef, 'path' | 'etag'>[], arrival: string): string {
  const hash = createHash('sha256');
  for (const s of sources) hash.update(`${s.path}\n${s.etag}\n`);
  return `${windowIdOf(Date.parse(arrival))}-${hash.digest('hex').slice(0, 16)}`;
}

async function requireRun(deps: Pick<BatchDeps, 'runs'>, model: string, runId: string) {
  const found = await deps.runs.runs.get(model, runId);
  if (!found) throw errors.notFound(`run '${runId}' of '${model}' does not exist`, { model, runId });
  return found;
}

/**
 * Read-modify-write of a run with its ETag (retried on a concurrent change, `change` judging the
 * run as stored each time). `change` answering the run it was given writes nothing.
 */
async function updateRun(deps: Pick<BatchDeps, 'runs'>, model: string, runId: string, change: (run: InferenceRun) => InferenceRun): Promise<InferenceRun> {
  for (let attempt = 0; ; attempt++) {
    const { value, etag } = await requireRun(deps, model, runId);
    const next = change(value);
    if (next === value) return value;
    try {
      return (await deps.runs.runs.replace(model, runId, next, etag)).value;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') || attempt >= 10) throw error;
    }
  }
}

export interface StartRunInput {
  model: string;
  runId: string;
  instanceId: string;
  kind: InferenceRun['kind'];
  sources: SourceRef[];
  scheduledFor?: string;
}

/**
 * Records the run (once per run id) and pins the champion that scores it. With no champion yet the
 * run waits (`waiting_for_champion`): the drop is kept and scored when a champion exists. That
 * includes a model nobody has registered yet (a pipeline may deliver data before the model): the
 * run is listed under the model's runs meanwhile. A run that already ended is answered as it is.
 */
export async function startRun(deps: BatchDeps, input: StartRunInput): Promise<Pick<InferenceRun, 'state' | 'version'>> {
  const now = deps.clock.now().toISOString();
  const { value: existing } = await deps.runs.runs.create(input.model, input.runId, {
    runId: input.runId,
    modelName: input.model,
    kind: input.kind,
    state: 'waiting_for_champion',
    sources: input.sources.map(({ path, etag, size }) => ({ path, etag, size })),
    instanceId: input.instanceId,
    version: null,
    chunks: 0,
    rowsRead: 0,
    rowsScored: 0,
    rowsQuarantined: 0,
    rejectionReasons: {},
    windows: [],
    ...(input.scheduledFor ? { scheduledFor: input.scheduledFor } : {}),
    createdAt: now,
  });
  if (existing.state === 'completed' || existing.state === 'failed') return existing;
  if (existing.state === 'running' && existing.version !== null) return existing;
  const champion = (await deps.registry.getChampion(input.model))?.value.version ?? null;
  if (champion === null) return existing;
  const version = (await deps.registry.getVersion(input.model, champion))!.value;
  return updateRun(deps, input.model, input.runId, (run) => ({
    ...run,
    state: 'running',
    version: champion,
    artifactSha256: version.artifact.sha256,
    transformSpecHash: version.transformSpecHash,
    startedAt: now,
    predictionsFolder: lakePaths.predictionsRunFolder(input.model, champion, input.runId),
    quarantineFolder: lakePaths.quarantineFolder(input.model, input.runId),
  }));
}

/** One chunk to score: which file, which part of it, and its part number in the run. */
export interface PlannedChunk {
  source: string;
  part: number;
  chunk: Chunk;
}

/**
 * Plans the run's chunks over all its files (the file's columns checked against the model first).
 * A file that cannot be read at all fails the run with the reason and is copied to quarantine.
 */
export async function planRun(deps: BatchDeps, input: { model: string; runId: string }): Promise<{ chunks: PlannedChunk[] } | { failed: string }> {
  let { value: run } = await requireRun(deps, input.model, input.runId);
  const definition = (await deps.registry.getModel(input.model))!.definition;
  // A drop written again (or removed) since the run listed it is not this run's to score: its bytes
  // now are the new version's, which has its own event and run (a scheduled file's new version is
  // stamped after the occurrence: the next scheduled run's); planning them would score them twice.
  const superseded: NonNullable<InferenceRun['supersededSources']> = [];
  for (const source of run.sources) {
    if (!isLakePath(source.path)) continue; // not readable at all: planning says why
    const changed = await sourceChange(deps, source);
    if (!changed) continue;
    const next = changed === 'replaced' ? (run.kind === 'scheduled' ? '; the new version is scored by the next scheduled run' : '; the new version is scored on its own') : '';
    superseded.push({ ...source, reason: `${source.path}: the drop changed before it was scored (${changed}): this version is not scored${next}` });
  }
  if (superseded.length > 0) {
    if (run.kind !== 'scheduled' || superseded.length === run.sources.length) {
      const reason = superseded.map((s) => s.reason).join('; ');
      await writeQuarantineReason(deps, input.model, input.runId, superseded[0]!.path, reason);
      await failRun(deps, { ...input, error: reason });
      return { failed: reason };
    }
    // A scheduled run scores its other files: failing it would leave them unscored for good.
    const gone = new Set(superseded.map((s) => s.path));
    run = await updateRun(deps, input.model, input.runId, (r) => ({
      ...r,
      sources: r.sources.filter((s) => !gone.has(s.path)),
      supersededSources: [...(r.supersededSources ?? []), ...superseded.filter((s) => r.sources.some((k) => k.path === s.path))],
    }));
  }
  const chunks: PlannedChunk[] = [];
  const unreadable: NonNullable<InferenceRun['quarantinedSources']> = [];
  for (const source of run.sources) {
    // A name the lake refuses (a segment ending in a space, a control character) can be neither read nor copied.
    const refusedName = lakePathProblem(source.path);
    let reason = refusedName ? `${source.path}: the lake cannot read a file of this name: ${refusedName}` : undefined;
    if (!reason) {
      try {
        const plan = await planChunks({ files: deps.files }, definition, source.path, deps.chunkTargets ?? defaultChunkTargets);
        for (const chunk of plan.chunks) chunks.push({ source: source.path, part: chunks.length, chunk });
      } catch (error) {
        if (!(isDomainError(error) && (error.code === 'INVALID_INPUT_FILE' || error.code === 'NOT_FOUND'))) throw error;
        reason = `${source.path}: ${error.message}`;
      }
    }
    if (reason) {
      if (run.kind !== 'scheduled') {
        await quarantineFiles(deps, input.model, input.runId, [{ path: source.path, reason }]);
        await failRun(deps, { ...input, error: reason });
        return { failed: reason };
      }
      unreadable.push({ path: source.path, etag: source.etag, size: source.size, reason });
    }
  }
  if (unreadable.length === 0) return { chunks };
  await quarantineFiles(deps, input.model, input.runId, unreadable);
  if (unreadable.length === run.sources.length) {
    const reason = unreadable.map((s) => s.reason).join('; ');
    await failRun(deps, { ...input, error: reason });
    return { failed: reason };
  }
  // A scheduled run scores its other files: the next run takes only files stamped after this
  // occurrence, so failing this one would leave them unscored for good.
  const left = new Set(unreadable.map((s) => s.path));
  await updateRun(deps, input.model, input.runId, (r) => ({
    ...r,
    sources: r.sources.filter((s) => !left.has(s.path)),
    quarantinedSources: [...(r.quarantinedSources ?? []), ...unreadable.filter((s) => r.sources.some((k) => k.path === s.path))],
  }));
  return { chunks };
}

/**
 * Whether a run's source is no longer the version its event named: `replaced` (a new ETag) or
 * `removed`. An ETag never comes back, so one unchanged after a read means every byte read was
 * this version's.
 */
async function sourceChange(deps: Pick<BatchDeps, 'lake'>, source: { path: string; etag: string }): Promise<'replaced' | 'removed' | undefined> {
  const now = await deps.lake.stat(source.path);
  if (!now) return 'removed';
  return sameEtag(now.etag, source.etag) ? undefined : 'replaced';
}


/** Longest name (in UTF-16 code units, as lake paths are measured) a quarantined copy of a drop gets. */
const MAX_QUARANTINED_NAME_LENGTH = 255;

/**
 * `file-{name}` for a drop's copy in its run's quarantine folder. A drop's name may take most of
 * the 1,024 characters a lake path has, so a long one keeps its head, a hash of the whole name and
 * its extension: the copy must fit, or the run would fail on the copy's path instead of with the
 * file's own reason (reason.json keeps the full path).
 */
export function quarantinedCopyName(path: string): string {
  const name = `file-${path.split('/').pop()!}`;
  if (name.length <= MAX_QUARANTINED_NAME_LENGTH) return name;
  const extension = /(\.[A-Za-z0-9]{1,10}){1,2}$/.exec(name)?.[0] ?? '';
  const digest = `~${createHash('sha256').update(path).digest('hex').slice(0, 16)}`;
  const budget = MAX_QUARANTINED_NAME_LENGTH - digest.length - extension.length;
  let head = '';
  // Cut at a code point, so a name in another script does not end in half a character.
  for (const character of name.slice(0, name.length - extension.length)) {
    if (head.length + character.length > budget) break;
    head += character;
  }
  return `${head}${digest}${extension}`;
}

/**
 * A run's unreadable files, each copied to its quarantine folder (unless the lake refuses its name),
 * with one reason.json (naming every file when there are several: a scheduled run's).
 */
async function quarantineFiles(deps: BatchDeps, model: string, runId: string, files: { path: string; reason: string }[]): Promise<void> {
  for (const { path } of files) if (isLakePath(path) && (await deps.lake.stat(path))) await deps.lake.copy(path, lakePaths.quarantine(model, runId, quarantinedCopyName(path)));
  await writeQuarantineReason(deps, model, runId, files[0]!.path, files.map((f) => f.reason).join('; '), files.length > 1 ? files.map((f) => f.path) : undefined);
}

async function writeQuarantineReason(deps: BatchDeps, model: string, runId: string, path: string, reason: string, sources?: string[]): Promise<void> {
  const body = { reason, source: path, ...(sources ? { sources } : {}), at: deps.clock.now().toISOString() };
  await deps.lake.write(lakePaths.quarantine(model, runId, 'reason.json'), Buffer.from(`${JSON.stringify(body, null, 2)}\n`), { contentType: 'application/json' });
}

/** A version loaded once per process (its artifact, transforms, reference profile), warmed up. */
export async function loadScoringVersionCached(deps: BatchDeps, definition: ModelDefinition, model: string, number: number): Promise<LoadedScoring> {
  const stored = await deps.registry.getVersion(model, number);
  if (!stored) throw errors.versionNotFound(model, number);
  const version = stored.value;
  return deps.cache.get(`${model}@${number}#${version.artifact.sha256}`, async () => {
    const loaded = await loadScoringVersion(deps, definition, version);
    const path = lakePaths.referenceProfile(model, number);
    const reference = (await deps.lake.stat(path))
      ? parseOrThrow(referenceProfileSchema, JSON.parse((await deps.lake.readBuffer(path)).toString('utf8')), 'reference profile')
      : undefined;
    await warmUp(loaded);
    return { version: loaded, reference };
  });
}

/**
 * Runs the version once on its golden records when a worker loads it (transforms and model), so
 * the first chunk does not pay for onnxruntime's first-run allocations. A version without golden
 * records is not warmed; one whose records no longer reproduce was refused at validation, and a
 * warm-up is no place to fail it.
 */
async function warmUp(version: LoadedVersion): Promise<void> {
  if (!version.goldenRecords) return;
  await checkParity(version, version.goldenRecords, version.fitted).catch(() => undefined);
}

export interface ScoreRunChunkInput {
  model: string;
  runId: string;
  version: number;
  planned: PlannedChunk;
  /** The file's arrival time: the window of rows without a timestamp. */
  arrival: string;
}

export interface ScoredChunk extends ChunkSummary {
  /**
   * Per window: the rows profiled (validated rows, as they arrived) and the predictions made (rows
   * scored: a row the transforms or the model's output rejected is profiled, not predicted). The
   * chunk's profile of each is in the lake. `predictions` is absent from chunks scored before it
   * was reported (then every profiled row counts).
   */
  windows: { id: string; rows: number; predictions?: number }[];
}

/**
 * Scores one chunk with the run's version (scoreChunk: part + quarantine, deterministic, so a retry
 * overwrites them) and profiles its scored rows per monitoring window against the version's
 * reference, writing one partial profile per window for the run's fan-in to merge.
 */
export async function scoreRunChunk(deps: BatchDeps, input: ScoreRunChunkInput): Promise<ScoredChunk> {
  const definition = (await deps.registry.getModel(input.model))!.definition;
  const { value: run } = await requireRun(deps, input.model, input.runId);
  const source = run.sources.find((s) => s.path === input.planned.source);
  if (!source) throw errors.validation(`'${input.planned.source}' is not a source of run '${input.runId}'`, { model: input.model, runId: input.runId });
  const assertUnchanged = async () => {
    const changed = await sourceChange(deps, source);
    if (!changed) return;
    throw errors.invalidInputFile(
      `${source.path}: the drop changed while it was scored (${changed}): this version is not scored${changed === 'replaced' ? '; the new version is scored on its own' : ''}`,
      { path: source.path, etag: source.etag },
    );
  };
  // Checked before reading too: a removed drop says so (not the reader's NOT_FOUND), and a replaced
  // one is not read with byte ranges planned on other bytes.
  await assertUnchanged();
  const { version, reference } = await loadScoringVersionCached(deps, definition, input.model, input.version);
  const length = windowLengthMs(definition.policies.drift.window);
  const arrival = Date.parse(input.arrival);
  const byWindow = new Map<string, RowBatch[]>();
  const predictionsIn = new Map<string, number>();
  const chunk = chunkSchema.parse(input.planned.chunk);
  const summary = await scoreChunk({ lake: deps.lake, files: deps.files }, version, {
    source: input.planned.source,
    runId: input.runId,
    chunk,
    output: {
      partPath: lakePaths.predictionPart(input.model, input.version, input.runId, input.planned.part),
      quarantinePath: quarantineChunkPath(input.model, input.runId, input.planned.part),
    },
    beforeWrite: assertUnchanged,
    observe: (valid, keptRows, predictions) => {
      const batch = monitoredBatch(definition, valid, keptRows, predictions);
      // Rows by window start (a number per row; ids are built once per window).
      const arrivalStart = windowStartOf(arrival, length);
      const rowsOf = new Map<number, number[]>();
      const timestamps = valid.timestamps;
      if (!timestamps) rowsOf.set(arrivalStart, []);
      else {
        for (let r = 0; r < batch.rowCount; r++) {
          const t = timestamps[r]!;
          const start = Number.isNaN(t) ? arrivalStart : windowStartOf(t, length);
          const list = rowsOf.get(start);
          if (list) list.push(r);
          else rowsOf.set(start, [r]);
        }
      }
      const scored = new Uint8Array(batch.rowCount);
      for (let k = 0; k < keptRows.length; k++) scored[keptRows[k]!] = 1;
      for (const [start, rows] of rowsOf) {
        const id = windowIdOf(start);
        const parts = byWindow.get(id) ?? [];
        parts.push(rowsOf.size === 1 ? batch : subsetBatch(batch, rows));
        byWindow.set(id, parts);
        let predicted = 0;
        if (!timestamps) predicted = keptRows.length;
        else for (const r of rows) predicted += scored[r]!;
        predictionsIn.set(id, (predictionsIn.get(id) ?? 0) + predicted);
      }
    },
  });
  const windows: ScoredChunk['windows'] = [];
  for (const [id, batches] of [...byWindow].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const batch = concatBatches(batches);
    const profile: WindowProfile = {
      schemaVersion: 1,
      model: input.model,
      window: windowFromId(id, length),
      ...profileAgainst(definition, batch, reference, segmentMaxValuesOf(deps)),
    };
    await deps.lake.write(lakePaths.windowChunkProfile(input.model, id, input.runId, input.planned.part), Buffer.from(JSON.stringify(profile)), {
      contentType: 'application/json',
    });
    windows.push({ id, rows: batch.rowCount, predictions: predictionsIn.get(id) ?? 0 });
  }
  return { ...summary, chunkIndex: input.planned.part, windows };
}

export interface CompleteRunInput {
  model: string;
  runId: string;
  version: number;
  chunks: ScoredChunk[];
}

/**
 * The run's fan-in: the chunks' window profiles merged into one profile per window
 * (`profiles/{model}/windows/{windowId}/runs/{runId}.json`, rows and predictions in its metadata), the
 * predictions manifest (written last: its presence says the parts are complete), the window
 * documents' prediction counts, new data flavours against the reference, and the run recorded as
 * completed. Repeating it gives the same result.
 */
export async function completeRun(deps: BatchDeps, input: CompleteRunInput): Promise<InferenceRun> {
  const { model, runId, version } = input;
  const definition = (await deps.registry.getModel(model))!.definition;
  const { reference } = await loadScoringVersionCached(deps, definition, model, version);
  const cap: SegmentCap = { maxValues: segmentMaxValuesOf(deps), reference };
  // Predictions per window: what the window document counts (rows profiled but not scored are not predictions).
  const windows = new Map<string, number>();
  for (const c of input.chunks) for (const w of c.windows) windows.set(w.id, (windows.get(w.id) ?? 0) + (w.predictions ?? w.rows));
  let merged: SegmentedProfile | undefined;
  for (const windowId of [...windows.keys()].sort()) {
    const profile = await mergeChunkProfiles(deps, model, windowId, runId, input.chunks, cap);
    await deps.lake.write(lakePaths.windowRunProfile(model, windowId, runId), Buffer.from(JSON.stringify(profile)), {
      contentType: 'application/json',
      metadata: { rows: String(profile.overall.rowCount), predictions: String(windows.get(windowId)!) },
    });
    merged = merged ? mergeSegmented(merged, profile, cap) : profile;
    await recountWindowPredictions(deps, definition, windowId, version, profile.window);
  }
  const rowsScored = input.chunks.reduce((s, c) => s + c.rowsScored, 0);
  const rowsQuarantined = input.chunks.reduce((s, c) => s + c.rowsRejected, 0);
  const reasons: Record<string, number> = {};
  for (const c of input.chunks) for (const [code, n] of Object.entries(c.rejectionReasons)) reasons[code] = (reasons[code] ?? 0) + n;
  const { value: run } = await requireRun(deps, model, runId);
  const manifest: PredictionManifest = {
    schemaVersion: 1,
    model,
    version,
    runId,
    sources: run.sources,
    parts: input.chunks.map((c) => ({ path: c.partPath, chunk: c.chunkIndex, rows: c.rowsScored })).sort((a, b) => a.chunk - b.chunk),
    rows: rowsScored,
    quarantinedRows: rowsQuarantined,
    columns: outputColumns(definition).map((c) => ({ name: c.name, type: c.type })),
    createdAt: run.startedAt ?? run.createdAt,
  };
  await deps.lake.write(lakePaths.predictionManifest(model, version, runId), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), {
    contentType: 'application/json',
  });
  const flavours = merged && reference ? flavoursOf(definition, reference, merged) : undefined;
  const now = deps.clock.now();
  return updateRun(deps, model, runId, (r) => ({
    ...r,
    state: 'completed',
    chunks: input.chunks.length,
    rowsRead: input.chunks.reduce((s, c) => s + c.rowsRead, 0),
    rowsScored,
    rowsQuarantined,
    rejectionReasons: reasons,
    windows: [...windows.keys()].sort(),
    ...(flavours ? { flavours } : {}),
    completedAt: now.toISOString(),
    durationMs: Math.max(0, now.getTime() - Date.parse(r.startedAt ?? r.createdAt)),
  }));
}

async function mergeChunkProfiles(deps: BatchDeps, model: string, windowId: string, runId: string, chunks: readonly ScoredChunk[], cap: SegmentCap): Promise<WindowProfile> {
  let merged: WindowProfile | undefined;
  for (const c of chunks) {
    if (!c.windows.some((w) => w.id === windowId)) continue;
    const path = lakePaths.windowChunkProfile(model, windowId, runId, c.chunkIndex);
    const profile = parseOrThrow(windowProfileSchema, JSON.parse((await deps.lake.readBuffer(path)).toString('utf8')), `chunk profile ${path}`);
    merged = merged ? { ...merged, ...mergeSegmented(merged, profile, cap) } : profile;
  }
  if (!merged) throw new Error(`window ${windowId} of run ${runId} has no chunk profile`);
  return merged;
}


/**
 * The predictions a run profile counts, from its blob metadata (`rows`, the rows profiled, on
 * profiles written before `predictions` was kept). A count that does not read names the blob:
 * added as NaN it would have made the window's count (and coverage) unreadable for good.
 */
function profilePredictions(path: string, metadata: Readonly<Record<string, string>>): number {
  const count = metadata.predictions ?? metadata.rows;
  if (count === undefined) throw errors.validation(`the run profile ${path} carries no prediction count (metadata 'predictions')`, { path });
  return parseOrThrow(profileCountMetadataSchema, count, `the prediction count of run profile ${path}`);
}

/**
 * The window's prediction count, recounted from the run profiles stored for it (their
 * `predictions` metadata; `rows`, the rows profiled, on profiles written before it was kept), so a repeated fan-in cannot count a run twice. Label coverage follows the new count,
 * and so does whether realised performance is provisional (actuals may have come first); labels,
 * metrics and drift are left as they are. The profiles are listed after the document is read (on
 * every attempt), so the fan-in that writes last has seen every run profile written before it
 * read: a count listed before another run's profile landed cannot overwrite that run's.
 */
async function recountWindowPredictions(
  deps: BatchDeps,
  definition: ModelDefinition,
  windowId: string,
  version: number,
  span: WindowProfile['window'],
): Promise<void> {
  const model = definition.name;
  for (let attempt = 0; ; attempt++) {
    const found = await deps.runs.windows.get(model, windowId);
    let predictions = 0;
    const folder = `${lakePaths.windowProfilesFolder(model, windowId)}runs/`;
    for await (const o of deps.lake.list(folder)) {
      // Only run profiles count (the drift monitor reads the same ones); anything else put there is not a run.
      if (!isRunProfileName(o.path.slice(folder.length))) continue;
      predictions += profilePredictions(o.path, o.metadata);
    }
    const base: MonitoringWindow = found?.value ?? {
      modelName: model,
      window: span,
      version,
      predictions: 0,
      labelled: 0,
      labelCoverage: 0,
      performance: null,
      drift: null,
    };
    const labelCoverage = predictions > 0 ? Math.min(1, base.labelled / predictions) : 0;
    const next: MonitoringWindow = {
      ...base,
      version,
      predictions,
      labelCoverage,
      performance: base.performance && { ...base.performance, provisional: labelCoverage < definition.policies.performance.minLabelCoverage },
    };
    try {
      if (!found) {
        const created = await deps.runs.windows.create(model, windowId, next);
        if (created.created) return;
        continue;
      }
      await deps.runs.windows.replace(model, windowId, next, found.etag);
      return;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') || attempt >= 10) throw error;
    }
  }
}

/**
 * What the run saw that the champion's validation data never had. A segment key past its cap names
 * the new values it kept (at most the cap) and says how many it saw in `segmentValuesCapped`.
 */
function flavoursOf(definition: ModelDefinition, reference: SegmentedProfile, run: SegmentedProfile): Flavours {
  const newSegmentValues: Flavours['newSegmentValues'] = {};
  const other = (key: string) => `${key}=${OTHER_SEGMENT_VALUE}`;
  for (const key of definition.segmentKeys) {
    const seen = new Set(Object.keys(reference.segments).filter((s) => s.startsWith(`${key}=`)));
    const fresh = Object.keys(run.segments).filter((s) => s.startsWith(`${key}=`) && !seen.has(s) && s !== other(key)).map((s) => s.slice(key.length + 1));
    if (fresh.length > 0) newSegmentValues[key] = fresh.sort();
  }
  const unseenCategories: Flavours['unseenCategories'] = {};
  const outOfRange: Flavours['outOfRange'] = {};
  for (const feature of definition.features) {
    const column: Profile['columns'][string] | undefined = run.overall.columns[feature.name];
    if (column?.kind === 'categorical' && column.unseen && column.unseen.count > 0) {
      const values = column.unseen.values.map(([v]) => v);
      const lookAlikes = lookAlikesOf(values, knownCategories(feature, reference.overall.columns[feature.name]));
      unseenCategories[feature.name] = { rows: column.unseen.count, values, ...(lookAlikes.length > 0 ? { lookAlikes } : {}) };
    }
    if (column?.kind === 'numeric' && column.outOfRange && column.outOfRange.below + column.outOfRange.above > 0) {
      outOfRange[feature.name] = { ...column.outOfRange };
    }
  }
  const capped = run.cappedSegments ?? {};
  return { newSegmentValues, unseenCategories, outOfRange, ...(Object.keys(capped).length > 0 ? { segmentValuesCapped: capped } : {}) };
}

/** The values a categorical feature is known by: the reference's, most frequent first, then its `allowedValues`. */
function knownCategories(feature: ModelDefinition['features'][number], reference: Profile['columns'][string] | undefined): string[] {
  const seen = reference?.kind === 'categorical' ? reference.frequencies.map(([v]) => v) : [];
  return [...seen, ...(feature.type === 'categorical' ? (feature.allowedValues ?? []) : [])];
}

/** Whether a run saw segment values its champion's validation data never had (named, or past a key's cap). */
export const hasNewSegments = (flavours: Flavours | undefined): boolean =>
  Object.keys(flavours?.newSegmentValues ?? {}).length > 0 || Object.keys(flavours?.segmentValuesCapped ?? {}).length > 0;

/** A run that failed for good: recorded with its reason (no half-written predictions count as complete: there is no manifest). */
export async function failRun(deps: BatchDeps, input: { model: string; runId: string; error: string }): Promise<InferenceRun> {
  const now = deps.clock.now();
  return updateRun(deps, input.model, input.runId, (r) => ({
    ...r,
    state: 'failed',
    error: input.error.slice(0, 4000),
    completedAt: now.toISOString(),
    durationMs: Math.max(0, now.getTime() - Date.parse(r.startedAt ?? r.createdAt)),
  }));
}

/** Run states in which an orchestration instance works on the run: it records the outcome when it ends. */
export const ORCHESTRATED_RUN_STATES = ['waiting_for_champion', 'running'] as const satisfies readonly InferenceRun['state'][];

/**
 * Fails a run whose orchestration instance ended (or is gone) without recording its outcome, as
 * failRun does, but only while the run, as stored, is still in an orchestrated state under that
 * instance: the write is ETag-guarded and judged again on a conflict, so a run that completes
 * meanwhile stays completed. Answers the run as it is now and whether this call failed it.
 */
export async function failStrandedRun(
  deps: Pick<BatchDeps, 'runs'>,
  input: { model: string; runId: string; instanceId: string; error: string; at: Date },
): Promise<{ run: InferenceRun; failed: boolean }> {
  // Judged on the run each attempt read: the last judgement is the one whose write landed.
  let failed = false;
  const run = await updateRun(deps, input.model, input.runId, (r) => {
    failed = (ORCHESTRATED_RUN_STATES as readonly string[]).includes(r.state) && r.instanceId === input.instanceId;
    if (!failed) return r;
    return {
      ...r,
      state: 'failed',
      error: input.error.slice(0, 4000),
      completedAt: input.at.toISOString(),
      durationMs: Math.max(0, input.at.getTime() - Date.parse(r.startedAt ?? r.createdAt)),
      // Until run.failed is out: reconciliation publishes it again while the marker is there.
      followUpsPendingSince: input.at.toISOString(),
    };
  });
  return { run, failed };
}

/**
 * Clears `followUpsPendingSince` of a run reconciliation failed, once its follow-ups are done
 * (ETag-guarded, judged again on a conflict). A run without it, or gone, is left as it is.
 */
export async function clearRunFollowUpsPending(deps: Pick<BatchDeps, 'runs'>, model: string, runId: string): Promise<void> {
  try {
    await updateRun(deps, model, runId, (run) => {
      if (run.followUpsPendingSince === undefined) return run;
      const { followUpsPendingSince: _done, ...rest } = run;
      return rest;
    });
  } catch (error) {
    if (!(isDomainError(error) && error.code === 'NOT_FOUND')) throw error;
  }
}

/**
 * Runs of a model waiting for a champion (scored once one is promoted), queried by state: the
 * model's finished runs are not read. One whose document does not read and that may wait fails naming it.
 */
export async function waitingRuns(deps: Pick<BatchDeps, 'runs'>, model: string): Promise<InferenceRun[]> {
  return everyDocument('run', model, await deps.runs.runs.listReadableInState(model, 'waiting_for_champion'));
}

/** What waking the runs of a model found, by run id. */
export interface ResumeReport {
  woken: string[];
  /** Runs whose orchestration instance does not exist (purged) or ended (terminated, failed): nothing waits to be woken. */
  missing: string[];
  /** Runs that could not be told (an outage), with the reason. */
  failed: { runId: string; error: string }[];
  /**
   * Runs of the model whose stored document does not read (damaged, or stored under rules that
   * have since tightened) and that may wait (their state says so, or cannot be told), with why:
   * whether they wait is unknown, so they are not woken.
   */
  unreadable: { runId: string; reason: string }[];
}

/**
 * Wakes every run of `model` waiting for a champion, each on its own: one that cannot be woken
 * (no instance, an outage, a run document that does not read) does not keep the others waiting.
 * `wake` answers false when the run's instance does not exist. Only the waiting runs are read (a
 * query by state), however many the model has finished.
 */
export async function resumeWaitingRuns(deps: Pick<BatchDeps, 'runs'>, model: string, wake: (runId: string) => Promise<boolean>): Promise<ResumeReport> {
  const { documents, unreadable } = await deps.runs.runs.listReadableInState(model, 'waiting_for_champion');
  const report: ResumeReport = { woken: [], missing: [], failed: [], unreadable: unreadable.map((u) => ({ runId: u.id, reason: u.reason })) };
  for (const run of documents) {
    try {
      (await wake(run.runId) ? report.woken : report.missing).push(run.runId);
    } catch (error) {
      report.failed.push({ runId: run.runId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}

/** Loaded versions kept per process, the most recently used `capacity` of them; a failed load is forgotten. */
export class VersionCache implements ScoringCache {
  private readonly entries = new Map<string, Promise<LoadedScoring>>();
  constructor(private readonly capacity = 8) {}

  get(key: string, load: () => Promise<LoadedScoring>): Promise<LoadedScoring> {
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else entry = load().catch((error: unknown) => {
      this.entries.delete(key);
      throw error;
    });
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

/**
 * A model's scheduled run that is due: the latest occurrence of its NCRONTAB `schedule` at or before
 * `now`, if no run has been started for it, over the files that arrived in
 * `drops/{model}/scheduled/` from the previous scheduled run's occurrence up to (not including)
 * this one. None when there is no schedule, the run exists, or nothing arrived.
 *
 * Half-open because Blob Storage keeps whole seconds: a file stamped with the occurrence's second
 * may be written after this run listed the folder, so it belongs to the next run; one stamped
 * earlier was written before the occurrence, hence before the listing.
 */
export async function dueScheduledRun(
  deps: Pick<BatchDeps, 'runs' | 'lake'>,
  definition: ModelDefinition,
  now: Date,
): Promise<Omit<BatchInput, 'maxParallel'> | undefined> {
  if (!definition.schedule) return undefined;
  const model = definition.name;
  // A definition stored before schedules were checked as they are now may hold one that is not NCRONTAB.
  const problem = scheduleProblem(definition.schedule);
  if (problem) throw errors.validation(`model '${model}' is not scheduled: its schedule '${definition.schedule}' is ${problem.startsWith('not ') ? problem : `not valid: ${problem}`}`);
  const occurrence = latestOccurrence(definition.schedule, now);
  const runId = `sched-${occurrence.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  if (await deps.runs.runs.get(model, runId)) return undefined;
  // Files stamped before the latest occurrence any scheduled run was started for are that run's.
  // One later than this occurrence (the schedule was moved to an earlier time, or another host's
  // clock ran ahead) already covered this occurrence's files: a run now would score them again.
  // The runs that may be the latest scheduled one (a query, not the model's history), or none
  // planned: an unreadable one may be the latest scheduled run (fails naming it).
  const previous = everyDocument('run', model, await deps.runs.runs.listReadableLatestScheduled(model))
    .filter((r) => r.kind === 'scheduled' && r.scheduledFor !== undefined)
    .map((r) => Date.parse(r.scheduledFor!))
    .reduce((a, b) => Math.max(a, b), -Infinity);
  if (previous >= occurrence.getTime()) return undefined;
  const sources: SourceRef[] = [];
  for await (const o of deps.lake.list(`${lakePaths.dropsFolder(model)}${SCHEDULED_DROPS}`)) {
    // A folder marker (an empty blob named 'folder/', as some tools make) is no file: planning it would fail the run.
    if (o.path.endsWith('/')) continue;
    const at = o.lastModified.getTime();
    if (at >= previous && at < occurrence.getTime()) sources.push({ path: o.path, etag: o.etag, size: o.size, lastModified: o.lastModified.toISOString() });
  }
  if (sources.length === 0) return undefined;
  return { model, runId, kind: 'scheduled', sources, scheduledFor: occurrence.toISOString() };
}

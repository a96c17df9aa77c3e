import { boundedId } from '../../domain/bounded-id';
import { errors, isDomainError } from '../../domain/errors';
import { hashBytes } from '../../domain/id-table';
import { lakePaths } from '../../domain/lake-paths';
import { windowLengthMs } from '../../domain/windows';
import type { UnreadableDocument } from '../../ports/run-store';
import type { LateMatchOutcome, LateMatchStepInput, RecordedLateWindows } from '../../schemas/actuals';
import { MAX_EVENT_ID_LENGTH, type ModelEventInput } from '../../schemas/messages';
import type { ModelDefinition } from '../../schemas/model';
import { type ActualsRecord, type InferenceRun, type LateMatch, MAX_LATE_MATCHES } from '../../schemas/monitoring';
import { readStoredDocumentOrFail } from '../stored-document';
import { type ActualsDeps, listPaths, lookbackStart, sameEtag, WHOLE_FILE } from './deps';
import { BucketActuals, byWindow, type MatchPlan, matchPredictions, writePiece } from './join-bucket';
import { summarizeLabelled } from './labelled-metrics';
import { recordsWithIdsInRun } from './late-prefilter';
import { candidateRun } from './plan';
import { quarantineBuckets, unmatchedLines } from './quarantine-lines';
import { refreshWindowPerformance } from './window';

/**
 * Late matching: actuals a join counted unmatched because their predictions did not exist yet
 * (the run was still scoring, waiting for a champion, or its drop came later) are matched against
 * each run that completes after the join was planned. The unmatched actuals are read back from the
 * join's quarantine (`unmatched` lines hold the id, the actual as the file said it and its row):
 * they are exactly the ids left to match, already validated, one bucket's hash range per file, and
 * they outlive the actuals file. Matches land in `labelled/{windowId}/{actualsId}~{runId}.parquet`
 * (the join's own files are never rewritten) and the record's counts move from unmatched to
 * matched. The record, updated under its ETag, says which runs matched already: doing a late match
 * twice changes nothing. Each recorded pair is announced as `actuals.late_matched`.
 */

const encoder = new TextEncoder();

/** Attempts at the record's write when other late matches of the same file land meanwhile. */
const MAX_ATTEMPTS = 5;

/**
 * A record late matches may still move: completed, with unmatched actuals kept in quarantine, and
 * not replaced by a newer version of its path (a replaced version no longer counts anywhere).
 */
const awaitsMatches = (r: ActualsRecord): boolean => r.state === 'completed' && r.unmatched > 0 && r.quarantineFolder !== undefined && r.replacedBy === undefined;

/**
 * The file's record, undefined when there is none. One that no longer reads (damaged, or stored
 * under rules that have since tightened) fails the step with DOCUMENT_UNREADABLE naming it: an
 * expected failure, so the orchestration gives the pair up at once instead of waiting through its
 * retry rounds for a document no wait repairs; an outage is thrown as it came, to be retried.
 */
const readRecord = (deps: ActualsDeps, model: string, actualsId: string) => readStoredDocumentOrFail(deps.runs.actuals, 'actuals record', model, actualsId);

/** Whether `run` may hold predictions the join of `record` could not see, within its lookback. */
function lateFor(deps: ActualsDeps, record: ActualsRecord, run: InferenceRun): boolean {
  if (run.state !== 'completed' || run.version === null) return false;
  if ((record.lateMatches ?? []).some((m) => m.runId === run.runId)) return false;
  const lookbackFrom = lookbackStart(deps.settings, record.createdAt).getTime();
  // A run completed before the plan was made was in it (the plan lists runs after its `at`, the record's creation).
  return Date.parse(run.createdAt) >= lookbackFrom && Date.parse(run.completedAt ?? run.createdAt) >= Date.parse(record.createdAt);
}

/**
 * The model's completed actuals records created within the lookback of `at`: a query on the
 * creation time, so a model's older records are not read on every run's completion. Records that
 * no longer read are listed apart (at most MAX_UNREADABLE_LISTED), so the late match can say it
 * could not tell whether they wait for the run.
 */
async function recentRecords(deps: ActualsDeps, model: string, at: Date): Promise<{ records: ActualsRecord[]; unreadable: UnreadableDocument[] }> {
  const since = lookbackStart(deps.settings, at);
  const { documents, unreadable } = await deps.runs.actuals.listReadableCreatedSince(model, since);
  const records = documents.filter((r) => awaitsMatches(r) && Date.parse(r.createdAt) >= since.getTime()).sort((a, b) => (a.actualsId < b.actualsId ? -1 : 1));
  return { records, unreadable: unreadable.slice(0, MAX_UNREADABLE_LISTED) };
}

/** Damaged records a run's late match names in its answer (and so in the orchestration's history): the rest are alike. */
const MAX_UNREADABLE_LISTED = 20;

/**
 * A run that just completed: the actuals files joined without it that hold unmatched ids it
 * carries. `waiting` counts the records that could take a late match with it (completed within
 * the lookback, unmatched actuals left, not matched with it yet); of those, only the ones with an
 * id in the run are listed, found with one read of the run's id column (`recordsWithIdsInRun`),
 * so each run is read in full only by the late matches that find something.
 */
export async function lateRecordsForRun(
  deps: ActualsDeps,
  input: { model: string; runId: string },
): Promise<{ actualsIds: string[]; waiting: number; reason?: string; unreadable?: UnreadableDocument[] }> {
  const run = (await deps.runs.runs.get(input.model, input.runId))?.value;
  if (!run || run.state !== 'completed' || run.version === null) return { actualsIds: [], waiting: 0 };
  const recent = await recentRecords(deps, input.model, deps.clock.now());
  // Damaged records are named in the answer: whether they wait for this run cannot be told.
  const unreadable = recent.unreadable.length > 0 ? { unreadable: recent.unreadable } : {};
  const waiting = recent.records.filter((r) => lateFor(deps, r, run));
  if (waiting.length === 0) return { actualsIds: [], waiting: 0, ...unreadable };
  const model = await deps.registry.getModel(input.model);
  if (!model) throw errors.modelNotFound(input.model);
  return { ...(await recordsWithIdsInRun(deps, model.definition, { ...run, version: run.version }, waiting)), waiting: waiting.length, ...unreadable };
}

/** A join that just completed: the runs that completed after its plan was made, oldest first. */
export async function lateRunsForJoin(deps: ActualsDeps, input: { model: string; actualsId: string }): Promise<{ runIds: string[] }> {
  const record = (await readRecord(deps, input.model, input.actualsId))?.value;
  if (!record || !awaitsMatches(record)) return { runIds: [] };
  // The runs of its lookback only, by a query: not the model's whole history on every join.
  const runs = (await deps.runs.runs.listCreatedSince(input.model, lookbackStart(deps.settings, record.createdAt))).filter((run) => lateFor(deps, record, run));
  runs.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.runId < b.runId ? -1 : 1));
  return { runIds: runs.map((r) => r.runId) };
}

/** An actual as the quarantine wrote it back into the number the join held (a value, or a class index). */
function actualValue(definition: ModelDefinition, text: string, where: string): number {
  const value = definition.task === 'regression' ? Number(text) : (definition.classLabels ?? []).indexOf(text);
  if (definition.task === 'regression' ? Number.isFinite(value) : value >= 0) return value;
  throw errors.invalidInputFile(`${where} has the actual ${JSON.stringify(text)}, which the model cannot take; the quarantine was not written by the join`, { where });
}

/** The unmatched actuals of one quarantine file (one bucket of the join: a bounded number of ids). */
async function unmatchedOf(deps: ActualsDeps, definition: ModelDefinition, path: string): Promise<BucketActuals> {
  const actuals = new BucketActuals(definition, 1024);
  for await (const { line, row, cells } of unmatchedLines(deps, path)) {
    const bytes = encoder.encode(cells[0]);
    const before = actuals.table.size;
    const slot = actuals.table.add(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
    actuals.put(slot, actuals.table.size > before, actualValue(definition, cells[1], `line ${line} of ${path}`), row);
  }
  return actuals;
}

/** Ids of `actuals` that an earlier late match of the file labelled already: marked, so this one leaves them. */
async function labelledEarlier(deps: ActualsDeps, model: string, actualsId: string, earlier: readonly LateMatch[], actuals: BucketActuals): Promise<Uint8Array> {
  const taken = new Uint8Array(actuals.table.size);
  const idColumn = actuals.definition.idColumn;
  for (const match of earlier) {
    for (const windowId of match.windows) {
      const path = lakePaths.lateLabelled(model, windowId, actualsId, match.runId);
      const plan = await deps.files.plan(path, WHOLE_FILE);
      for (const chunk of plan.chunks) {
        const opened = await deps.files.open(path, chunk, { columns: [idColumn] });
        const column = opened.columns.indexOf(idColumn);
        for await (const raw of opened.batches) {
          for (let r = 0; r < raw.rowCount; r += 1) {
            const id = raw.text(column, r);
            if (id === null) continue;
            const bytes = encoder.encode(id);
            const slot = actuals.table.find(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
            if (slot >= 0) taken[slot] = 1;
          }
        }
      }
    }
  }
  return taken;
}

interface LateLabelled {
  matched: number;
  /** Windows labelled, with their rows, by window id. */
  windows: Map<string, number>;
}

/** What one late match works with: the file, the run and where the rows go. */
interface LateContext {
  record: ActualsRecord;
  definition: ModelDefinition;
  plan: MatchPlan;
  runId: string;
}

const piecePath = (ctx: LateContext, windowId: string, bucket: number) =>
  lakePaths.actualsWork(ctx.record.modelName, ctx.record.actualsId, `late/${ctx.runId}/${windowId}/bucket-${String(bucket).padStart(5, '0')}.parquet`);

/**
 * Matches the file's unmatched actuals, one quarantine file (bucket) at a time, against the run's
 * parts, leaving those `earlier` late matches labelled; writes the labelled files (one bucket
 * writes them in place, several write pieces put together per window).
 */
async function matchAgainstRun(deps: ActualsDeps, ctx: LateContext, earlier: readonly LateMatch[]): Promise<LateLabelled> {
  const { modelName: model, actualsId } = ctx.record;
  const quarantined = await quarantineBuckets(deps, model, actualsId);
  const windows = new Map<string, number>();
  // This attempt's pieces only: an earlier attempt's, left in the work folder, may hold ids taken since.
  const pieces = new Map<string, string[]>();
  let matched = 0;
  for (const [bucket, path] of quarantined.entries()) {
    const actuals = await unmatchedOf(deps, ctx.definition, path);
    if (actuals.table.size === 0) continue;
    const taken = await labelledEarlier(deps, model, actualsId, earlier, actuals);
    const matches = await matchPredictions(deps, ctx.plan, 0, actuals);
    taken.forEach((t, slot) => t === 1 && (matches.rank[slot] = -1));
    for (const [windowId, slots] of byWindow(ctx.plan, matches)) {
      const target = quarantined.length === 1 ? lakePaths.lateLabelled(model, windowId, actualsId, ctx.runId) : piecePath(ctx, windowId, bucket);
      await writePiece(deps, ctx.plan, actuals, matches, slots, target);
      pieces.set(windowId, [...(pieces.get(windowId) ?? []), target]);
      windows.set(windowId, (windows.get(windowId) ?? 0) + slots.length);
      matched += slots.length;
    }
  }
  if (quarantined.length > 1) await assemblePieces(deps, ctx, pieces);
  return { matched, windows };
}

/** Puts each window's pieces together into its late labelled file, then removes the work folder. */
async function assemblePieces(deps: ActualsDeps, ctx: LateContext, pieces: Map<string, string[]>): Promise<void> {
  const { modelName: model, actualsId } = ctx.record;
  for (const [windowId, paths] of pieces) await deps.files.concatParquet(paths, lakePaths.lateLabelled(model, windowId, actualsId, ctx.runId));
  for (const path of await listPaths(deps.lake, `${lakePaths.actualsWorkFolder(model, actualsId)}late/${ctx.runId}/`)) await deps.lake.delete(path);
}

/** The file's realised metrics over every row it labelled: the join's files and each late match's. */
async function fileMetrics(deps: ActualsDeps, definition: ModelDefinition, record: ActualsRecord, matches: readonly LateMatch[]) {
  const model = record.modelName;
  const paths: string[] = [];
  const late = new Set(matches.flatMap((m) => m.windows.map((w) => lakePaths.lateLabelled(model, w, record.actualsId, m.runId))));
  for (const windowId of record.windows) {
    const own = lakePaths.labelled(model, windowId, record.actualsId);
    if (await deps.lake.stat(own)) paths.push(own);
  }
  paths.push(...[...late].sort());
  // Late matches take only ids no file of this actuals file labelled: each id is in one file.
  const summary = await summarizeLabelled(deps, definition, paths, { maxRows: deps.settings.metricsMaxRows, bootstrapResamples: deps.settings.bootstrapResamples, maxSegmentValues: deps.settings.segmentMaxValues, unique: true });
  return summary.metrics;
}

/** Why the pair is not matched, or the run and the file's arrival time when it is to be. */
async function readiness(deps: ActualsDeps, record: ActualsRecord, runId: string): Promise<{ skipped: string } | { run: InferenceRun & { version: number }; arrivedAt: string }> {
  const run = (await deps.runs.runs.get(record.modelName, runId))?.value;
  if (!run || run.state !== 'completed' || run.version === null) return { skipped: `run '${runId}' is not a completed run` };
  const now = await deps.lake.stat(record.source.path);
  // A newer version of the path joins on its own (and supersedes this one's actuals).
  if (now && !sameEtag(now.etag, record.source.etag)) return { skipped: 'the actuals file was replaced by a newer version' };
  const arrivedAt = record.source.lastModified ?? (now ? now.lastModified.toISOString() : undefined);
  if (arrivedAt === undefined) return { skipped: 'the actuals file is gone and its record does not say when it arrived' };
  if ((record.lateMatches ?? []).length >= MAX_LATE_MATCHES && !record.lateMatches!.some((m) => m.runId === runId)) {
    return { skipped: `the record holds ${MAX_LATE_MATCHES} late matches, the most it keeps` };
  }
  return { run: { ...run, version: run.version }, arrivedAt };
}

/**
 * The plan a late match joins with: the run alone, the file's arrival for `actuals_at`; or why the
 * run cannot be read (its manifest or a part gone or damaged, as the join's plan skips such runs).
 */
async function latePlan(
  deps: ActualsDeps,
  definition: ModelDefinition,
  record: ActualsRecord,
  run: InferenceRun & { version: number },
  arrivedAt: string,
): Promise<MatchPlan | { skipped: string }> {
  const candidate = await candidateRun(deps, definition, run, windowLengthMs(definition.policies.drift.window));
  if (!('parts' in candidate)) return { skipped: `run '${run.runId}' cannot be read: ${candidate.reason}` };
  return { actualsId: record.actualsId, definition, runs: [candidate], buckets: 1, window: definition.policies.drift.window, source: { lastModified: arrivedAt } };
}

/** Removes what an earlier attempt of this late match wrote and this one did not (a window it no longer labels). */
async function removeStale(deps: ActualsDeps, ctx: LateContext, written: Set<string>, kept: Map<string, number>): Promise<void> {
  const keep = new Set([...kept.keys()].map((w) => lakePaths.lateLabelled(ctx.record.modelName, w, ctx.record.actualsId, ctx.runId)));
  for (const path of written) if (!keep.has(path)) await deps.lake.delete(path);
  for (const path of keep) written.add(path);
}

/** The event id of a late match: one per (actuals file, run), so the topic drops a repeated publish. */
export const lateMatchEventId = (actualsId: string, runId: string): string => boundedId(`actuals-late-match:${actualsId}:${runId}`, MAX_EVENT_ID_LENGTH, '#');

/**
 * Windows an `actuals.late_matched` event names: a run of a long backfill can span thousands of
 * windows (a year of hourly ones is 8,760), and a message over Service Bus's 256 KB is refused for
 * good, so the event would never go out. A window id is 14 characters: these take about 17 KB.
 */
export const MAX_LATE_MATCH_EVENT_WINDOWS = 1000;

/** `actuals.late_matched` of a recorded late match: made from the record's entry alone, so every publish of it is the same event. */
export function lateMatchEvent(record: Pick<ActualsRecord, 'modelName' | 'actualsId'>, match: LateMatch): ModelEventInput {
  const windows = match.windows.slice(0, MAX_LATE_MATCH_EVENT_WINDOWS);
  const omittedWindows = match.windows.length - windows.length;
  return {
    type: 'actuals.late_matched',
    eventId: lateMatchEventId(record.actualsId, match.runId),
    model: record.modelName,
    occurredAt: match.at,
    data: { actualsId: record.actualsId, runId: match.runId, matched: match.matched, windows, ...(omittedWindows > 0 ? { omittedWindows } : {}) },
  };
}

const outcomeOf = (outcome: LateMatchOutcome['outcome'], match?: Pick<LateMatch, 'matched' | 'windows'>, reason?: string): LateMatchOutcome => ({
  outcome,
  matched: match?.matched ?? 0,
  windows: match?.windows ?? [],
  ...(reason ? { reason } : {}),
});

/**
 * The outcome of a recorded late match, once its event is out. Published after the record write,
 * as a join's `run.completed` is: a conflict or the record's size can still call the match off
 * before it. A publish that fails fails the activity, and its retry finds the pair `done` and
 * publishes again; a duplicate of a publish that went out is dropped by the topic (same id).
 */
async function announced(deps: ActualsDeps, record: ActualsRecord, match: LateMatch, outcome: 'matched' | 'done'): Promise<LateMatchOutcome> {
  await deps.events.publish(lateMatchEvent(record, match));
  return outcomeOf(outcome, match);
}

/**
 * Matches the unmatched actuals of one joined file against one run that completed after the join
 * was planned: writes the labelled files, then the record (counts, `lateMatches`, windows,
 * metrics) under its ETag, then publishes `actuals.late_matched`. Returns the windows to refresh.
 * A pair already matched is `done` (its windows are returned again and its event published again,
 * so a retry after the record was written still refreshes them and announces it). When another
 * late match of the file lands first, this one starts over without the ids it took. A record that
 * no longer reads fails it with DOCUMENT_UNREADABLE naming the record (`readRecord`).
 */
export async function lateMatchActuals(deps: ActualsDeps, input: LateMatchStepInput): Promise<LateMatchOutcome> {
  const model = await deps.registry.getModel(input.model);
  if (!model) throw errors.modelNotFound(input.model);
  const definition = model.definition;
  const written = new Set<string>();
  for (let attempt = 1; ; attempt += 1) {
    const stored = await readRecord(deps, input.model, input.actualsId);
    const record = stored?.value;
    const matches = record?.lateMatches ?? [];
    const done = matches.findIndex((m) => m.runId === input.runId);
    // Before the record's state: a retry after this pair took the last unmatched actuals still refreshes its windows.
    if (done >= 0 && written.size === 0) return announced(deps, record!, matches[done]!, 'done');
    // An attempt that wrote files, then met a record that takes no late match any more (replaced by a newer version meanwhile), withdraws them.
    if (!stored || !record || (done < 0 && !awaitsMatches(record))) return withdrawn(deps, written, outcomeOf('none', undefined, 'the record has no unmatched actuals to match'));
    const ready = await readiness(deps, record, input.runId);
    if ('skipped' in ready) return withdrawn(deps, written, outcomeOf('skipped', undefined, ready.skipped));
    const plan = await latePlan(deps, definition, record, ready.run, ready.arrivedAt);
    if ('skipped' in plan) return withdrawn(deps, written, outcomeOf('skipped', undefined, plan.skipped));
    const ctx: LateContext = { record, definition, runId: input.runId, plan };
    // A pair another attempt recorded meanwhile: its files are rewritten as recorded (without the ids of the matches before it).
    const labelled = await matchAgainstRun(deps, ctx, done >= 0 ? matches.slice(0, done) : matches);
    await removeStale(deps, ctx, written, labelled.windows);
    if (done >= 0) return announced(deps, record, matches[done]!, 'done');
    if (labelled.matched === 0) return outcomeOf('none', undefined, `run '${input.runId}' has none of the unmatched ids`);
    const entry: LateMatch = {
      runId: input.runId,
      matched: labelled.matched,
      at: deps.clock.now().toISOString(),
      windows: [...labelled.windows.keys()].sort(),
      // The side whose write lands owns the pair's revalidation: the other side finds it `done`.
      ...(input.side ? { recordedBy: input.side } : {}),
    };
    const next: ActualsRecord = {
      ...record,
      matched: record.matched + entry.matched,
      unmatched: record.unmatched - entry.matched,
      windows: [...new Set([...record.windows, ...entry.windows])].sort(),
      lateMatches: [...matches, entry],
      metrics: await fileMetrics(deps, definition, record, [...matches, entry]),
    };
    try {
      await deps.runs.actuals.replace(input.model, input.actualsId, next, stored.etag);
    } catch (error) {
      // Files the record cannot count would still be counted by the windows they are in: withdrawn, their windows refreshed.
      if (isDomainError(error) && error.code === 'PAYLOAD_TOO_LARGE') return withdrawn(deps, written, outcomeOf('skipped', undefined, `the record cannot hold this late match: ${error.message}`));
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT' && attempt < MAX_ATTEMPTS)) throw error;
      continue;
    }
    return announced(deps, next, entry, 'matched');
  }
}

/**
 * The outcome of an attempt that ends without recording its match after an earlier attempt of it
 * wrote labelled files: the windows count every file in their folders, so the files are removed
 * and their windows named, for the orchestration to refresh.
 */
async function withdrawn(deps: ActualsDeps, written: Set<string>, outcome: LateMatchOutcome): Promise<LateMatchOutcome> {
  if (written.size === 0) return outcome;
  const windows = [...new Set([...written].map((path) => path.split('/').slice(-2)[0]!))].sort();
  for (const path of written) await deps.lake.delete(path);
  written.clear();
  return { ...outcome, windows };
}

/**
 * The windows a late match recorded, read from its record: for a pair whose activity failed, maybe
 * after the record write, so the orchestration never heard which windows to refresh. A pair the
 * record does not hold has none.
 */
export async function recordedLateWindows(deps: ActualsDeps, input: { model: string; actualsId: string; runId: string }): Promise<RecordedLateWindows> {
  const record = (await readRecord(deps, input.model, input.actualsId))?.value;
  const match = (record?.lateMatches ?? []).find((m) => m.runId === input.runId);
  return { windows: match?.windows ?? [] };
}

/** Brings one window's realised performance up to date after a late match labelled rows in it. */
export async function refreshLateWindow(deps: ActualsDeps, input: { model: string; windowId: string }) {
  const model = await deps.registry.getModel(input.model);
  if (!model) throw errors.modelNotFound(input.model);
  return refreshWindowPerformance(deps, model.definition, input.windowId);
}

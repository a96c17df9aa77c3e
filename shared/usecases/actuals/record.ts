import { errors } from '../../domain/errors';
import { lakePaths } from '../../domain/lake-paths';
import { type DocumentPage, holdsAnyDocument, type PageRequest } from '../../ports/run-store';
import type { BucketSummary } from '../../schemas/actuals';
import type { ActualsRecord } from '../../schemas/monitoring';
import { type ActualsDeps, listPaths, readPlan, updateActualsRecord } from './deps';
import { summarizeLabelled } from './labelled-metrics';
import { runningRecord } from './plan';
import { nothingReplaced, type Replacement, replaceOlderVersions } from './replace';

/**
 * A join's record as a step that ends it left it, and what settling its path's versions did: the
 * versions replaced and the windows recomputed without them, whose updates the caller warns about
 * as after any window refresh (`uncountedRecords`).
 */
export interface EndedJoin {
  record: ActualsRecord;
  replacement: Replacement;
}

/** The event ids of a join's outcome: a repeated publish is dropped by the topic. */
export const actualsEventId = (actualsId: string, outcome: 'completed' | 'failed') => `actuals-join:${actualsId}:${outcome}`;

function add(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** The file's counts: the sum of its buckets'. */
function totals(summaries: readonly BucketSummary[]) {
  return {
    rows: summaries.reduce((s, b) => s + b.rows, 0),
    matched: summaries.reduce((s, b) => s + b.matched, 0),
    unmatched: summaries.reduce((s, b) => s + b.unmatched, 0),
    duplicateIds: summaries.reduce((s, b) => s + b.duplicateIds, 0),
    duplicateRows: summaries.reduce((s, b) => s + b.duplicateRows, 0),
    rescoredIds: summaries.reduce((s, b) => s + b.rescoredIds, 0),
    rejectionReasons: summaries.reduce((r, b) => add(r, b.rejectionReasons), {} as Record<string, number>),
    windows: [...new Set(summaries.flatMap((b) => b.windows.map((w) => w.windowId)))].sort(),
  };
}

/** The file's realised metrics, read back from its labelled files (each id once in them). */
async function labelledFileMetrics(deps: ActualsDeps, model: string, actualsId: string, windows: readonly string[]) {
  const plan = await readPlan(deps.lake, model, actualsId);
  const labelled = windows.map((windowId) => lakePaths.labelled(model, windowId, actualsId));
  const summary = await summarizeLabelled(deps, plan.definition, labelled, {
    maxRows: deps.settings.metricsMaxRows,
    bootstrapResamples: deps.settings.bootstrapResamples,
    maxSegmentValues: deps.settings.segmentMaxValues,
    unique: true,
  });
  return summary.metrics;
}

async function removeWork(deps: ActualsDeps, model: string, actualsId: string): Promise<void> {
  for (const path of await listPaths(deps.lake, lakePaths.actualsWorkFolder(model, actualsId))) await deps.lake.delete(path);
}

/**
 * Completes a join: the file's realised metrics over its matched rows (overall and per segment),
 * its counts summed over the buckets, the windows it labelled; then the `run.completed` event
 * (kind `actuals-join`), the work folder is removed, and older versions of the same path are
 * replaced (or this one is, when a newer version completed first). A retry after the record was
 * written only repeats the event (deduplicated by id), the clean-up and the replacement, each
 * idempotent.
 */
export async function completeActualsJoin(
  deps: ActualsDeps,
  input: { model: string; actualsId: string; summaries: BucketSummary[]; completedAt: string },
): Promise<EndedJoin> {
  const { model, actualsId } = input;
  const current = await deps.runs.actuals.get(model, actualsId);
  let record = current?.value;
  if (record?.state !== 'completed') {
    const counts = totals(input.summaries);
    const single = input.summaries.length === 1 ? input.summaries[0]!.metrics : undefined;
    const metrics = single !== undefined ? single : await labelledFileMetrics(deps, model, actualsId, counts.windows);
    const quarantined = input.summaries.some((b) => b.quarantinePath !== undefined);
    record = await updateActualsRecord(deps, model, actualsId, (r) => ({
      ...r,
      ...counts,
      state: 'completed',
      metrics,
      ...(quarantined ? { quarantineFolder: lakePaths.quarantineFolder(model, actualsId) } : {}),
      completedAt: input.completedAt,
    }));
  }
  const rejected = Object.values(record.rejectionReasons).reduce((a, b) => a + b, 0);
  await deps.events.publish({
    type: 'run.completed',
    eventId: actualsEventId(actualsId, 'completed'),
    model,
    occurredAt: record.completedAt ?? input.completedAt,
    data: { runId: actualsId, kind: 'actuals-join', rows: record.rows, quarantinedRows: rejected + record.unmatched + (record.duplicateRows ?? 0) },
  });
  await removeWork(deps, model, actualsId);
  const replacement = await replaceOlderVersions(deps, { model, actualsId, at: record.completedAt ?? input.completedAt });
  return { record, replacement };
}

/**
 * Records a join that failed for good (the file or the model is unusable, or an outage outlasted
 * the retries): the record says `failed` with the reason, `run.failed` is published. A record
 * that completed meanwhile is left as it is. When a newer version of the path has completed,
 * this one is replaced: the labelled files it placed before failing leave the windows.
 */
export async function failActualsJoin(
  deps: ActualsDeps,
  input: { model: string; path: string; etag: string; size: number; lastModified: string; actualsId: string; instanceId: string; error: string; at: string },
): Promise<EndedJoin> {
  const { model, actualsId } = input;
  await deps.runs.actuals.create(model, actualsId, runningRecord(input, actualsId));
  const record = await updateActualsRecord(deps, model, actualsId, (r) =>
    r.state === 'completed' ? r : { ...r, state: 'failed', error: input.error.slice(0, 4000), completedAt: r.completedAt ?? input.at },
  );
  if (record.state === 'failed') await announceFailure(deps, record, input.error, input.at);
  // A version that failed after a newer one completed takes out what it placed before failing.
  const replacement = await replaceOlderVersions(deps, { model, actualsId, at: record.completedAt ?? input.at });
  return { record, replacement };
}

/** `run.failed` of a join recorded failed, then its work folder removed. */
async function announceFailure(deps: ActualsDeps, record: ActualsRecord, error: string, at: string): Promise<void> {
  const { modelName: model, actualsId } = record;
  await deps.events.publish({
    type: 'run.failed',
    eventId: actualsEventId(actualsId, 'failed'),
    model,
    occurredAt: record.completedAt ?? at,
    data: { runId: actualsId, error: record.error ?? error },
  });
  await removeWork(deps, model, actualsId);
}

/**
 * Fails a join whose orchestration instance ended (or is gone) without recording its outcome, as
 * failActualsJoin does (`run.failed`, the work folder removed, older or newer versions of its path
 * settled), but only while the record, as stored, still says `running` under that instance: the
 * write is ETag-guarded and judged again on a conflict, so a join that completes meanwhile stays
 * completed and nothing is published. Answers the record as it is now, whether this call failed
 * it, and what settling its path's versions did then.
 */
export async function failStrandedActualsJoin(
  deps: ActualsDeps,
  input: { model: string; actualsId: string; instanceId: string; error: string; at: string },
): Promise<EndedJoin & { failed: boolean }> {
  const { model, actualsId } = input;
  const error = input.error.slice(0, 4000);
  // Judged on the record each attempt read: the last judgement is the one whose write landed.
  let failed = false;
  const record = await updateActualsRecord(deps, model, actualsId, (r) => {
    failed = r.state === 'running' && r.instanceId === input.instanceId;
    // The marker stays until the follow-ups are done: reconciliation reruns them while it is there.
    return failed ? { ...r, state: 'failed', error, completedAt: input.at, followUpsPendingSince: input.at } : r;
  });
  if (!failed) return { record, replacement: nothingReplaced(), failed };
  return { ...(await finishStrandedJoinFollowUps(deps, record)), failed };
}

/**
 * The follow-ups of a join reconciliation failed (`followUpsPendingSince`), as failActualsJoin runs
 * them: `run.failed`, the work folder removed, its path's versions settled; then the marker is
 * cleared. Each is idempotent (a fixed event id the topic deduplicates, a removed folder lists
 * nothing, a replaced version is not replaced again and a moved file is found moved), so running
 * them again after an outage loses and repeats nothing. A record no longer failed (a late
 * completion landed over it, and did its own follow-ups) only loses the marker.
 */
export async function finishStrandedJoinFollowUps(deps: ActualsDeps, record: ActualsRecord): Promise<EndedJoin> {
  const { modelName: model, actualsId } = record;
  let replacement: Replacement = nothingReplaced();
  if (record.state === 'failed') {
    const at = record.completedAt ?? record.followUpsPendingSince ?? deps.clock.now().toISOString();
    await announceFailure(deps, record, record.error ?? 'the orchestration ended without recording the outcome', at);
    replacement = await replaceOlderVersions(deps, { model, actualsId, at });
  }
  const cleared = await updateActualsRecord(deps, model, actualsId, (r) => {
    if (r.followUpsPendingSince === undefined) return r;
    const { followUpsPendingSince: _done, ...rest } = r;
    return rest;
  });
  return { record: cleared, replacement };
}

/**
 * A page of the model's actuals records, newest first (by createdAt, then id), and those on it the
 * store cannot read apart (by id, with why). A file sent for a model that is not registered fails with that reason, and its record is
 * listed here; a name with neither a model nor records is not found.
 */
export async function listActualsRecords(deps: Pick<ActualsDeps, 'runs' | 'registry'>, model: string, page: PageRequest): Promise<DocumentPage<ActualsRecord>> {
  const listed = await deps.runs.actuals.listReadablePage(model, page);
  // An empty page past the last record is no sign that the name is unknown: the first page tells.
  if (listed.documents.length === 0 && listed.unreadable.length === 0 && !(await holdsAnyDocument(deps.runs.actuals, model)) && !(await deps.registry.getModel(model))) throw errors.modelNotFound(model);
  return listed;
}

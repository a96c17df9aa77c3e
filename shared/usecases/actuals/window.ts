import { isDomainError } from '../../domain/errors';
import { lakePaths } from '../../domain/lake-paths';
import { windowFromId, windowLengthMs } from '../../domain/windows';
import type { WindowUpdate } from '../../schemas/actuals';
import type { ModelDefinition } from '../../schemas/model';
import type { MonitoringWindow } from '../../schemas/monitoring';
import { CountedLabelledFiles } from './counted-labelled';
import { type ActualsDeps, listPaths, readPlan, work } from './deps';
import { type LabelledSummary, summarizeLabelled } from './labelled-metrics';

/** Concurrent writers of one window document (other joins, inference, the monitor) retry this often. */
const MAX_ATTEMPTS = 20;

/**
 * Puts one actuals file's labelled rows of a window in place (`labelled/{windowId}/{actualsId}.parquet`:
 * its buckets' pieces concatenated; a single bucket wrote it there itself) and brings the
 * window's realised performance up to date.
 */
export async function updateLabelledWindow(deps: ActualsDeps, input: { model: string; actualsId: string; windowId: string }): Promise<WindowUpdate> {
  const plan = await readPlan(deps.lake, input.model, input.actualsId);
  const pieces = await listPaths(deps.lake, work.labelledPieces(input.model, input.actualsId, input.windowId), '.parquet');
  const target = lakePaths.labelled(input.model, input.windowId, input.actualsId);
  if (pieces.length > 0) await deps.files.concatParquet(pieces, target);
  return refreshWindowPerformance(deps, plan.definition, input.windowId);
}

/**
 * Recomputes a window's realised performance from all its labelled files that count (each id
 * once, the latest actual; a late match's file only once its record holds it, and not while its
 * record does not read: those records are named in `uncountedRecords`) and writes
 * `labelled`, `labelCoverage` and `performance` into its monitoring window document, creating it
 * when batch inference has not yet. Other fields (`predictions`, `drift`, ...) are kept as stored:
 * the write is a read-modify-write guarded by the ETag. The files and the records of late files
 * are read after the document, so whichever writer writes last has seen every file and every
 * late match's entry written before it read: nothing that counts is left out of the stored figures.
 */
export async function refreshWindowPerformance(deps: ActualsDeps, definition: ModelDefinition, windowId: string): Promise<WindowUpdate> {
  const model = definition.name;
  const folder = lakePaths.labelledFolder(model, windowId);
  let seen = '';
  let summary: LabelledSummary | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const stored = await deps.runs.windows.get(model, windowId);
    const listed: { path: string; etag: string }[] = [];
    for await (const o of deps.lake.list(folder)) if (o.path.endsWith('.parquet')) listed.push({ path: o.path, etag: o.etag });
    // Read after the document on every attempt, as the files are: a late match's entry written before this read counts.
    const counted = new CountedLabelledFiles(deps.runs.actuals, model);
    const files = await counted.keep(listed);
    const listing = files.map((f) => `${f.path}\n${f.etag}`).join('\n');
    if (summary === undefined || listing !== seen) {
      try {
        summary = await summarizeLabelled(deps, definition, files.map((f) => f.path), {
          maxRows: deps.settings.metricsMaxRows,
          bootstrapResamples: deps.settings.bootstrapResamples,
          maxSegmentValues: deps.settings.segmentMaxValues,
          // One actuals file labels each id once.
          unique: files.length === 1,
        });
      } catch (error) {
        // A file moved out since the listing (another file's older version replaced meanwhile): list again.
        if (!(isDomainError(error) && error.code === 'NOT_FOUND')) throw error;
        if (attempt < MAX_ATTEMPTS) continue;
        throw new Error(`the labelled files of window ${windowId} of '${model}' changed while they were read, on each of ${MAX_ATTEMPTS} attempts; retried later`);
      }
      seen = listing;
    }
    const doc = windowDocument(definition, windowId, stored?.value, summary, deps.clock.now().toISOString());
    try {
      if (stored) await deps.runs.windows.replace(model, windowId, doc, stored.etag);
      else if (!(await deps.runs.windows.create(model, windowId, doc)).created) continue;
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT')) throw error;
      if (attempt < MAX_ATTEMPTS) continue;
      // Not a DomainError: a window other writers keep changing (a burst of files for it) is busy,
      // not wrong, so the activity is retried with backoff instead of failing the join for good.
      throw new Error(`window ${windowId} of '${model}' changed on each of ${MAX_ATTEMPTS} writes (other joins, batch inference or the monitor writing it); retried later`);
    }
    const uncounted = counted.uncounted();
    return {
      windowId,
      labelled: doc.labelled,
      labelCoverage: doc.labelCoverage,
      provisional: doc.performance?.provisional ?? true,
      ...(uncounted.length > 0 ? { uncountedRecords: uncounted } : {}),
    };
  }
}

/**
 * The warnings of a window refreshed without the late files of actuals records that do not read:
 * one per record, naming it, the window and why, so someone repairs or removes it (its late rows
 * count again then). Whoever refreshes a window logs them: the window activities, and the steps
 * whose replacement of an older version of a path refreshed windows.
 */
export const uncountedWarnings = (model: string, update: Pick<WindowUpdate, 'windowId' | 'uncountedRecords'>): string[] =>
  (update.uncountedRecords ?? []).map(
    ({ actualsId, reason, files }) => `window ${update.windowId} of '${model}': ${files} late labelled file(s) of actuals record '${actualsId}' not counted: the record cannot be read (${reason})`,
  );

function windowDocument(
  definition: ModelDefinition,
  windowId: string,
  stored: MonitoringWindow | undefined,
  summary: LabelledSummary,
  now: string,
): MonitoringWindow {
  const predictions = stored?.predictions ?? 0;
  // Until batch inference has counted the window's predictions, coverage is unknown: 0, provisional.
  const labelCoverage = predictions > 0 ? Math.min(1, summary.labelled / predictions) : 0;
  const performance = summary.metrics && {
    metrics: summary.metrics,
    provisional: labelCoverage < definition.policies.performance.minLabelCoverage,
    updatedAt: now,
  };
  const base: MonitoringWindow = stored ?? {
    modelName: definition.name,
    window: windowFromId(windowId, windowLengthMs(definition.policies.drift.window)),
    version: null,
    predictions: 0,
    labelled: 0,
    labelCoverage: 0,
    performance: null,
    drift: null,
  };
  return { ...base, version: base.version ?? summary.version, labelled: summary.labelled, labelCoverage, performance };
}

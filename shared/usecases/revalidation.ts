import { MISSING_PROFILE_VALUE } from '../domain/drift';
import { errors } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { MISSING_SEGMENT } from '../domain/metrics';
import { DEFAULT_SEGMENT_MAX_VALUES, OTHER_SEGMENT_VALUE } from '../domain/segment-cap';
import type { ModelRegistry } from '../ports/model-registry';
import type { RevalidationInput } from '../schemas/lifecycle-orchestration';
import type { ActualsRecord, LateMatchSide } from '../schemas/monitoring';
import { labelledSegments } from './actuals/labelled-metrics';
import { readStoredDocumentOrFail } from './stored-document';
import { revalidationDataset, type TrainingDataDeps } from './training-data';
import { loadReferenceProfile } from './window-profiles';

/**
 * Revalidation of the champion on a new data flavour: when an actuals file labels rows of a
 * segment value the champion's validation data never had (`region=east`), the champion is
 * validated again on its validation data plus those labelled rows, so the evidence shows how it
 * does on the new flavour. Its state does not change; the ledger and the events say it happened.
 * Rows a late match labelled (actuals that came before their predictions) are judged the same way,
 * once per (version, actuals file, run).
 */
export interface RevalidationDeps extends TrainingDataDeps {
  registry: ModelRegistry;
  /** Named new values kept per segment key (setting SEGMENT_MAX_VALUES). */
  segmentMaxValues?: number;
}

/**
 * A metrics segment (`region=(missing)`) as the reference profile names it (`region=∅`): rows
 * without a value are no new flavour, and read under the metrics' name they would look like one
 * to every actuals file that labels such a row.
 */
const asProfileSegment = (segment: string): string =>
  segment.endsWith(`=${MISSING_SEGMENT}`) ? `${segment.slice(0, -MISSING_SEGMENT.length)}${MISSING_PROFILE_VALUE}` : segment;

/** What an actuals file labelled: the windows and the segments with labelled rows. */
interface Labelled {
  windows: string[];
  segments: string[];
}

/** What the join labelled, by the file's realised metrics (null without labelled rows). */
function joinLabelled(record: ActualsRecord): Labelled | null {
  if (!record.metrics) return null;
  return { windows: record.windows, segments: record.metrics.segments.filter((s) => s.rows > 0).map((s) => s.segment) };
}

/**
 * What the late match of the file with `runId` labelled: its windows, and the segments of the
 * rows in its own files (`{actualsId}~{runId}.parquet`), not the rest of the file's (null when the
 * pair is not recorded, or the record was replaced by a newer version: its files left the windows).
 */
async function lateLabelled(deps: RevalidationDeps, record: ActualsRecord, runId: string): Promise<Labelled | null> {
  const match = (record.lateMatches ?? []).find((m) => m.runId === runId);
  if (!match || record.replacedBy !== undefined) return null;
  const model = await deps.registry.getModel(record.modelName);
  if (!model) throw errors.modelNotFound(record.modelName);
  const paths: string[] = [];
  for (const windowId of match.windows) {
    const path = lakePaths.lateLabelled(record.modelName, windowId, record.actualsId, runId);
    // Gone while a newer version of the path replaces this one (files first, `replacedBy` last): they count nowhere.
    if (await deps.lake.stat(path)) paths.push(path);
  }
  return { windows: match.windows, segments: await labelledSegments(deps, model.definition, paths) };
}

/**
 * What to revalidate after an actuals file was joined, or (with `runId`) after a late match of it
 * labelled more rows: the champion and the labelled segments its reference profile lacks (null
 * when there is no champion, no reference or nothing new). The same test either way; a late
 * match's rows only are looked at, so what the join labelled is not revalidated again for it. A
 * late match asked about by the `side` that did not record it gets null too.
 */
export async function revalidationFor(
  deps: RevalidationDeps,
  input: { model: string; actualsId: string; runId?: string | undefined; side?: LateMatchSide | undefined },
): Promise<RevalidationInput | null> {
  // A record that no longer reads is DOCUMENT_UNREADABLE: asking again would not repair it.
  const record = (await readStoredDocumentOrFail(deps.runs.actuals, 'actuals record', input.model, input.actualsId))?.value;
  if (record?.state !== 'completed') return null;
  if (input.runId !== undefined) {
    const match = (record.lateMatches ?? []).find((m) => m.runId === input.runId);
    // A late match that failed before recording its pair is asked about too: nothing to read then.
    if (!match) return null;
    // Both sides may have matched the pair at once: the one that recorded it starts the revalidation,
    // so one instance id is never started twice (Durable does not deduplicate sub-orchestration starts).
    if (match.recordedBy !== undefined && input.side !== undefined && match.recordedBy !== input.side) return null;
  }
  const version = (await deps.registry.getChampion(input.model))?.value.version ?? null;
  if (version === null) return null;
  const reference = await loadReferenceProfile(deps.lake, input.model, version);
  if (!reference) return null;
  const labelled = input.runId === undefined ? joinLabelled(record) : await lateLabelled(deps, record, input.runId);
  if (!labelled) return null;
  // Values past a key's cap (`key=__other__`) are no flavour anyone can name: the record counts them (`cappedSegments`).
  // A key the reference already folded (its data had more values than the cap) cannot tell a new
  // value from a folded one, and a revalidation would fold a rare new value again: every file
  // labelling it would start one more revalidation, each failing the same cardinality check.
  const newSegments = labelled.segments
    .filter((segment) => !segment.endsWith(`=${OTHER_SEGMENT_VALUE}`) && reference.cappedSegments?.[segment.slice(0, segment.indexOf('='))] === undefined)
    .filter((segment) => reference.segments[asProfileSegment(segment)] === undefined)
    .sort();
  if (newSegments.length === 0) return null;
  return {
    model: input.model,
    version,
    actualsId: input.actualsId,
    ...(input.runId !== undefined ? { runId: input.runId } : {}),
    windows: labelled.windows,
    newSegments: withinCapPerKey(newSegments, deps.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES),
  };
}

/**
 * At most `cap` new values per key, the first by name: a late match's files are read as written,
 * not folded as the record's metrics are, and the list travels in the orchestration's input and
 * the ledger's reason. The revalidation reads the windows' rows either way.
 */
function withinCapPerKey(segments: readonly string[], cap: number): string[] {
  const perKey = new Map<string, number>();
  return segments.filter((segment) => {
    const key = segment.slice(0, segment.indexOf('='));
    const count = (perKey.get(key) ?? 0) + 1;
    perKey.set(key, count);
    return count <= cap;
  });
}

/** Where a revalidation's data goes: one folder per actuals file, and one per late match of it. */
export const revalidationDataPath = (input: Pick<RevalidationInput, 'model' | 'actualsId' | 'runId'>): string =>
  input.runId === undefined ? lakePaths.revalidationDataset(input.model, input.actualsId) : lakePaths.lateRevalidationDataset(input.model, input.actualsId, input.runId);

/** Writes the revalidation's data file (the version's validation rows and the labelled ones); its lake path. */
export async function writeRevalidationData(
  deps: RevalidationDeps,
  input: RevalidationInput,
  maxRows: number,
): Promise<string> {
  const [model, version] = await Promise.all([
    deps.registry.getModel(input.model),
    deps.registry.getVersion(input.model, input.version),
  ]);
  if (!model) throw errors.modelNotFound(input.model);
  if (!version) throw errors.versionNotFound(input.model, input.version);
  const data = await revalidationDataset(deps, {
    definition: model.definition,
    version: version.value,
    windows: input.windows,
    path: revalidationDataPath(input),
    maxRows,
  });
  if (data.labelledRows === 0) {
    throw errors.insufficientData(
      `no labelled row of ${input.newSegments.join(', ')} could be joined back to its drop`,
      { skipped: data.skipped },
    );
  }
  return data.path;
}

/** The ledger's words for a revalidation. */
export const revalidationReason = (input: RevalidationInput): string =>
  `new segment value(s) ${input.newSegments.join(', ')} labelled by actuals ${input.actualsId}${input.runId !== undefined ? ` matched late with run ${input.runId}` : ''}`;

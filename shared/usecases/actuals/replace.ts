import { type ActualsVersion, newerActualsVersion, newestActualsVersion } from '../../domain/actuals';
import { errors, isDomainError } from '../../domain/errors';
import { sameEtag } from '../../domain/lake-objects';
import { lakePathProblem, lakePaths, parseLabelledPath } from '../../domain/lake-paths';
import type { WindowUpdate } from '../../schemas/actuals';
import type { ModelDefinition } from '../../schemas/model';
import type { ActualsRecord } from '../../schemas/monitoring';
import { type ActualsDeps, updateActualsRecord } from './deps';
import { refreshWindowPerformance } from './window';

/** A record as a version of its path: ordered by the blob's last-modified time (its join's start for records stored without it). */
function versionOf(record: ActualsRecord, currentEtag: string | undefined): ActualsVersion & { record: ActualsRecord } {
  return {
    actualsId: record.actualsId,
    lastModified: Date.parse(record.source.lastModified ?? record.createdAt),
    current: currentEtag !== undefined && sameEtag(currentEtag, record.source.etag),
    record,
  };
}

/**
 * Which versions of one path stop counting: with `newest` the newest completed version, every
 * other version that ended (completed or failed) and is older than it, and not replaced yet. A
 * running version settles itself when it ends (its files may still be coming); a failed version
 * newer than the newest completed one replaces nothing and is replaced by nothing.
 */
export function versionsToReplace(records: readonly ActualsRecord[], currentEtag: string | undefined): { newest: ActualsRecord; older: ActualsRecord[] } | undefined {
  const versions = records.map((r) => versionOf(r, currentEtag));
  const newest = newestActualsVersion(versions.filter((v) => v.record.state === 'completed'));
  if (!newest) return undefined;
  const older = versions.filter(
    (v) => v !== newest && v.record.state !== 'running' && v.record.replacedBy === undefined && newerActualsVersion(newest, v),
  );
  return { newest: newest.record, older: older.map((v) => v.record) };
}

/**
 * The window id of a labelled file of this version, its own (`.../labelled/{windowId}/{actualsId}.parquet`)
 * or a late match's (`{actualsId}~{runId}.parquet`), and the name it keeps in the replaced folder
 * (`{windowId}.parquet`, `{windowId}~{runId}.parquet`).
 */
function labelledFileOf(path: string, actualsId: string): { windowId: string; movedName: string } | undefined {
  const file = parseLabelledPath(path);
  if (file?.actualsId !== actualsId) return undefined;
  return { windowId: file.windowId, movedName: file.runId === undefined ? `${file.windowId}.parquet` : `${file.windowId}~${file.runId}.parquet` };
}

/**
 * A version's labelled files, with the name each keeps in its replaced folder: a completed join
 * placed one per window its record lists, and each late match one per window it lists; a failed
 * join's record does not say which windows it reached, so the labelled folder is listed for them.
 */
async function labelledFilesOf(deps: ActualsDeps, model: string, version: ActualsRecord): Promise<{ path: string; windowId: string; movedName: string }[]> {
  const { actualsId } = version;
  if (version.state === 'completed') {
    const own = version.windows.map((windowId) => ({ path: lakePaths.labelled(model, windowId, actualsId), windowId, movedName: `${windowId}.parquet` }));
    const late = (version.lateMatches ?? []).flatMap((match) =>
      match.windows.map((windowId) => ({ path: lakePaths.lateLabelled(model, windowId, actualsId, match.runId), windowId, movedName: `${windowId}~${match.runId}.parquet` })),
    );
    return [...own, ...late];
  }
  const found: { path: string; windowId: string; movedName: string }[] = [];
  for await (const o of deps.lake.list(lakePaths.labelledRoot(model))) {
    const file = labelledFileOf(o.path, actualsId);
    if (file !== undefined) found.push({ path: o.path, ...file });
  }
  return found;
}

/**
 * Moves a version's labelled files out of `labelled/` (copied to its replaced folder, then
 * removed) and returns every window they were in, also those a crashed earlier attempt moved
 * already, so that a retry still recomputes them.
 */
async function moveLabelledFiles(deps: ActualsDeps, model: string, version: ActualsRecord): Promise<string[]> {
  const windows = new Set<string>();
  const movedFolder = lakePaths.replacedLabelledFolder(model, version.actualsId);
  for await (const o of deps.lake.list(movedFolder)) {
    const name = o.path.split('/').pop()!;
    if (name.endsWith('.parquet')) windows.add(name.slice(0, -'.parquet'.length).split('~')[0]!);
  }
  for (const { path, windowId, movedName } of await labelledFilesOf(deps, model, version)) {
    windows.add(windowId);
    try {
      await deps.lake.copy(path, `${movedFolder}${movedName}`);
    } catch (error) {
      // Moved already: by another version ending at the same time (since the listing), or by an earlier attempt.
      if (isDomainError(error) && error.code === 'NOT_FOUND') continue;
      throw error;
    }
    await deps.lake.delete(path);
  }
  return [...windows].sort();
}

/**
 * What replacing older versions did: the versions replaced now, and the update of each window
 * recomputed without their files. An update names the records whose late files it could not
 * count (`uncountedRecords`), to be warned about as after any other window refresh.
 */
export interface Replacement {
  replaced: ActualsRecord[];
  windows: WindowUpdate[];
}

/** No version replaced, no window recomputed (a fresh value each time: callers may add to it). */
export const nothingReplaced = (): Replacement => ({ replaced: [], windows: [] });

/**
 * Replaces one older version: its labelled files leave the windows, the windows are recomputed
 * without them, and only then its record says so; a crash in between leaves the record unmarked,
 * so a retry does it all again (each step is idempotent). Returns the windows' updates.
 */
async function replaceVersion(deps: ActualsDeps, definition: ModelDefinition, old: ActualsRecord, newest: ActualsRecord, at: string): Promise<WindowUpdate[]> {
  const model = definition.name;
  const updates: WindowUpdate[] = [];
  for (const windowId of await moveLabelledFiles(deps, model, old)) updates.push(await refreshWindowPerformance(deps, definition, windowId));
  const replacedBy = { actualsId: newest.actualsId, at, labelledFolder: lakePaths.replacedLabelledFolder(model, old.actualsId) };
  await updateActualsRecord(deps, model, old.actualsId, (r) => (r.replacedBy ? r : { ...r, replacedBy }));
  return updates;
}

/**
 * Makes the newest completed version of an actuals path the only one that counts: every older
 * version that ended is replaced (its labelled rows moved out of the windows, which are
 * recomputed; its record names the version that replaced it). Run when a version ends, completed
 * or failed, after its record says so: of two versions ending at once, at least one sees both
 * ended, so a version joined while a newer one completed still ends replaced, and its files out.
 * Returns the versions replaced now and the updates of the windows recomputed for them.
 */
export async function replaceOlderVersions(deps: ActualsDeps, input: { model: string; actualsId: string; at: string }): Promise<Replacement> {
  const { model } = input;
  const ended = (await deps.runs.actuals.get(model, input.actualsId))?.value;
  if (!ended) throw errors.notFound(`no actuals record '${input.actualsId}' of '${model}'`, { model, actualsId: input.actualsId });
  // Only this path's records: a model's history of files is not read on every join. One that no
  // longer reads is left as it is (the listing API names it).
  const { documents } = await deps.runs.actuals.listReadableByPath(model, ended.source.path);
  const sameFile = documents.filter((r) => r.source.path === ended.source.path);
  // A name the lake refuses never completes a join (its plan fails it), so it has nothing to replace.
  if (sameFile.length < 2 || !sameFile.some((r) => r.state === 'completed') || lakePathProblem(ended.source.path)) return nothingReplaced();
  const blob = await deps.lake.stat(ended.source.path);
  const plan = versionsToReplace(sameFile, blob?.etag);
  if (!plan || plan.older.length === 0) return nothingReplaced();
  const stored = await deps.registry.getModel(model);
  if (!stored) throw errors.modelNotFound(model);
  const windows: WindowUpdate[] = [];
  for (const old of plan.older) windows.push(...(await replaceVersion(deps, stored.definition, old, plan.newest, input.at)));
  return { replaced: plan.older, windows };
}

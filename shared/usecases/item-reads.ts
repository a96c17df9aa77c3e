import { errors } from '../domain/errors';
import { lakePaths, parseLabelledPath } from '../domain/lake-paths';
import type { DataLake } from '../ports/data-lake';
import type { ModelRegistry } from '../ports/model-registry';
import { type DocumentCollection, holdsAnyDocument, type NewestFirstPages, type RunStore } from '../ports/run-store';
import type { ActualsRecord, InferenceRun, MonitoringWindow, RetrainingRecord } from '../schemas/monitoring';
import { listPaths } from './actuals/deps';
import { readStoredDocumentOrFail } from './stored-document';

/**
 * Reads of one production record by its id (a run, an actuals record, a monitoring window, a
 * retraining request), answered as the lists answer about it: found, missing (the model, or the
 * record), or stored but no longer readable (DOCUMENT_UNREADABLE, with the reason the lists give).
 */

export interface ItemReadDeps {
  runs: RunStore;
  registry: ModelRegistry;
}

/** How a kind of record is named in its 404 and its DOCUMENT_UNREADABLE problem. */
interface ItemKind {
  kind: string;
  /** The problem member that names the missing id (`runId`, `requestId`, ...). */
  idName: string;
}

async function readModelItem<T>(deps: Pick<ItemReadDeps, 'registry'>, collection: DocumentCollection<T> & NewestFirstPages<unknown>, item: ItemKind, model: string, id: string): Promise<T> {
  const read = await readStoredDocumentOrFail(collection, item.kind, model, id);
  if (read) return read.value;
  // A model is known when it is registered or holds records of this kind (a drop or an actuals
  // file can come before its model is registered, as the lists show): then it is the record that is missing.
  if (!(await deps.registry.getModel(model)) && !(await holdsAnyDocument(collection, model))) throw errors.modelNotFound(model);
  throw errors.notFound(`${item.kind} '${id}' of '${model}' does not exist`, { model, [item.idName]: id });
}

export const readInferenceRun = (deps: ItemReadDeps, model: string, runId: string): Promise<InferenceRun> =>
  readModelItem(deps, deps.runs.runs, { kind: 'run', idName: 'runId' }, model, runId);

export const readRetrainingRequest = (deps: ItemReadDeps, model: string, requestId: string): Promise<RetrainingRecord> =>
  readModelItem(deps, deps.runs.retraining, { kind: 'retraining request', idName: 'requestId' }, model, requestId);

export const readMonitoringWindow = (deps: ItemReadDeps, model: string, windowId: string): Promise<MonitoringWindow> =>
  readModelItem(deps, deps.runs.windows, { kind: 'monitoring window', idName: 'windowId' }, model, windowId);

/** An actuals record with the lake paths of the files it left: its labelled rows and its quarantined lines. */
export interface ActualsItem {
  record: ActualsRecord;
  labelled: string[];
  quarantine: string[];
}

export async function readActualsItem(deps: ItemReadDeps & { lake: DataLake }, model: string, actualsId: string): Promise<ActualsItem> {
  const record = await readModelItem(deps, deps.runs.actuals, { kind: 'actuals record', idName: 'actualsId' }, model, actualsId);
  const [labelled, quarantine] = await Promise.all([labelledFilesOf(deps.lake, record), listPaths(deps.lake, lakePaths.quarantineFolder(model, actualsId))]);
  return { record, labelled, quarantine };
}

/**
 * The labelled files of an actuals record as the lake holds them now: in the folders of the windows
 * it and its late matches list while it counts (its own file and one per late match), in its
 * replaced folder once a newer upload of its path replaced it. Listed, not derived from the record,
 * so a file that is gone is not linked. A join that did not complete lists no windows: none.
 */
async function labelledFilesOf(lake: DataLake, record: ActualsRecord): Promise<string[]> {
  const { modelName: model, actualsId } = record;
  if (record.replacedBy) return listPaths(lake, lakePaths.replacedLabelledFolder(model, actualsId));
  const windows = [...new Set([...record.windows, ...(record.lateMatches ?? []).flatMap((m) => m.windows)])].sort();
  const paths: string[] = [];
  for (const windowId of windows) {
    // The prefix also holds ids that start with this one (`a1` and `a12`): the name tells.
    for (const path of await listPaths(lake, `${lakePaths.labelledFolder(model, windowId)}${actualsId}`)) {
      if (parseLabelledPath(path)?.actualsId === actualsId) paths.push(path);
    }
  }
  return paths;
}

import { createHash } from 'node:crypto';

import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { sameEtag } from '../domain/lake-objects';
import { isLakePath, lakePaths } from '../domain/lake-paths';
import type { RawRows } from '../domain/raw-rows';
import { headerIndex } from '../domain/row-validation';
import { csvText } from '../domain/training/csv';
import type { DataLake } from '../ports/data-lake';
import type { RunStore } from '../ports/run-store';
import type { TabularFiles } from '../ports/tabular-files';
import type { ModelDefinition } from '../schemas/model';
import type { ModelVersion } from '../schemas/model-version';
import { type TrainingSnapshot, trainingSnapshotSchema } from '../schemas/retraining';
import { ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN, timestampOf } from './actuals/columns';
import { CountedLabelledFiles } from './actuals/counted-labelled';
import { defaultChunkTargets } from './plan-chunks';
import { RUN_ID_COLUMN, SOURCE_FILE_COLUMN, SOURCE_ROW_COLUMN } from './score-chunk';

/**
 * The built-in trainer's data, assembled once per request and kept as its snapshot in
 * `datasets/{model}/retraining/{windowId}/`: `train.csv` and `validation.csv` (the model's id,
 * timestamp, feature and segment columns as they were in the drops, and the target column), then
 * `snapshot.json` (what they hold), written last. A retried request trains on the same snapshot,
 * so it registers the same version.
 *
 * The rows are the newest labelled ones (`datasets/{model}/labelled/{windowId}/*.parquet`:
 * predictions joined with actuals, carrying `run_id`, `source_file` and `source_row`; the files
 * that count, as windows count them), joined back to their features in the drop they were scored from (when its ETag is still the one scored).
 * With too few of them, a training set: the champion's `training` dataset, else the configured
 * one. One in five rows (by a hash of the id) goes to validation.
 */

export interface TrainingDataDeps {
  lake: DataLake;
  files: TabularFiles;
  runs: RunStore;
}

export interface TrainingDataLimits {
  /** Labelled windows read: the request's and those before it, newest first. */
  windows: number;
  /** Labelled rows read at most (the newest). */
  maxRows: number;
  /** With fewer labelled rows, a training set is used instead. */
  minRows: number;
  /** A lake path with `{model}`: the training set when the champion names none. */
  trainingDataset?: string | undefined;
}

/** The actual column of labelled files (docs/production-loop.md). */
export const LABELLED_ACTUAL_COLUMN = 'actual';
const SNAPSHOT_FILE = 'snapshot.json';
/** Share of rows (by id hash, in percent) that go to validation. */
const VALIDATION_PERCENT = 20;


type Cells = (string | null)[];

/** The most frequent refusals by code, for a message: ` (rows refused: code: n, ...)`, or nothing. */
export function refusalList(refused: Record<string, number>): string {
  const reasons = Object.entries(refused).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([code, n]) => `${code}: ${n}`);
  return reasons.length > 0 ? ` (rows refused: ${reasons.join(', ')})` : '';
}

/**
 * How many of the snapshot's rows (cells under `columns`) the trainer can use, and why the others
 * are refused by code (the built-in trainer's usableTrainingRows).
 */
export type UsableRows = (columns: readonly string[], rows: readonly Cells[]) => { usable: number; refused: Record<string, number> };

/** The columns of the snapshot's files: id, timestamp, features, segment keys, target. */
export function trainingColumns(definition: ModelDefinition): string[] {
  const names = [definition.idColumn, ...(definition.timestampColumn ? [definition.timestampColumn] : []), ...definition.features.map((f) => f.name), ...definition.segmentKeys];
  return [...new Set([...names.filter((n) => n !== definition.targetColumn), definition.targetColumn])];
}

/** Whether a target value is usable: a finite number (regression) or one of the class labels. */
export function usableTarget(definition: ModelDefinition, text: string | null): boolean {
  if (text === null || text.trim() === '') return false;
  if (definition.task === 'regression') return Number.isFinite(Number(text));
  return (definition.classLabels ?? []).includes(text.trim());
}

class Skipped {
  readonly counts: Record<string, number> = {};
  add(reason: string, n = 1): void {
    if (n > 0) this.counts[reason] = (this.counts[reason] ?? 0) + n;
  }
}

/** A data file a snapshot reads: its path and what it is to the request (`the labelled file`...). */
interface DataFile {
  path: string;
  what: string;
}

/**
 * Visits the rows of a data file batch by batch (only the chunks holding one of `rows`, by file
 * row number, when given) until `visit` answers false: a caller that has all it wants stops there
 * instead of parsing the rest of a file that may be far larger than RETRAINING_MAX_ROWS (planning
 * still scans a CSV once for its chunk boundaries; a Parquet file is read by row group).
 * A file that cannot be read is INVALID_INPUT_FILE naming it: the reader's reason alone does not
 * say which of the many files a request reads is at fault.
 */
async function eachRow(
  files: TabularFiles,
  file: DataFile,
  visit: (raw: RawRows, columns: Map<string, number>) => boolean,
  rows?: ReadonlySet<number>,
): Promise<readonly string[]> {
  try {
    const plan = await files.plan(file.path, defaultChunkTargets);
    const columns = headerIndex(plan.columns);
    for (const chunk of plan.chunks) {
      if (rows && 'firstRow' in chunk && ![...rows].some((r) => r >= chunk.firstRow && r < chunk.firstRow + chunk.rows)) continue;
      const opened = await files.open(file.path, chunk);
      // Leaving the loop returns the generator, which releases the download.
      for await (const raw of opened.batches) if (!visit(raw, columns)) return plan.columns;
    }
    return plan.columns;
  } catch (error) {
    if (!(isDomainError(error) && error.code === 'INVALID_INPUT_FILE')) throw error;
    throw errors.invalidInputFile(`${file.what} '${file.path}' cannot be read: ${error.message}`, { ...error.details, path: file.path });
  }
}

/**
 * A labelled file's rows, as `eachRow` reads them; undefined when the file left `labelled/` since
 * the listing (replaced by a newer version of its actuals file): its rows no longer count.
 */
async function labelledRows(files: TabularFiles, path: string, visit: (raw: RawRows, columns: Map<string, number>) => boolean): Promise<readonly string[] | undefined> {
  try {
    return await eachRow(files, { path, what: 'the labelled file' }, visit);
  } catch (error) {
    if (isDomainError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** Labelled rows wanted from one drop a run scored: its file row numbers -> actual. */
interface WantedFromDrop {
  runId: string;
  /** The drop's path (`source_file`); undefined in labelled files written before predictions carried it. */
  sourceFile: string | undefined;
  rows: Map<number, string>;
  /** Per row, where its actual came from: of two actuals for one prediction, the later one counts. */
  origins: Map<number, ActualOrigin>;
}

/** An actual's provenance in labelled data: its file's arrival, the file's id, its row there. */
interface ActualOrigin {
  at: number;
  actualsId: string;
  row: number;
}

/**
 * Whether `a` is a later actual than `b`: the rule window performance uses (later `actuals_at`,
 * then the larger `actuals_id`, then the later row), so the trainer and the windows agree. A file
 * read first wins when either lacks the columns (labelled files of early joins).
 */
function laterActual(a: ActualOrigin | undefined, b: ActualOrigin | undefined): boolean {
  if (!a || !b) return false;
  if (a.at !== b.at) return a.at > b.at;
  if (a.actualsId !== b.actualsId) return a.actualsId > b.actualsId;
  return a.row > b.row;
}

/** A labelled row's actual provenance, when its file has the columns. */
function originOf(raw: RawRows, columns: Map<string, number>, r: number): ActualOrigin | undefined {
  const [at, id, row] = [ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN].map((c) => columns.get(c));
  if (at === undefined || id === undefined || row === undefined) return undefined;
  const actualsId = raw.text(id, r);
  const arrived = timestampOf(raw, at, r);
  return actualsId === null || arrived !== arrived ? undefined : { at: arrived, actualsId, row: raw.number(row, r) };
}

/** By run id and drop path. */
type Wanted = Map<string, WantedFromDrop>;

/** A labelled file as listed: its path and when it was written. */
interface LabelledFile {
  path: string;
  at: number;
}

/** The model's labelled files by window id, from one listing of `datasets/{model}/labelled/`. */
async function labelledFilesByWindow(deps: TrainingDataDeps, definition: ModelDefinition): Promise<Map<string, LabelledFile[]>> {
  const prefix = lakePaths.datasetsFolder(definition.name) + 'labelled/';
  const byWindow = new Map<string, LabelledFile[]>();
  for await (const object of deps.lake.list(prefix)) {
    const [window, file] = object.path.slice(prefix.length).split('/');
    if (!window || !file?.endsWith('.parquet')) continue;
    byWindow.set(window, [...(byWindow.get(window) ?? []), { path: object.path, at: object.lastModified.getTime() }]);
  }
  return byWindow;
}

/**
 * The first `limit` of `windows` (in their order) with a labelled file that counts, each with those
 * files only: a late match's file its actuals record does not hold is left out, as windows leave it out,
 * and so is one whose record does not read (counted in `skipped` by file, as
 * `late_file_of_unreadable_record`).
 */
async function countedWindows(deps: TrainingDataDeps, definition: ModelDefinition, listed: Map<string, LabelledFile[]>, windows: readonly string[], limit: number, skipped: Skipped) {
  const counted = new CountedLabelledFiles(deps.runs.actuals, definition.name);
  const byWindow = new Map<string, LabelledFile[]>();
  for (const window of windows) {
    if (byWindow.size >= limit) break;
    const files = await counted.keep(listed.get(window) ?? []);
    if (files.length > 0) byWindow.set(window, files);
  }
  for (const { files } of counted.uncounted()) skipped.add('late_file_of_unreadable_record', files);
  return byWindow;
}

/** The labelled rows of the request's window and the `limits.windows` - 1 before it that have labelled files. */
async function newestLabelled(deps: TrainingDataDeps, definition: ModelDefinition, windowId: string, limits: TrainingDataLimits, skipped: Skipped) {
  const listed = await labelledFilesByWindow(deps, definition);
  const byWindow = await countedWindows(deps, definition, listed, [...listed.keys()].filter((w) => w <= windowId).sort().reverse(), limits.windows, skipped);
  const windows = [...byWindow.keys()];
  return { windows, wanted: await readLabelled(deps, definition, windows, byWindow, limits, skipped) };
}

/** Labelled rows of `windows` (newest first), at most `limits.maxRows`, by run and drop row. */
async function readLabelled(
  deps: TrainingDataDeps,
  definition: ModelDefinition,
  windows: readonly string[],
  byWindow: Map<string, LabelledFile[]>,
  limits: TrainingDataLimits,
  skipped: Skipped,
): Promise<Wanted> {
  const wanted: Wanted = new Map();
  let rows = 0;
  for (const window of windows) {
    // Newest file first: a later actual for the same prediction wins.
    const labelled = byWindow.get(window)!.sort((a, b) => b.at - a.at || b.path.localeCompare(a.path));
    for (const { path } of labelled) {
      if (rows >= limits.maxRows) break;
      const header = await labelledRows(deps.files, path, (raw, columns) => {
        const [run, row, actual] = [RUN_ID_COLUMN, SOURCE_ROW_COLUMN, LABELLED_ACTUAL_COLUMN].map((c) => columns.get(c));
        const file = columns.get(SOURCE_FILE_COLUMN);
        if (run === undefined || row === undefined || actual === undefined) return false;
        for (let r = 0; r < raw.rowCount && rows < limits.maxRows; r += 1) {
          const runId = raw.text(run, r);
          const sourceRow = raw.number(row, r);
          const sourceFile = file === undefined ? undefined : (raw.text(file, r) ?? undefined);
          const value = raw.text(actual, r);
          if (runId === null || !Number.isInteger(sourceRow)) {
            skipped.add('labelled_row_without_run');
            continue;
          }
          if (!usableTarget(definition, value)) {
            skipped.add('unusable_actual');
            continue;
          }
          const key = JSON.stringify([runId, sourceFile ?? null]);
          const fromDrop = wanted.get(key) ?? { runId, sourceFile, rows: new Map<number, string>(), origins: new Map<number, ActualOrigin>() };
          wanted.set(key, fromDrop);
          const origin = originOf(raw, columns, r);
          const held = fromDrop.rows.has(sourceRow);
          if (held) skipped.add('superseded_actual');
          // Files are read newest written first, but a late match writes an older file's actuals later.
          if (held && !laterActual(origin, fromDrop.origins.get(sourceRow))) continue;
          fromDrop.rows.set(sourceRow, value!.trim());
          if (origin) fromDrop.origins.set(sourceRow, origin);
          if (!held) rows += 1;
        }
        return rows < limits.maxRows;
      });
      // Moved out since the listing: a newer version of its actuals file replaced it.
      if (header === undefined) continue;
      if (![RUN_ID_COLUMN, SOURCE_ROW_COLUMN, LABELLED_ACTUAL_COLUMN].every((c) => header.includes(c))) {
        throw errors.invalidInputFile(`the labelled file '${path}' lacks ${RUN_ID_COLUMN}, ${SOURCE_ROW_COLUMN} or ${LABELLED_ACTUAL_COLUMN}`, { path });
      }
    }
  }
  return wanted;
}

/** The labelled rows joined back to their features in the drops their runs scored. */
async function joinToDrops(deps: TrainingDataDeps, definition: ModelDefinition, wanted: Wanted, skipped: Skipped): Promise<Cells[]> {
  const columns = trainingColumns(definition);
  const features = columns.slice(0, -1);
  const out: Cells[] = [];
  for (const { runId, sourceFile, rows } of wanted.values()) {
    const run = await deps.runs.runs.get(definition.name, runId);
    const sources = run?.value.sources ?? [];
    // Without the drop's path (labelled before predictions carried it) only a single-drop run is unambiguous.
    const source = sourceFile === undefined ? (sources.length === 1 ? sources[0] : undefined) : sources.find((s) => s.path === sourceFile);
    if (!run || !source) {
      skipped.add(!run ? 'run_not_found' : sourceFile === undefined ? 'run_with_several_sources' : 'drop_not_in_run', rows.size);
      continue;
    }
    const now = await deps.lake.stat(source.path);
    // An ETag as the blob event carried it may lack the quotes the lake's own answer has.
    if (!now || !sameEtag(now.etag, source.etag)) {
      skipped.add(now ? 'drop_changed' : 'drop_missing', rows.size);
      continue;
    }
    const header = await eachRow(
      deps.files,
      { path: source.path, what: `the drop of run '${runId}'` },
      (raw, index) => {
        const at = features.map((c) => index.get(c));
        if (at.some((i) => i === undefined)) return false;
        for (let r = 0; r < raw.rowCount; r += 1) {
          const actual = rows.get(raw.rowNumber(r));
          if (actual === undefined) continue;
          rows.delete(raw.rowNumber(r));
          out.push([...at.map((i) => raw.text(i!, r)), actual]);
        }
        return rows.size > 0;
      },
      new Set(rows.keys()),
    );
    if (!features.every((c) => header.includes(c))) skipped.add('drop_lacks_columns', rows.size);
    else skipped.add('row_not_in_drop', rows.size);
  }
  return out;
}

/** The rows of a whole data set with the snapshot's columns (a training set, a version's validation data). */
async function dataSetRows(deps: TrainingDataDeps, definition: ModelDefinition, file: DataFile, limits: TrainingDataLimits, skipped: Skipped): Promise<Cells[]> {
  const columns = trainingColumns(definition);
  const out: Cells[] = [];
  const header = await eachRow(deps.files, file, (raw, index) => {
    const at = columns.map((c) => index.get(c));
    if (at.some((i) => i === undefined)) return false;
    for (let r = 0; r < raw.rowCount && out.length < limits.maxRows; r += 1) {
      const cells = at.map((i) => raw.text(i!, r));
      if (usableTarget(definition, cells[cells.length - 1]!)) out.push(cells);
      else skipped.add('unusable_actual');
    }
    return out.length < limits.maxRows;
  });
  const missing = columns.filter((c) => !header.includes(c));
  if (missing.length > 0) throw errors.invalidInputFile(`${file.what} '${file.path}' lacks ${missing.map((m) => `'${m}'`).join(', ')}`, { path: file.path, missing });
  return out;
}

/**
 * The training set to fall back on: the champion's `training` dataset in the lake, else the
 * configured one. Without one, why: each named data set that is not there is named, so a moved
 * file or a mistyped setting reads as such, not as a model that never had a training set.
 */
async function trainingSet(deps: TrainingDataDeps, definition: ModelDefinition, parent: ModelVersion, limits: TrainingDataLimits): Promise<{ path: string } | { none: string }> {
  const training = parent.datasets.filter((d) => d.role === 'training');
  const named = (training.find((d) => isLakePath(d.uri)) ?? training[0])?.uri;
  const configured = limits.trainingDataset?.replaceAll('{model}', definition.name);
  const absent: string[] = [];
  for (const [path, what] of [[named, `v${parent.version}'s 'training' dataset`], [configured, 'RETRAINING_TRAINING_DATASET']] as const) {
    if (path === undefined) continue;
    if (isLakePath(path) && (await deps.lake.stat(path))) return { path };
    absent.push(`${what} '${path}' is ${isLakePath(path) ? 'not in the data lake' : 'not a data lake path'}`);
  }
  return { none: absent.length > 0 ? absent.join('; ') : `v${parent.version} names no 'training' dataset and RETRAINING_TRAINING_DATASET is not set` };
}

const inValidation = (id: string | null) => createHash('sha256').update(id ?? '').digest().readUInt32BE(0) % 100 < VALIDATION_PERCENT;

/**
 * The request's training snapshot: read back when an earlier attempt wrote it, else assembled
 * and written. The labelled rows are taken when at least RETRAINING_MIN_ROWS of them are usable
 * (`usableRows`, every row when not given), else the training set. INSUFFICIENT_DATA when neither
 * the labelled data nor a training set gives enough rows for both files.
 */
export async function trainingSnapshot(
  deps: TrainingDataDeps,
  input: { definition: ModelDefinition; parent: ModelVersion; windowId: string; limits: TrainingDataLimits; usableRows?: UsableRows },
): Promise<TrainingSnapshot> {
  const { definition, parent, windowId, limits } = input;
  const columns = trainingColumns(definition);
  const file = (name: string) => lakePaths.retrainingDataset(definition.name, windowId, name);
  try {
    const stored = await deps.lake.readBuffer(file(SNAPSHOT_FILE));
    return parseOrThrow(trainingSnapshotSchema, JSON.parse(stored.toString('utf8')), `${file(SNAPSHOT_FILE)}`);
  } catch (error) {
    if (!(isDomainError(error) && error.code === 'NOT_FOUND')) throw error;
  }

  const skipped = new Skipped();
  const { windows, wanted } = await newestLabelled(deps, definition, windowId, limits, skipped);
  let rows = await joinToDrops(deps, definition, wanted, skipped);
  let source: TrainingSnapshot['source'] = 'labelled';
  let from = windows;
  const { usable, refused } = input.usableRows?.(columns, rows) ?? { usable: rows.length, refused: {} };
  if (usable < limits.minRows) {
    const found = await trainingSet(deps, definition, parent, limits);
    if ('none' in found) {
      throw errors.insufficientData(
        `${rows.length} labelled rows could be joined to their drops, ${usable} of them usable${refusalList(refused)}: ` +
          `fewer than RETRAINING_MIN_ROWS (${limits.minRows}), and the model has no training set: ${found.none}`,
        { labelledRows: rows.length, usableRows: usable, refused, skipped: skipped.counts },
      );
    }
    const { path } = found;
    rows = await dataSetRows(deps, definition, { path, what: 'the training set' }, limits, skipped);
    source = 'training_set';
    from = [path];
  }
  const validation = rows.filter((r) => inValidation(r[0] ?? null));
  const train = rows.filter((r) => !inValidation(r[0] ?? null));
  if (train.length < 2 || validation.length < 1) {
    throw errors.insufficientData(`${rows.length} rows (${source}) give ${train.length} training and ${validation.length} validation rows: too few to train and validate`, {
      skipped: skipped.counts,
    });
  }
  const snapshot: TrainingSnapshot = {
    source,
    from,
    trainPath: file('train.csv'),
    validationPath: file('validation.csv'),
    trainRows: train.length,
    validationRows: validation.length,
    skipped: skipped.counts,
  };
  await deps.lake.write(snapshot.validationPath, Buffer.from(csvText(columns, validation)), { contentType: 'text/csv' });
  await deps.lake.write(snapshot.trainPath, Buffer.from(csvText(columns, train)), { contentType: 'text/csv' });
  await deps.lake.write(file(SNAPSHOT_FILE), Buffer.from(`${JSON.stringify(snapshot, null, 2)}\n`), { contentType: 'application/json' });
  return snapshot;
}

/**
 * A production version's revalidation data, written to `path` (a CSV under
 * `datasets/{model}/revalidation/`): the rows of its own validation dataset and the labelled rows
 * of `windows` (every labelled file in them that counts, a join's or a late match's) joined back
 * to their drops, so that validating it again reports every segment, the ones its validation data
 * never had included.
 */
export async function revalidationDataset(
  deps: TrainingDataDeps,
  input: { definition: ModelDefinition; version: ModelVersion; windows: readonly string[]; path: string; maxRows: number },
): Promise<{ path: string; validationRows: number; labelledRows: number; skipped: Record<string, number> }> {
  const { definition, version, maxRows } = input;
  const limits: TrainingDataLimits = { windows: input.windows.length, maxRows, minRows: 0 };
  const skipped = new Skipped();
  const source = version.datasets.find((d) => d.role === 'validation' && isLakePath(d.uri))?.uri;
  const validation = source ? await dataSetRows(deps, definition, { path: source, what: `the validation dataset of v${version.version}` }, limits, skipped) : [];
  const listed = await labelledFilesByWindow(deps, definition);
  const byWindow = await countedWindows(deps, definition, listed, [...new Set(input.windows)].filter((w) => listed.has(w)).sort().reverse(), Infinity, skipped);
  const windows = [...byWindow.keys()];
  const wanted = await readLabelled(deps, definition, windows, byWindow, limits, skipped);
  const labelled = await joinToDrops(deps, definition, wanted, skipped);
  await deps.lake.write(input.path, Buffer.from(csvText(trainingColumns(definition), [...validation, ...labelled])), { contentType: 'text/csv' });
  return { path: input.path, validationRows: validation.length, labelledRows: labelled.length, skipped: skipped.counts };
}

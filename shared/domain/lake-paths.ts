import { MODEL_NAME_PATTERN } from '../schemas/common';
import { errors } from './errors';

/**
 * The one module that builds data lake paths (docs/architecture.md, "Stores"). Every path is
 * relative to the data container, uses "/" separators and is validated before it is returned, so
 * a name taken from a request or a blob event can never escape its folder.
 *
 *   models/{model}/{version}/model.onnx | manifest.json | transforms.json | golden-records.json
 *   models/{model}/incoming/{name}/manifest.json + model.onnx   (packages from training pipelines)
 *   models/{model}/uploads/{uploadId}/model.onnx                (an upload before it has a number)
 *   datasets/{model}/...                                        (validation, training, reference sets; labelled data)
 *   evidence/{model}/{version}/{sha256}.json                    (validation evidence, by its hash)
 *   drops/{model}/...
 *   actuals/{model}/...
 *   predictions/{model}/v{version}/{runId}/part-NNNNN.parquet + _manifest.json
 *   quarantine/{model}/{runId}/...
 *   profiles/{model}/...
 *   reports/{model}/...
 */

export const LAKE_ROOTS = [
  'models',
  'datasets',
  'evidence',
  'drops',
  'actuals',
  'predictions',
  'quarantine',
  'profiles',
  'reports',
] as const;
export type LakeRoot = (typeof LAKE_ROOTS)[number];

const MAX_PATH_LENGTH = 1024;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** Run ids and other generated names: they become single path segments. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Why a path is not acceptable, or undefined when it is. */
export function lakePathProblem(path: string, options: { prefix?: boolean } = {}): string | undefined {
  if (path.length === 0) return options.prefix ? undefined : 'a path must not be empty';
  if (path.length > MAX_PATH_LENGTH) return `a path has at most ${MAX_PATH_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(path)) return 'a path must not contain control characters';
  if (path.includes('\\')) return 'a path must use "/" separators, not backslashes';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'a path must be relative to the data container';
  const segments = path.split('/');
  // A prefix may end with "/" (a folder); an object path may not.
  if (options.prefix && segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') return 'a path must not contain empty segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return 'a path must not contain "." or ".." segments';
    if (segment.trim() !== segment) return 'path segments must not start or end with spaces';
  }
  return undefined;
}

export const isLakePath = (path: string): boolean => lakePathProblem(path) === undefined;

/** Returns the path, or throws VALIDATION_ERROR saying what is wrong with it. */
export function assertLakePath(path: string, options: { prefix?: boolean } = {}): string {
  const problem = lakePathProblem(path, options);
  if (problem) throw errors.validation(`invalid lake path '${printable(path)}': ${problem}`, { path: printable(path) });
  return path;
}

function printable(path: string): string {
  // eslint-disable-next-line no-control-regex
  return path.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}

function modelSegment(model: string): string {
  if (!MODEL_NAME_PATTERN.test(model)) {
    throw errors.validation(`invalid model name '${printable(model)}'`, { model: printable(model) });
  }
  return model;
}

function versionSegment(version: number): string {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw errors.validation(`invalid version number ${String(version)}`, { version });
  }
  return String(version);
}

function runIdSegment(runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw errors.validation(`invalid run id '${printable(runId)}'`, { runId: printable(runId) });
  }
  return runId;
}

/** A caller-supplied relative name under a fixed folder (a file name or sub-path). */
function relativeName(name: string): string {
  return assertLakePath(name);
}

function join(...parts: string[]): string {
  return assertLakePath(parts.join('/'));
}

function folder(...parts: string[]): string {
  return assertLakePath(`${parts.join('/')}/`, { prefix: true });
}

/** File names inside a model version's artifact folder. */
export const MODEL_FILES = {
  artifact: 'model.onnx',
  manifest: 'manifest.json',
  transforms: 'transforms.json',
  goldenRecords: 'golden-records.json',
} as const;

export const PREDICTION_MANIFEST = '_manifest.json';

/** Every path the product writes or reads in the data lake. Folders end with "/". */
export const lakePaths = {
  /** `models/{model}/{version}/`: immutable once the version is registered. */
  modelVersionFolder: (model: string, version: number) => folder('models', modelSegment(model), versionSegment(version)),
  modelFile: (model: string, version: number, file: string) =>
    join('models', modelSegment(model), versionSegment(version), relativeName(file)),
  modelArtifact: (model: string, version: number) => lakePaths.modelFile(model, version, MODEL_FILES.artifact),
  modelManifest: (model: string, version: number) => lakePaths.modelFile(model, version, MODEL_FILES.manifest),
  transformSpec: (model: string, version: number) => lakePaths.modelFile(model, version, MODEL_FILES.transforms),
  goldenRecords: (model: string, version: number) => lakePaths.modelFile(model, version, MODEL_FILES.goldenRecords),
  /** `models/{model}/incoming/{name}/`: a package a training pipeline writes (manifest.json last). */
  incomingPackageFolder: (model: string, name: string) => folder('models', modelSegment(model), 'incoming', runIdSegment(name)),
  incomingPackageFile: (model: string, name: string, file: string) =>
    join('models', modelSegment(model), 'incoming', runIdSegment(name), relativeName(file)),
  /** Where an uploaded artifact lands before the registry gives it a version number. */
  artifactUpload: (model: string, uploadId: string) =>
    join('models', modelSegment(model), 'uploads', runIdSegment(uploadId), MODEL_FILES.artifact),

  datasetsFolder: (model: string) => folder('datasets', modelSegment(model)),
  /** `datasets/{model}/labelled/{windowId}/`: predictions joined with actuals, one Parquet file per actuals file. */
  labelledFolder: (model: string, windowId: string) => folder('datasets', modelSegment(model), 'labelled', runIdSegment(windowId)),
  labelled: (model: string, windowId: string, actualsId: string) =>
    join('datasets', modelSegment(model), 'labelled', runIdSegment(windowId), `${runIdSegment(actualsId)}.parquet`),
  /** `datasets/{model}/labelled/`: every window's labelled files. */
  labelledRoot: (model: string) => folder('datasets', modelSegment(model), 'labelled'),
  /**
   * `datasets/{model}/replaced/{actualsId}/{windowId}.parquet`: the labelled rows of an actuals
   * file version a newer version of its path replaced, kept out of `labelled/` so no window counts
   * them (its late matches' files beside them as `{windowId}~{runId}.parquet`).
   */
  replacedLabelledFolder: (model: string, actualsId: string) => folder('datasets', modelSegment(model), 'replaced', runIdSegment(actualsId)),
  replacedLabelled: (model: string, actualsId: string, windowId: string) =>
    join('datasets', modelSegment(model), 'replaced', runIdSegment(actualsId), `${runIdSegment(windowId)}.parquet`),
  /**
   * `datasets/{model}/labelled/{windowId}/{actualsId}~{runId}.parquet`: an actuals file's rows
   * matched late, against a run that completed after its join was planned. `~` is in no id, so the
   * name is one per (actualsId, runId) and never that of a join's own file.
   */
  lateLabelled: (model: string, windowId: string, actualsId: string, runId: string) =>
    join('datasets', modelSegment(model), 'labelled', runIdSegment(windowId), `${runIdSegment(actualsId)}~${runIdSegment(runId)}.parquet`),
  /**
   * `datasets/{model}/actuals-work/{actualsId}/...`: an actuals join's plan and per-bucket pieces
   * while it runs (removed when it completes). Outside `actuals/`, whose writes start joins.
   */
  actualsWorkFolder: (model: string, actualsId: string) => folder('datasets', modelSegment(model), 'actuals-work', runIdSegment(actualsId)),
  actualsWork: (model: string, actualsId: string, name: string) =>
    join('datasets', modelSegment(model), 'actuals-work', runIdSegment(actualsId), relativeName(name)),
  /** `datasets/{model}/revalidation/{name}/validation.csv`: a champion's validation rows and newly labelled ones. */
  revalidationDataset: (model: string, name: string) =>
    join('datasets', modelSegment(model), 'revalidation', runIdSegment(name), 'validation.csv'),
  /** `datasets/{model}/revalidation/{actualsId}~{runId}/validation.csv`: a revalidation on rows a late match labelled (beside the join's own). */
  lateRevalidationDataset: (model: string, actualsId: string, runId: string) =>
    join('datasets', modelSegment(model), 'revalidation', `${runIdSegment(actualsId)}~${runIdSegment(runId)}`, 'validation.csv'),
  /** `datasets/{model}/retraining/{name}/{file}`: what a retraining trained and validated on. */
  retrainingDataset: (model: string, name: string, file: string) =>
    join('datasets', modelSegment(model), 'retraining', runIdSegment(name), relativeName(file)),
  dataset: (model: string, name: string) => join('datasets', modelSegment(model), relativeName(name)),

  /** `evidence/{model}/{version}/{sha256}.json`: immutable, named by its own hash. */
  evidence: (model: string, version: number, sha256: string) => {
    if (!/^[a-f0-9]{64}$/.test(sha256)) throw errors.validation('an evidence hash is a lowercase hex sha256', { sha256: printable(sha256) });
    return join('evidence', modelSegment(model), versionSegment(version), `${sha256}.json`);
  },

  dropsFolder: (model: string) => folder('drops', modelSegment(model)),
  drop: (model: string, name: string) => join('drops', modelSegment(model), relativeName(name)),

  actualsFolder: (model: string) => folder('actuals', modelSegment(model)),
  actuals: (model: string, name: string) => join('actuals', modelSegment(model), relativeName(name)),

  predictionsFolder: (model: string) => folder('predictions', modelSegment(model)),
  predictionsVersionFolder: (model: string, version: number) =>
    folder('predictions', modelSegment(model), `v${versionSegment(version)}`),
  predictionsRunFolder: (model: string, version: number, runId: string) =>
    folder('predictions', modelSegment(model), `v${versionSegment(version)}`, runIdSegment(runId)),
  /** `part-NNNNN.parquet`, zero-padded to five digits so parts list in order. */
  predictionPart: (model: string, version: number, runId: string, part: number) => {
    if (!Number.isSafeInteger(part) || part < 0 || part > 99999) {
      throw errors.validation(`invalid part number ${String(part)} (0..99999)`, { part });
    }
    return join(
      'predictions',
      modelSegment(model),
      `v${versionSegment(version)}`,
      runIdSegment(runId),
      `part-${String(part).padStart(5, '0')}.parquet`,
    );
  },
  predictionManifest: (model: string, version: number, runId: string) =>
    join('predictions', modelSegment(model), `v${versionSegment(version)}`, runIdSegment(runId), PREDICTION_MANIFEST),

  quarantineFolder: (model: string, runId: string) => folder('quarantine', modelSegment(model), runIdSegment(runId)),
  quarantine: (model: string, runId: string, name: string) =>
    join('quarantine', modelSegment(model), runIdSegment(runId), relativeName(name)),
  /**
   * A broken model package, moved aside with its reason: `quarantine/{model}/packages/{name}/{attempt}/...`,
   * one folder per manifest that was dropped (`attempt` from its time and ETag), so a second broken
   * package under the same name never mixes with the first.
   */
  packageQuarantineFolder: (model: string, name: string) => folder('quarantine', modelSegment(model), 'packages', runIdSegment(name)),
  packageQuarantine: (model: string, name: string, attempt: string, file: string) =>
    join('quarantine', modelSegment(model), 'packages', runIdSegment(name), runIdSegment(attempt), relativeName(file)),

  profilesFolder: (model: string) => folder('profiles', modelSegment(model)),
  /** `profiles/{model}/v{version}/reference.json`: the version's validation data, profiled at validation. */
  referenceProfile: (model: string, version: number) =>
    join('profiles', modelSegment(model), `v${versionSegment(version)}`, 'reference.json'),
  /** `profiles/{model}/windows/`: every monitoring window's profiles. */
  windowsProfilesFolder: (model: string) => folder('profiles', modelSegment(model), 'windows'),
  /** `profiles/{model}/windows/{windowId}/`: the window's profiles, one per run (`runs/{runId}.json`). */
  windowProfilesFolder: (model: string, windowId: string) => folder('profiles', modelSegment(model), 'windows', runIdSegment(windowId)),
  windowRunProfile: (model: string, windowId: string, runId: string) =>
    join('profiles', modelSegment(model), 'windows', runIdSegment(windowId), 'runs', `${runIdSegment(runId)}.json`),
  /** A chunk's partial window profile, merged into the run's at fan-in. */
  windowChunkProfile: (model: string, windowId: string, runId: string, chunk: number) =>
    join('profiles', modelSegment(model), 'windows', runIdSegment(windowId), 'chunks', runIdSegment(runId), `${String(chunk).padStart(5, '0')}.json`),
  /** `profiles/{model}/{name}`: e.g. `v3/training.json`, `runs/{runId}.json`, `windows/2026-01-01.json`. */
  profile: (model: string, name: string) => join('profiles', modelSegment(model), relativeName(name)),
  trainingProfile: (model: string, version: number) =>
    join('profiles', modelSegment(model), `v${versionSegment(version)}`, 'training.json'),
  runProfile: (model: string, runId: string) => join('profiles', modelSegment(model), 'runs', `${runIdSegment(runId)}.json`),

  reportsFolder: (model: string) => folder('reports', modelSegment(model)),
  report: (model: string, name: string) => join('reports', modelSegment(model), relativeName(name)),
};

/** What a path under one of the lake's roots names: the root, the model, and the rest. */
export interface ParsedLakePath {
  root: LakeRoot;
  model: string;
  /** The part after `{root}/{model}/` (may be empty for a folder). */
  rest: string;
}

/**
 * Splits a path from a blob event (`drops/{model}/...`, `models/{model}/{version}/manifest.json`)
 * into root, model and the rest. Returns undefined for a path outside the known roots or with an
 * invalid model name, so a trigger can ignore it with a clear log entry.
 */
export function parseLakePath(path: string): ParsedLakePath | undefined {
  if (lakePathProblem(path) !== undefined) return undefined;
  const [root, model, ...rest] = path.split('/');
  if (!root || !model || !(LAKE_ROOTS as readonly string[]).includes(root)) return undefined;
  if (!MODEL_NAME_PATTERN.test(model)) return undefined;
  return { root: root as LakeRoot, model, rest: rest.join('/') };
}

/** `models/{model}/{version}/{file}` -> its parts, or undefined when the path is not of that shape. */
export function parseModelFilePath(path: string): { model: string; version: number; file: string } | undefined {
  const parsed = parseLakePath(path);
  if (parsed?.root !== 'models') return undefined;
  const match = /^([1-9][0-9]{0,8})\/(.+)$/.exec(parsed.rest);
  if (!match?.[1] || !match[2]) return undefined;
  return { model: parsed.model, version: Number(match[1]), file: match[2] };
}

/**
 * `datasets/{model}/labelled/{windowId}/{actualsId}.parquet` (a join's own file) or
 * `.../{actualsId}~{runId}.parquet` (a late match's) -> its parts, or undefined for any other path.
 */
export function parseLabelledPath(path: string): { model: string; windowId: string; actualsId: string; runId?: string } | undefined {
  const parsed = parseLakePath(path);
  if (parsed?.root !== 'datasets') return undefined;
  const match = /^labelled\/([^/]+)\/([^/~]+)(?:~([^/~]+))?\.parquet$/.exec(parsed.rest);
  const [, windowId, actualsId, runId] = match ?? [];
  if (!windowId || !actualsId || ![windowId, actualsId, ...(runId === undefined ? [] : [runId])].every((s) => RUN_ID_PATTERN.test(s))) return undefined;
  return { model: parsed.model, windowId, actualsId, ...(runId === undefined ? {} : { runId }) };
}

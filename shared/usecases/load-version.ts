import { errors, isDomainError, parseOrThrow, type VersionFile } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { type GoldenRecord, goldenRecordsSchema } from '../domain/parity';
import { assertInputsMatchFeatures } from '../domain/transforms';
import type { DataLake } from '../ports/data-lake';
import type { ModelRuntime } from '../ports/model-runtime';
import type { ModelDefinition } from '../schemas/model';
import type { ModelVersion } from '../schemas/model-version';
import { type FittedTransforms, fittedTransformsSchema } from '../schemas/transforms';
import { type ScoringVersion, scoringVersion } from './score-chunk';

export interface LoadVersionDeps {
  lake: DataLake;
  runtime: ModelRuntime;
}

/** A registered version ready to score, with the files registration stored beside its artifact. */
export interface LoadedVersion extends ScoringVersion {
  /** The fitted transforms; none when the graph takes raw columns. */
  fitted: FittedTransforms | undefined;
  goldenRecords: GoldenRecord[] | undefined;
}

/**
 * A file registration stored with the version. Its absence is the backend's own data missing
 * (ARTIFACT_MISSING, naming the model and version), not a resource the caller asked for (a 404
 * naming a lake path).
 */
async function readVersionFile(lake: DataLake, version: ModelVersion, file: VersionFile, path: string): Promise<Buffer> {
  try {
    return await lake.readBuffer(path);
  } catch (error) {
    if (isDomainError(error) && error.code === 'NOT_FOUND') throw errors.artifactMissing(version.modelName, version.version, file);
    throw error;
  }
}

async function readJson(lake: DataLake, version: ModelVersion, file: VersionFile, path: string): Promise<unknown> {
  const text = (await readVersionFile(lake, version, file, path)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw errors.validation(`'${path}' is not JSON: ${(e as Error).message}`, { path });
  }
}

/** The fitted transforms stored with a version, checked against the hash the version was registered with. */
export async function readFittedTransforms(lake: DataLake, version: ModelVersion): Promise<FittedTransforms | undefined> {
  if (version.transformSpecHash === undefined) return undefined; // the graph takes raw columns
  const path = lakePaths.transformSpec(version.modelName, version.version);
  const fitted = parseOrThrow(fittedTransformsSchema, await readJson(lake, version, 'fitted transforms', path), `fitted transforms ${path}`);
  if (fitted.specHash !== version.transformSpecHash) {
    throw errors.artifactIntegrity(`'${path}' has spec hash ${fitted.specHash}, the version was registered with ${version.transformSpecHash}`, {
      path,
    });
  }
  return fitted;
}

/**
 * Loads a registered version the way every scoring path uses it: the ONNX artifact (its sha256
 * checked against the registry by the runtime: ARTIFACT_INTEGRITY; ARTIFACT_MISSING when it or
 * another file of the version is gone from the lake), the signature checked against
 * the graph (SIGNATURE_MISMATCH), the fitted transforms checked against the registered hash, the
 * model's features and the model's input width, and the golden records if it has them.
 */
export async function loadScoringVersion(
  deps: LoadVersionDeps,
  definition: ModelDefinition,
  version: ModelVersion,
): Promise<LoadedVersion> {
  const fitted = await readFittedTransforms(deps.lake, version);
  if (fitted) assertInputsMatchFeatures(fitted, definition.features);
  const model = await deps.runtime.load({
    model: version.modelName,
    version: version.version,
    sha256: version.artifact.sha256,
    signature: version.signature,
    task: definition.task,
    ...(definition.classLabels ? { classLabels: definition.classLabels } : {}),
    fetch: () => readVersionFile(deps.lake, version, 'ONNX artifact', version.artifact.path),
  });
  const goldenRecords = version.goldenRecordsPath
    ? parseOrThrow(goldenRecordsSchema, await readJson(deps.lake, version, 'golden records', version.goldenRecordsPath), 'golden records')
    : undefined;
  // The inputs are planned from the signature, the features and the transforms (SIGNATURE_MISMATCH
  // names an input that cannot be fed, e.g. a matrix width other than the transforms' outputs).
  return { ...scoringVersion(definition, version.version, version.signature, fitted, model), fitted, goldenRecords };
}

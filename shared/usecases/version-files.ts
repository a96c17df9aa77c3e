import type { Readable } from 'node:stream';

import { errors, isDomainError, type VersionFile } from '../domain/errors';
import { lakePaths, MODEL_FILES } from '../domain/lake-paths';
import type { DataLake } from '../ports/data-lake';
import type { ModelRegistry } from '../ports/model-registry';
import type { ModelVersion } from '../schemas/model-version';

interface VersionFileSpec {
  /** How ARTIFACT_MISSING names it. */
  file: VersionFile;
  contentType: string;
  /** Where the version keeps it, or why it has none (the file is optional). */
  path: (v: ModelVersion) => string | { none: string };
}

/** The files registration stores with a version (`models/{model}/{version}/`), by name. */
const VERSION_FILES = {
  [MODEL_FILES.artifact]: { file: 'ONNX artifact', contentType: 'application/octet-stream', path: (v) => v.artifact.path },
  [MODEL_FILES.manifest]: { file: 'registration manifest', contentType: 'application/json', path: (v) => lakePaths.modelManifest(v.modelName, v.version) },
  [MODEL_FILES.transforms]: {
    file: 'fitted transforms',
    contentType: 'application/json',
    path: (v) => (v.transformSpecHash === undefined ? { none: 'its graph takes raw columns, it was registered without transforms' } : lakePaths.transformSpec(v.modelName, v.version)),
  },
  [MODEL_FILES.goldenRecords]: {
    file: 'golden records',
    contentType: 'application/json',
    path: (v) => v.goldenRecordsPath ?? { none: 'it was registered without golden records' },
  },
} satisfies Record<string, VersionFileSpec>;

export type VersionFileName = keyof typeof VERSION_FILES;
export const VERSION_FILE_NAMES = Object.keys(VERSION_FILES) as VersionFileName[];

const isVersionFileName = (name: string): name is VersionFileName => Object.hasOwn(VERSION_FILES, name);

/** A version's file opened for download: its bytes as a stream and what to say of them. */
export interface VersionFileDownload {
  body: Readable;
  size: number;
  /** The stored object's ETag, quoted. */
  etag: string;
  contentType: string;
  /** The bytes' sha256 (hex), where the version records it: the ONNX artifact's (`artifact.sha256`, the stored graph's). */
  sha256?: string;
}

/** Opens to read a file whose object may have changed: write-once files should not, so a few attempts settle it. */
const OPEN_ATTEMPTS = 3;

export interface VersionFileDeps {
  registry: ModelRegistry;
  lake: DataLake;
}

/**
 * Opens one of a version's stored files. NOT_FOUND for a name that is none of them (listing the
 * names) or an optional file the version was registered without; MODEL_NOT_FOUND, VERSION_NOT_FOUND;
 * ARTIFACT_MISSING when the version has the file but the lake no longer does (the backend's data
 * is at fault, as scoring reports it). The bytes are streamed, never held whole here.
 */
export async function openVersionFile(deps: VersionFileDeps, model: string, version: number, name: string): Promise<VersionFileDownload> {
  if (!isVersionFileName(name)) {
    throw errors.notFound(`a version has no file '${name}': its files are ${VERSION_FILE_NAMES.join(', ')}`, { name, allowed: VERSION_FILE_NAMES });
  }
  if (!(await deps.registry.getModel(model))) throw errors.modelNotFound(model);
  const stored = (await deps.registry.getVersion(model, version))?.value;
  if (!stored) throw errors.versionNotFound(model, version);
  const spec: VersionFileSpec = VERSION_FILES[name];
  const path = spec.path(stored);
  if (typeof path !== 'string') throw errors.notFound(`model '${model}' version ${version} has no ${name}: ${path.none}`, { model, version, name });
  // Version files are write-once, but the store does not enforce it, and the size and ETag answered
  // must be those of the bytes streamed (a wrong Content-Length breaks the response). The object is
  // stated before and after the read starts: the same ETag (one never comes back) means the read
  // got that object; another means it was overwritten meanwhile, and it is opened again.
  for (let attempt = 1; ; attempt++) {
    const info = await deps.lake.stat(path);
    if (!info) throw errors.artifactMissing(model, version, spec.file);
    const body = await readVersionFile(deps.lake, path, () => errors.artifactMissing(model, version, spec.file));
    if ((await deps.lake.stat(path))?.etag === info.etag) {
      return { body, size: info.size, etag: info.etag, contentType: spec.contentType, ...(name === MODEL_FILES.artifact ? { sha256: stored.artifact.sha256 } : {}) };
    }
    body.destroy();
    if (attempt === OPEN_ATTEMPTS) throw new Error(`the ${spec.file} of model '${model}' version ${version} changed in the lake each of the ${OPEN_ATTEMPTS} times it was opened`);
  }
}

async function readVersionFile(lake: DataLake, path: string, missing: () => Error): Promise<Readable> {
  try {
    return await lake.read(path);
  } catch (error) {
    if (isDomainError(error) && error.code === 'NOT_FOUND') throw missing();
    throw error;
  }
}

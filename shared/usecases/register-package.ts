import { createHash, randomUUID } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';

import { canonicalHash } from '../domain/canonical-json';
import { errors, isDomainError, parseOrThrow } from '../domain/errors';
import { isLakePath, lakePaths } from '../domain/lake-paths';
import { transformSpecHash } from '../domain/transforms';
import type { DataLake } from '../ports/data-lake';
import type { ModelRuntime } from '../ports/model-runtime';
import type { ActorInput } from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import { type RegistrationManifest, registrationManifestSchema } from '../schemas/registration';
import { type CheckedVersion, checkVersion } from './check-version';
import type { RegistryUseCases } from './registry';

export interface RegisterPackageDeps {
  registry: RegistryUseCases;
  lake: DataLake;
  /** Loads the graph to check it against its signature and rewrite exporter habits (ZipMap). */
  runtime: ModelRuntime;
  /** Largest accepted ONNX artifact (MAX_ARTIFACT_BYTES). */
  maxArtifactBytes: number;
}

/** An ONNX file in the lake, hashed: an upload staged under `models/{model}/uploads/` or a package's file. */
export interface StagedArtifact {
  path: string;
  sha256: string;
  size: number;
  /** An upload of this call, removed once registration is done (a package's own file is not). */
  temporary: boolean;
}

/** Counts and hashes bytes as they pass; more than `limit` bytes fails the stream with PAYLOAD_TOO_LARGE. */
class HashingLimit extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      done(errors.payloadTooLarge(`the artifact is larger than the limit of ${this.limit} bytes`, { limit: this.limit }));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/**
 * Streams an uploaded artifact into the lake while hashing it, without holding it in memory. An
 * upload over the size limit, or one whose stream breaks off, leaves nothing behind.
 */
export async function stageUpload(deps: RegisterPackageDeps, model: string, body: Readable): Promise<StagedArtifact> {
  const path = lakePaths.artifactUpload(model, randomUUID());
  const counter = new HashingLimit(deps.maxArtifactBytes);
  body.once('error', (error) => counter.destroy(error));
  try {
    await deps.lake.write(path, body.pipe(counter), { contentType: 'application/octet-stream' });
  } catch (error) {
    await deps.lake.delete(path).catch(() => undefined);
    if (isDomainError(error)) throw error;
    const cause = counter.errored ?? error;
    if (isDomainError(cause)) throw cause;
    throw errors.validation(`the artifact upload broke off: ${(cause as Error).message}`);
  }
  if (counter.size === 0) {
    await deps.lake.delete(path);
    throw errors.validation('the artifact is empty');
  }
  return { path, sha256: counter.hash.digest('hex'), size: counter.size, temporary: true };
}

/** A package's ONNX file already in the lake, hashed by streaming it (NOT_FOUND when missing). */
export async function hashLakeArtifact(deps: RegisterPackageDeps, path: string): Promise<StagedArtifact> {
  const info = await deps.lake.stat(path);
  if (!info) throw errors.notFound(`the package has no artifact at '${path}'`, { path });
  if (info.size > deps.maxArtifactBytes) {
    throw errors.payloadTooLarge(`the artifact is ${info.size} bytes, larger than the limit of ${deps.maxArtifactBytes}`, { limit: deps.maxArtifactBytes });
  }
  if (info.size === 0) throw errors.validation(`the artifact '${path}' is empty`);
  const hash = createHash('sha256');
  for await (const chunk of await deps.lake.read(path)) hash.update(chunk as Buffer);
  return { path, sha256: hash.digest('hex'), size: info.size, temporary: false };
}

export interface RegisterPackageInput {
  model: string;
  /** The manifest as parsed JSON (validated here). */
  manifest: unknown;
  artifact: StagedArtifact;
  actor: ActorInput;
  /** The client's Idempotency-Key; by default the artifact and manifest hashes identify the package. */
  idempotencyKey?: string;
}

/**
 * The package checked as `mlops check` checks it, before anything is registered: the manifest's
 * schema and model name, the artifact's declared hashes, the graph against its signature and the
 * model (ZipMap rewritten into a probabilities tensor), the transforms against the features, and
 * the datasets it names. Golden-record parity is left to validation, where it becomes evidence.
 */
async function checkedPackage(deps: RegisterPackageDeps, input: RegisterPackageInput): Promise<{ manifest: RegistrationManifest; checked: CheckedVersion }> {
  const record = await deps.registry.getModel(input.model);
  const manifest = parseOrThrow(registrationManifestSchema, input.manifest, 'registration manifest');
  if (manifest.model && manifest.model.name !== input.model) {
    throw errors.validation(`the manifest is for model '${manifest.model.name}', not '${input.model}'`);
  }
  const checked = await checkVersion(
    { runtime: deps.runtime },
    {
      model: record.definition,
      version: record.latestVersion + 1,
      artifact: await deps.lake.readBuffer(input.artifact.path),
      ...(manifest.artifact.sha256 ? { artifactSha256: manifest.artifact.sha256 } : {}),
      ...(manifest.artifact.rewrittenSha256 ? { rewrittenSha256: manifest.artifact.rewrittenSha256 } : {}),
      signature: manifest.signature,
      ...(manifest.transforms ? { transforms: manifest.transforms } : {}),
    },
  );
  if (manifest.transformSpec) {
    if (!manifest.transforms) throw errors.validation('transformSpec is the spec of the fitted transforms, and the manifest has none');
    if (transformSpecHash(manifest.transformSpec) !== manifest.transforms.specHash) {
      throw errors.validation(
        `transformSpec has hash ${transformSpecHash(manifest.transformSpec)}, the fitted transforms were fitted from ${manifest.transforms.specHash}`,
      );
    }
  }
  const missing: string[] = [];
  for (const dataset of manifest.datasets) {
    if (isLakePath(dataset.uri) && !(await deps.lake.stat(dataset.uri))) missing.push(`${dataset.role} '${dataset.uri}'`);
  }
  if (missing.length > 0) {
    throw errors.validation(`the manifest names datasets that are not in the data lake: ${missing.join(', ')} (upload them first)`, { missing });
  }
  return { manifest, checked };
}

/**
 * Registers a version from a manifest and a staged artifact: checks the manifest against the
 * model, registers once per idempotency key (the client's, or the artifact and manifest hashes),
 * and stores the version's files in `models/{model}/{version}/` (model.onnx, manifest.json,
 * transforms.json, golden-records.json). Files are write-once, so a retried or concurrent
 * registration of the same package completes what another left unfinished.
 */
export async function registerPackage(deps: RegisterPackageDeps, input: RegisterPackageInput): Promise<{ version: ModelVersion; created: boolean }> {
  try {
    const { manifest, checked } = await checkedPackage(deps, input);
    const stored = checked.artifact;
    const manifestSha256 = canonicalHash(input.manifest);
    const registrationKey = input.idempotencyKey !== undefined ? `key:${input.idempotencyKey}` : `sha:${input.artifact.sha256}:${manifestSha256}`;
    const { model, artifact } = input;
    const registered = await deps.registry.register(
      model,
      (n: number) => ({
        artifact: {
          path: lakePaths.modelArtifact(model, n),
          sha256: stored.sha256,
          size: stored.bytes.length,
          ...(stored.rewrites.length > 0 ? { sourceSha256: stored.sourceSha256 } : {}),
        },
        ...(manifest.transforms ? { transformSpecHash: manifest.transforms.specHash } : {}),
        signature: manifest.signature,
        trainingMetrics: manifest.metrics,
        datasets: manifest.datasets,
        lineage: manifest.lineage,
        ...(manifest.environment ? { environment: manifest.environment } : {}),
        ...(manifest.goldenRecords ? { goldenRecordsPath: lakePaths.goldenRecords(model, n) } : {}),
        description: manifest.description,
        registrationKey,
        manifestSha256,
      }),
      input.actor,
    );
    const { version } = registered;
    if (!registered.created && (version.artifact.sha256 !== stored.sha256 || version.manifestSha256 !== manifestSha256)) {
      throw errors.idempotencyKeyReused(`the Idempotency-Key was used for version ${version.version}, which was registered from a different package`, {
        version: version.version,
      });
    }
    await storeVersionFiles(deps.lake, version, stored.rewrites.length > 0 ? stored.bytes : artifact, input.manifest, manifest);
    return registered;
  } finally {
    if (input.artifact.temporary) await deps.lake.delete(input.artifact.path).catch(() => undefined);
  }
}

async function writeOnce(lake: DataLake, path: string, body: Buffer | (() => Promise<unknown>)): Promise<void> {
  try {
    if (Buffer.isBuffer(body)) await lake.write(path, body, { contentType: 'application/json', ifNotExists: true });
    else await body();
  } catch (error) {
    if (!(isDomainError(error) && error.code === 'ARTIFACT_ALREADY_EXISTS')) throw error;
  }
}

const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);

/** The version's files; the artifact is the staged upload, or the bytes registration rewrote. */
async function storeVersionFiles(
  lake: DataLake,
  version: ModelVersion,
  artifact: StagedArtifact | Buffer,
  rawManifest: unknown,
  manifest: RegistrationManifest,
): Promise<void> {
  const { modelName: model, version: n } = version;
  const target = version.artifact.path;
  await writeOnce(lake, target, () =>
    Buffer.isBuffer(artifact)
      ? lake.write(target, artifact, { contentType: 'application/octet-stream', ifNotExists: true })
      : lake.copy(artifact.path, target, { ifNotExists: true }),
  );
  if (manifest.transforms) await writeOnce(lake, lakePaths.transformSpec(model, n), json(manifest.transforms));
  if (manifest.goldenRecords) await writeOnce(lake, lakePaths.goldenRecords(model, n), json(manifest.goldenRecords));
  // Last: its presence says the folder is complete.
  await writeOnce(lake, lakePaths.modelManifest(model, n), json(rawManifest));
}

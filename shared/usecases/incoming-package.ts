import { createHash } from 'node:crypto';

import { canonicalHash } from '../domain/canonical-json';
import { resolveInside } from '../domain/contained-path';
import { type DomainError, isDomainError } from '../domain/errors';
import { parseJsonText, parseSentJson } from '../domain/json-text';
import { lakePaths } from '../domain/lake-paths';
import type { LakeObjectInfo } from '../ports/data-lake';
import type { ModelVersion } from '../schemas/model-version';
import {
  packageArtifactLocationSchema,
  packagePinnedArtifactSchema,
  type PackageQuarantineReason,
  packageQuarantineReasonSchema,
} from '../schemas/registration';
import { hashLakeArtifact, registerPackage, type RegisterPackageDeps } from './register-package';

/**
 * Failures that say the package itself is broken: it goes to quarantine with the reason. They
 * include the registration checks' (an artifact that is no ONNX model, a graph that does not match
 * its signature), which retrying cannot mend.
 */
const BROKEN_PACKAGE = new Set([
  'VALIDATION_ERROR',
  'NOT_FOUND',
  'MODEL_NOT_FOUND',
  'ARTIFACT_INTEGRITY',
  'PAYLOAD_TOO_LARGE',
  'IDEMPOTENCY_KEY_REUSED',
  'UNSUPPORTED_MODEL',
  'SIGNATURE_MISMATCH',
]);

const MANIFEST = 'manifest.json';
const REASON = 'reason.json';

export type IncomingOutcome =
  | { outcome: 'registered'; version: ModelVersion; created: boolean }
  | { outcome: 'quarantined'; code: string; reason: string; quarantine: string }
  /** The folder no longer holds this manifest (consumed, quarantined or replaced meanwhile): left alone. */
  | { outcome: 'superseded'; reason: string };

/**
 * Registers a model package a training pipeline wrote to `models/{model}/incoming/{name}/`
 * (manifest.json, written last, and the ONNX file it names; the artifact path stays inside the
 * package folder). A broken package is moved to `quarantine/{model}/packages/{name}/{attempt}/`
 * with a `reason.json`; an outage is thrown so the trigger retries.
 *
 * A failure is only the package's when the folder still holds this manifest: an event handled
 * after the package was consumed (a second event for the same manifest) or replaced answers the
 * version this manifest registered (`created: false`), or `superseded`, and touches nothing.
 */
export async function registerIncomingPackage(
  deps: RegisterPackageDeps,
  input: { model: string; name: string; manifest: Buffer },
): Promise<IncomingOutcome> {
  let manifest: unknown;
  try {
    manifest = parseSentJson(input.manifest.toString('utf8'), 'manifest.json');
    const where = packageArtifactLocationSchema.safeParse(manifest);
    // Resolved as `mlops check` resolves it on disk: `./model.onnx` is the same file as `model.onnx`.
    const artifactPath = lakePaths.incomingPackageFile(input.model, input.name, resolveInside('', where.success ? where.data.artifact.path : 'model.onnx'));
    const artifact = await hashLakeArtifact(deps, artifactPath);
    const actor = { id: packageActor(input.model, input.name), kind: 'system' as const, roles: [] };
    const { version, created } = await registerPackage(deps, { model: input.model, manifest, artifact, actor });
    return { outcome: 'registered', version, created };
  } catch (error) {
    if (!(isDomainError(error) && BROKEN_PACKAGE.has(error.code))) throw error;
    const current = await inboxManifest(deps, input.model, input.name);
    if (!current?.body.equals(input.manifest)) {
      const registered = manifest === undefined ? undefined : await registeredFrom(deps, input, manifest);
      if (registered) return { outcome: 'registered', version: registered, created: false };
      return {
        outcome: 'superseded',
        reason: `models/${input.model}/incoming/${input.name}/ ${current ? 'now holds another manifest' : 'holds no manifest any more'}: the package was consumed, quarantined or replaced meanwhile`,
      };
    }
    if (error.code === 'NOT_FOUND' && manifest !== undefined) {
      // The artifact is gone while the manifest is still there: another invocation for the same
      // manifest registered the package and is removing it from the inbox (artifact first).
      const registered = await registeredFrom(deps, input, manifest, current.info);
      if (registered) return { outcome: 'registered', version: registered, created: false };
    }
    return quarantinePackage(deps, input, error, current.info);
  }
}

const packageActor = (model: string, name: string) => `package:${model}/${name}`;

async function inboxManifest(deps: RegisterPackageDeps, model: string, name: string): Promise<{ body: Buffer; info: LakeObjectInfo } | undefined> {
  const path = lakePaths.incomingPackageFile(model, name, MANIFEST);
  const info = await deps.lake.stat(path);
  if (!info) return undefined;
  try {
    return { body: await deps.lake.readBuffer(path), info };
  } catch (error) {
    if (isDomainError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * The version this manifest registered, if one did: registration is idempotent by content, so a
 * version with the manifest's hash whose artifact is the one the manifest pins (`artifact.sha256`)
 * is it. A manifest that pins no hash is identified by its package: a version this package name
 * registered from the same manifest, and, when `dropped` (the manifest still in the inbox) is
 * given, registered after that manifest was written (not one from an earlier drop of the same
 * manifest with another artifact).
 */
async function registeredFrom(
  deps: RegisterPackageDeps,
  input: { model: string; name: string },
  manifest: unknown,
  dropped?: LakeObjectInfo,
): Promise<ModelVersion | undefined> {
  const manifestSha256 = canonicalHash(manifest);
  const pinned = packagePinnedArtifactSchema.safeParse(manifest);
  const pinnedSha256 = pinned.success ? pinned.data.artifact?.sha256 : undefined;
  let versions: ModelVersion[];
  try {
    versions = await deps.registry.listVersions(input.model);
  } catch (error) {
    if (isDomainError(error) && error.code === 'MODEL_NOT_FOUND') return undefined;
    throw error;
  }
  return versions.find((v) => {
    if (v.manifestSha256 !== manifestSha256) return false;
    if (pinnedSha256 !== undefined) return (v.artifact.sourceSha256 ?? v.artifact.sha256) === pinnedSha256;
    if (v.registrant !== packageActor(input.model, input.name)) return false;
    return dropped === undefined || Date.parse(v.createdAt) >= dropped.lastModified.getTime();
  });
}

/** One quarantine folder per dropped manifest, ordered by time: the manifest's time and a hash of its ETag. */
function quarantineAttempt(manifest: LakeObjectInfo): string {
  const at = manifest.lastModified.toISOString().replace(/:/g, '-');
  return `${at}-${createHash('sha256').update(manifest.etag).digest('hex').slice(0, 12)}`;
}

/**
 * Moves the package (the folder holds the manifest that failed) to its own quarantine folder. The
 * reason is written first and write-once: a repeated event for the same manifest finds it, keeps
 * it and finishes the move. The manifest moves last, and only while it is still the one judged,
 * so a package dropped under the same name meanwhile keeps its manifest and registers from it.
 */
async function quarantinePackage(
  deps: RegisterPackageDeps,
  input: { model: string; name: string; manifest: Buffer },
  error: DomainError,
  manifestInfo: LakeObjectInfo,
): Promise<IncomingOutcome> {
  const { model, name } = input;
  const folder = lakePaths.incomingPackageFolder(model, name);
  const manifestPath = lakePaths.incomingPackageFile(model, name, MANIFEST);
  const attempt = quarantineAttempt(manifestInfo);
  const target = (relative: string) => lakePaths.packageQuarantine(model, name, attempt, relative);
  const files: LakeObjectInfo[] = [];
  for await (const file of deps.lake.list(folder)) files.push(file);
  const reasonPath = target(REASON);
  const written: PackageQuarantineReason = {
    code: error.code,
    reason: error.message,
    ...(error.details ? { details: error.details } : {}),
    ...(error.code === 'NOT_FOUND'
      ? {
          hint:
            'upload the artifact first and manifest.json last: an artifact that lands after this manifest waits in the package folder; ' +
            'upload manifest.json again (last) to register the package',
        }
      : {}),
    package: folder,
    manifest: { etag: manifestInfo.etag, lastModified: manifestInfo.lastModified.toISOString() },
    files: files.map((f) => f.path.slice(folder.length)),
    at: new Date().toISOString(),
  };
  let recorded = written;
  try {
    await deps.lake.write(reasonPath, Buffer.from(`${JSON.stringify(written, null, 2)}\n`), { contentType: 'application/json', ifNotExists: true });
  } catch (e) {
    if (!(isDomainError(e) && e.code === 'ARTIFACT_ALREADY_EXISTS')) throw e;
    recorded = packageQuarantineReasonSchema.parse(parseJsonText((await deps.lake.readBuffer(reasonPath)).toString('utf8')));
  }
  for (const file of files) {
    if (file.path !== manifestPath) await moveFile(deps, file.path, target(file.path.slice(folder.length)));
  }
  const still = await inboxManifest(deps, model, name);
  if (still?.info.etag === manifestInfo.etag && still.body.equals(input.manifest)) await moveFile(deps, manifestPath, target(MANIFEST));
  return { outcome: 'quarantined', code: recorded.code, reason: recorded.hint ? `${recorded.reason} (${recorded.hint})` : recorded.reason, quarantine: reasonPath };
}

/** Copies a file to quarantine (write-once: a repeated move keeps the first copy) and removes it. */
async function moveFile(deps: RegisterPackageDeps, from: string, to: string): Promise<void> {
  try {
    await deps.lake.copy(from, to, { ifNotExists: true });
  } catch (error) {
    // Already copied by an earlier attempt, or already moved by a concurrent one.
    if (!(isDomainError(error) && (error.code === 'ARTIFACT_ALREADY_EXISTS' || error.code === 'NOT_FOUND'))) throw error;
  }
  await deps.lake.delete(from);
}

/**
 * Removes a registered package from the inbox (its files now live in the version's folder), its
 * manifest last. `manifest` is the manifest that was registered: when the folder now holds another
 * one (a pipeline dropped a new package under the same name while this one registered) or none
 * (another invocation consumed it), the folder is left alone, so a newer package is never removed
 * unregistered; its own manifest event registers it. Answers whether the folder was emptied.
 */
export async function consumeIncomingPackage(deps: RegisterPackageDeps, model: string, name: string, manifest: Buffer): Promise<boolean> {
  const manifestPath = lakePaths.incomingPackageFile(model, name, MANIFEST);
  const current = await inboxManifest(deps, model, name);
  if (!current?.body.equals(manifest)) return false;
  for await (const file of deps.lake.list(lakePaths.incomingPackageFolder(model, name))) {
    if (file.path !== manifestPath) await deps.lake.delete(file.path);
  }
  await deps.lake.delete(manifestPath);
  return true;
}

import { resolveInside } from '../domain/contained-path';
import { type DomainError, errors, isDomainError } from '../domain/errors';
import { parseJsonText } from '../domain/json-text';
import { lakePaths } from '../domain/lake-paths';
import type { ModelVersion } from '../schemas/model-version';
import { packageArtifactLocationSchema } from '../schemas/registration';
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

export type IncomingOutcome =
  | { outcome: 'registered'; version: ModelVersion; created: boolean }
  | { outcome: 'quarantined'; code: string; reason: string; quarantine: string };


/**
 * Registers a model package a training pipeline wrote to `models/{model}/incoming/{name}/`
 * (manifest.json, written last, and the ONNX file it names; the artifact path stays inside the
 * package folder). A broken package is moved to `quarantine/{model}/packages/{name}/` with a
 * `reason.json`; an outage is thrown so the trigger retries.
 */
export async function registerIncomingPackage(
  deps: RegisterPackageDeps,
  input: { model: string; name: string; manifest: Buffer },
): Promise<IncomingOutcome> {
  try {
    let manifest: unknown;
    try {
      manifest = parseJsonText(input.manifest.toString('utf8'));
    } catch (e) {
      throw errors.validation(`manifest.json is not valid JSON: ${(e as Error).message}`);
    }
    const where = packageArtifactLocationSchema.safeParse(manifest);
    // Resolved as `mlops check` resolves it on disk: `./model.onnx` is the same file as `model.onnx`.
    const artifactPath = lakePaths.incomingPackageFile(input.model, input.name, resolveInside('', where.success ? where.data.artifact.path : 'model.onnx'));
    const artifact = await hashLakeArtifact(deps, artifactPath);
    const actor = { id: `package:${input.model}/${input.name}`, kind: 'system' as const, roles: [] };
    const { version, created } = await registerPackage(deps, { model: input.model, manifest, artifact, actor });
    return { outcome: 'registered', version, created };
  } catch (error) {
    if (!(isDomainError(error) && BROKEN_PACKAGE.has(error.code))) throw error;
    return quarantinePackage(deps, input.model, input.name, error);
  }
}

async function quarantinePackage(deps: RegisterPackageDeps, model: string, name: string, error: DomainError): Promise<IncomingOutcome> {
  const folder = lakePaths.incomingPackageFolder(model, name);
  for await (const file of deps.lake.list(folder)) {
    await deps.lake.copy(file.path, lakePaths.packageQuarantine(model, name, file.path.slice(folder.length)));
    await deps.lake.delete(file.path);
  }
  const quarantine = lakePaths.packageQuarantine(model, name, 'reason.json');
  const reason = { code: error.code, reason: error.message, ...(error.details ? { details: error.details } : {}), package: folder, at: new Date().toISOString() };
  await deps.lake.write(quarantine, Buffer.from(`${JSON.stringify(reason, null, 2)}\n`), { contentType: 'application/json' });
  return { outcome: 'quarantined', code: error.code, reason: error.message, quarantine };
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
  const current = await deps.lake.readBuffer(manifestPath).catch((error: unknown) => {
    if (isDomainError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  });
  if (!current?.equals(manifest)) return false;
  for await (const file of deps.lake.list(lakePaths.incomingPackageFolder(model, name))) {
    if (file.path !== manifestPath) await deps.lake.delete(file.path);
  }
  await deps.lake.delete(manifestPath);
  return true;
}

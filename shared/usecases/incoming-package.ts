import { resolveInside } from '../domain/contained-path';
import { type DomainError, errors, isDomainError } from '../domain/errors';
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
      manifest = JSON.parse(input.manifest.toString('utf8')) as unknown;
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

/** Removes a registered package from the inbox (its files now live in the version's folder). */
export async function consumeIncomingPackage(deps: RegisterPackageDeps, model: string, name: string): Promise<void> {
  for await (const file of deps.lake.list(lakePaths.incomingPackageFolder(model, name))) await deps.lake.delete(file.path);
}

/** Reading a version manifest and its artifact from local disk, for the commands that check or score a package. */
import fs from 'node:fs';
import path from 'node:path';

import { FileLake } from '../shared/adapters/local/file-lake';
import { resolveInside } from '../shared/domain/contained-path';
import { errors, parseOrThrow } from '../shared/domain/errors';
import { parseJsonText } from '../shared/domain/json-text';
import { isLakePath } from '../shared/domain/lake-paths';
import { type RegistrationManifest, registrationManifestSchema } from '../shared/schemas/registration';
import { type VersionManifest, versionManifestSchema } from '../shared/schemas/version-manifest';
import type { VersionPackage } from '../shared/usecases/check-version';

export function readJsonFile(file: string, what: string): unknown {
  try {
    return parseJsonText(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw errors.validation(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

export function readManifest(file: string): VersionManifest {
  const raw = readJsonFile(file, 'manifest');
  refuseRegistrationManifest(file, raw);
  return parseOrThrow(versionManifestSchema, raw, `manifest ${file}`);
}

/**
 * A registration manifest (what `POST /models/{model}/versions` takes beside the ONNX file, as
 * in examples/) names neither the model nor the artifact, which a version manifest does: read as
 * one, it only got "expected object, received undefined" at both, which says nothing of what to
 * do. Only a manifest registration accepts gets this message; any other gets the schema's issues.
 */
function refuseRegistrationManifest(file: string, raw: unknown): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return;
  const missing = ['model', 'artifact'].filter((field) => !Object.hasOwn(raw, field));
  if (missing.length === 0 || !registrationManifestSchema.safeParse(raw).success) return;
  throw errors.validation(
    `${file} is a registration manifest (what POST /models/{model}/versions takes with the ONNX file): it has no ${missing.map((f) => `'${f}'`).join(' or ')}. ` +
      "A version manifest, which mlops check and mlops score read, also holds the model definition ('model') and the ONNX file's path ('artifact.path'): " +
      'write one with mlops package <dir>, from a folder holding model.onnx and model.json (and fitted.json when the model takes fitted transforms).',
    { missing },
  );
}

/**
 * A package's manifest as `mlops check` reads it: a version manifest that registration's own
 * manifest schema also accepts. The version manifest lets through what scoring does not read (a
 * 50 MB `description`, a misspelt field), which registration then refused.
 */
export function readPackageManifest(file: string): { manifest: VersionManifest; registration: RegistrationManifest } {
  const raw = readJsonFile(file, 'manifest');
  refuseRegistrationManifest(file, raw);
  const manifest = parseOrThrow(versionManifestSchema, raw, `manifest ${file}`);
  const registration = parseOrThrow(registrationManifestSchema, raw, `registration manifest ${file}`);
  return { manifest, registration };
}

/**
 * The manifest's ONNX file: `artifact.path` resolved inside the manifest's folder
 * (resolveInside refuses absolute paths and `..` that climb out), then followed through symbolic
 * links, which must not lead out of the folder either.
 */
export function artifactFileOf(manifestFile: string, manifest: VersionManifest): string {
  const folder = realpathOr(path.dirname(path.resolve(manifestFile)));
  const real = realpathOr(resolveInside(folder, manifest.artifact.path));
  if (!isInsideFolder(folder, real))
    throw errors.validation(`artifact.path ${JSON.stringify(manifest.artifact.path)} leads through a symbolic link out of the manifest's folder (to ${real})`);
  return real;
}

/** Whether `file` lies strictly inside `folder` (both resolved the same way: both real, or both lexical). */
export function isInsideFolder(folder: string, file: string): boolean {
  const inside = path.relative(folder, file);
  return !(inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside));
}

/**
 * Where `file` really is once symbolic links are followed, when that is out of `folder` (also
 * followed): `mlops package` refuses such an ONNX file as `mlops check` and `mlops score` do.
 * Undefined when it stays inside, or when either cannot be resolved (the caller reports a missing file).
 */
export function symlinkOutOf(folder: string, file: string): string | undefined {
  let realFolder: string;
  let realFile: string;
  try {
    realFolder = fs.realpathSync(folder);
    realFile = fs.realpathSync(file);
  } catch {
    return undefined;
  }
  return isInsideFolder(realFolder, realFile) ? undefined : realFile;
}

function realpathOr(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch (e) {
    throw errors.validation(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The manifest's package: its artifact read from the path it gives, inside the manifest's folder. */
export function versionPackage(manifestFile: string, manifest: VersionManifest): VersionPackage {
  const artifactFile = artifactFileOf(manifestFile, manifest);
  let artifact: Buffer;
  try {
    artifact = fs.readFileSync(artifactFile);
  } catch (e) {
    throw errors.validation(
      `cannot read the artifact ${artifactFile} (artifact.path in ${manifestFile}): ${(e as Error).message}`,
    );
  }
  return {
    model: manifest.model,
    version: manifest.version,
    artifact,
    ...(manifest.artifact.sha256 ? { artifactSha256: manifest.artifact.sha256 } : {}),
    ...(manifest.artifact.rewrittenSha256 ? { rewrittenSha256: manifest.artifact.rewrittenSha256 } : {}),
    signature: manifest.signature,
    ...(manifest.transforms ? { transforms: manifest.transforms } : {}),
    ...(manifest.goldenRecords ? { goldenRecords: manifest.goldenRecords } : {}),
  };
}

/** Lake paths are relative to the filesystem root, so absolute local paths map one to one. */
export const lakePath = (file: string) =>
  path
    .relative(path.parse(path.resolve(file)).root, path.resolve(file))
    .split(path.sep)
    .join('/');

/**
 * A local file as the lake ports read it: a FileLake and the file's lake path. That is its full
 * path under the filesystem root (what predictions name as source_file) when the lake's path
 * rules allow it; a file in a folder they refuse (a name ending in a space, a path past 1,024
 * characters) is read through a lake on its own folder, by its name.
 */
export function localFile(file: string): { lake: FileLake; path: string } {
  const full = path.resolve(file);
  return isLakePath(lakePath(full))
    ? { lake: new FileLake(path.parse(full).root), path: lakePath(full) }
    : { lake: new FileLake(path.dirname(full)), path: path.basename(full) };
}

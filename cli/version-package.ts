/** Reading a version manifest and its artifact from local disk, for the commands that check or score a package. */
import fs from 'node:fs';
import path from 'node:path';

import { errors, parseOrThrow } from '../shared/domain/errors';
import { type VersionManifest, versionManifestSchema } from '../shared/schemas/version-manifest';
import type { VersionPackage } from '../shared/usecases/check-version';

export function readJsonFile(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw errors.validation(`cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

export function readManifest(file: string): VersionManifest {
  return parseOrThrow(versionManifestSchema, readJsonFile(file, 'manifest'), `manifest ${file}`);
}

/** The manifest's package: its artifact read from the path it gives, relative to the manifest. */
export function versionPackage(manifestFile: string, manifest: VersionManifest): VersionPackage {
  const artifactFile = path.resolve(path.dirname(manifestFile), manifest.artifact.path);
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

import fs from 'node:fs';
import path from 'node:path';

import { resolveInside } from '../shared/domain/contained-path';
import { errors, parseOrThrow } from '../shared/domain/errors';
import { type VersionManifest, versionManifestSchema } from '../shared/schemas/version-manifest';

/** Reads and validates a version manifest (docs/scoring.md); unreadable JSON names the file. */
export function readManifest(file: string): VersionManifest {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw errors.validation(`cannot read the manifest ${file}: ${(e as Error).message}`);
  }
  return parseOrThrow(versionManifestSchema, json, `manifest ${file}`);
}

/**
 * The manifest's ONNX file: `artifact.path` resolved inside the manifest's folder
 * (resolveInside refuses absolute paths and `..` that climb out), then followed through symbolic
 * links, which must not lead out of the folder either.
 */
export function artifactFileOf(manifestFile: string, manifest: VersionManifest): string {
  const folder = realpathOr(path.dirname(path.resolve(manifestFile)));
  const file = resolveInside(folder, manifest.artifact.path);
  const real = realpathOr(file);
  const inside = path.relative(folder, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside))
    throw errors.validation(`artifact.path ${JSON.stringify(manifest.artifact.path)} leads through a symbolic link out of the manifest's folder (to ${real})`);
  return real;
}

function realpathOr(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch (e) {
    throw errors.validation(`cannot read ${file}: ${(e as Error).message}`);
  }
}

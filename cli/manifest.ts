import fs from 'node:fs';

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

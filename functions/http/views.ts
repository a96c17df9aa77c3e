import type { VersionSummary } from '../../shared/schemas/api';
import type { ModelVersion } from '../../shared/schemas/model-version';

/** A version as lists and decision answers show it. */
export function versionSummary(v: ModelVersion): VersionSummary {
  return {
    model: v.modelName,
    version: v.version,
    state: v.state,
    registrant: v.registrant,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
    artifactSha256: v.artifact.sha256,
    ...(v.evidenceHash ? { evidenceHash: v.evidenceHash } : {}),
  };
}

export const versionPath = (model: string, version: number) => `/api/models/${model}/versions/${version}`;

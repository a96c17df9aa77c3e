import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, sha256Schema, versionNumberSchema } from './common';
import { championComparisonSchema, segmentedMetricReportSchema } from './metrics';
import { validationSplitSchema } from './policies';

/** One check of a version before its metrics (the artifact loads, parity, the data can be read). */
export const evidenceCheckSchema = z.object({
  check: z.enum(['artifact', 'parity', 'dataset', 'champion']),
  passed: z.boolean(),
  /** A failed gating check fails validation; a non-gating one is reported only. */
  gating: z.boolean(),
  /** The error code when the check failed on a DomainError. */
  code: z.string().optional(),
  message: z.string(),
});
export type EvidenceCheck = z.infer<typeof evidenceCheckSchema>;

/** The metrics of one train/validation partition: the challenger's, the champion's on the same rows, the gates. */
export const splitEvidenceSchema = z.object({
  strategy: validationSplitSchema,
  /** The partition's name (`random`, `fold-2`, `time`, ...). */
  name: z.string(),
  rows: z.number().int().nonnegative(),
  challenger: segmentedMetricReportSchema,
  champion: segmentedMetricReportSchema.nullable(),
  comparison: championComparisonSchema,
});
export type SplitEvidence = z.infer<typeof splitEvidenceSchema>;

/**
 * The validation evidence of a version (blob `evidence/{model}/{version}/{sha256}.json`). Its
 * canonical-JSON sha256 goes onto the version; an approval or rejection must quote it, so a person
 * decides on exactly what they read.
 */
export const validationEvidenceSchema = z.object({
  schemaVersion: z.literal(1),
  model: modelNameSchema,
  version: versionNumberSchema,
  /** When the lifecycle validated (the orchestration's clock, so a retried step gives the same hash). */
  validatedAt: isoDateTimeSchema,
  artifactSha256: sha256Schema,
  transformSpecHash: sha256Schema.optional(),
  /** The champion it was compared with on the same rows; null when the model had none. */
  champion: z.object({ version: versionNumberSchema, artifactSha256: sha256Schema }).nullable(),
  dataset: z
    .object({
      path: z.string(),
      etag: z.string().optional(),
      rowsRead: z.number().int().nonnegative(),
      /** Rows scored by the challenger (and the champion) with a usable actual. */
      rowsEvaluated: z.number().int().nonnegative(),
      rowsRejected: z.number().int().nonnegative(),
      /** Rows whose actual was missing or not a known label. */
      rowsWithoutActual: z.number().int().nonnegative(),
      rejectionReasons: z.record(z.string(), z.number().int().nonnegative()),
    })
    .nullable(),
  checks: z.array(evidenceCheckSchema),
  splits: z.array(splitEvidenceSchema),
  decision: z.enum(['pass', 'fail']),
  /** Why it failed, one line per failed gate (empty on pass). */
  reasons: z.array(z.string()),
});
export type ValidationEvidence = z.infer<typeof validationEvidenceSchema>;

/** What the lifecycle keeps of a validation: the decision and where the evidence is. */
export const validationOutcomeSchema = z.object({
  decision: z.enum(['pass', 'fail']),
  reasons: z.array(z.string()),
  evidenceHash: sha256Schema,
  evidencePath: z.string(),
});
export type ValidationOutcome = z.infer<typeof validationOutcomeSchema>;

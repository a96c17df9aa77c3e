import { z } from 'zod';

import { goldenRecordsSchema } from '../domain/parity';
import { sha256Schema, versionNumberSchema } from './common';
import { datasetReferenceSchema, environmentSchema, lineageSchema, modelSignatureSchema } from './model-version';
import { fittedTransformsSchema, transformSpecSchema } from './transforms';

/**
 * What a registrant hands over with the ONNX file (the `manifest` part of
 * `POST /models/{model}/versions`, or `manifest.json` of a package in
 * `models/{model}/incoming/{name}/`): the version manifest `mlops score` reads, without the model
 * definition (the route or folder names the model) and with training metrics, lineage, the
 * training environment and the datasets it was trained and is to be validated on.
 */
export const registrationManifestSchema = z.strictObject({
  /** Optional here: the model comes from the route; when given, its name must match. */
  model: z.object({ name: z.string() }).loose().optional(),
  /** A version manifest's own number (`mlops package` writes one): the registry assigns the version, so it is not used. */
  version: versionNumberSchema.optional(),
  artifact: z
    .strictObject({
      /** Packages: the ONNX file, relative to the package folder. Ignored for uploads. */
      path: z.string().min(1).max(512).default('model.onnx'),
      /** When given, the received bytes must have this hash. */
      sha256: sha256Schema.optional(),
      /** When given, the graph after registration's rewrites (ZipMap removed) must have this hash. */
      rewrittenSha256: sha256Schema.optional(),
    })
    .default({ path: 'model.onnx' }),
  signature: modelSignatureSchema,
  /** The fitted transforms; absent when the graph's inputs take raw columns (preprocessing inside the graph). */
  transforms: fittedTransformsSchema.optional(),
  /**
   * The spec the transforms were fitted from (its hash must be `transforms.specHash`). Optional:
   * a retraining recovers the spec from the fitted transforms, and needs it here only when they
   * cannot show it (a quantile clip bound, a custom outlier threshold).
   */
  transformSpec: transformSpecSchema.optional(),
  goldenRecords: goldenRecordsSchema.optional(),
  /** Training metrics, by name. */
  metrics: z.record(z.string().min(1).max(64), z.number()).default({}),
  lineage: lineageSchema.default({ source: 'manual' }),
  environment: environmentSchema.optional(),
  /** Lake paths (or external URIs) with roles; a `validation` dataset in the lake is needed to validate. */
  datasets: z.array(datasetReferenceSchema).max(50).default([]),
  description: z.string().max(2000).default(''),
});
export type RegistrationManifest = z.infer<typeof registrationManifestSchema>;

/** Only where a package's artifact is, read before the whole manifest is checked. */
export const packageArtifactLocationSchema = z.object({
  artifact: z.object({ path: z.string().min(1).default('model.onnx') }).default({ path: 'model.onnx' }),
});

/** The artifact hash a package's manifest pins, if any, read before the whole manifest is checked. */
export const packagePinnedArtifactSchema = z.object({
  artifact: z.object({ sha256: sha256Schema.optional() }).optional(),
});

/**
 * `reason.json` beside a quarantined package (`quarantine/{model}/packages/{name}/{attempt}/`):
 * why the package was refused, what was moved, and what to do when the manifest came too early.
 */
export const packageQuarantineReasonSchema = z.object({
  code: z.string().min(1),
  reason: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  hint: z.string().optional(),
  package: z.string().min(1),
  manifest: z.object({ etag: z.string().min(1), lastModified: z.string().min(1) }),
  files: z.array(z.string()),
  at: z.string().min(1),
});
export type PackageQuarantineReason = z.infer<typeof packageQuarantineReasonSchema>;

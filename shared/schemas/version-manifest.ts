import { z } from 'zod';

import { goldenRecordsSchema } from '../domain/parity';
import { sha256Schema, versionNumberSchema } from './common';
import { modelInputSchema } from './model';
import { modelSignatureSchema } from './signature';
import { fittedTransformsSchema } from './transforms';

/**
 * A model version on local disk, for `mlops score`: the definition, the ONNX file (relative to
 * the manifest), its signature, the fitted transforms and optional golden records.
 * Documented in docs/scoring.md.
 */
export const versionManifestSchema = z.object({
  model: modelInputSchema,
  version: versionNumberSchema.default(1),
  artifact: z.object({
    path: z.string().min(1),
    sha256: sha256Schema.optional(),
  }),
  signature: modelSignatureSchema,
  transforms: fittedTransformsSchema,
  goldenRecords: goldenRecordsSchema.optional(),
});
export type VersionManifest = z.infer<typeof versionManifestSchema>;

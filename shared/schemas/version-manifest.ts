import { z } from 'zod';

import { goldenRecordsSchema } from '../domain/parity';
import { sha256Schema, versionNumberSchema } from './common';
import { modelDraftSchema } from './model';
import { modelSignatureSchema } from './signature';
import { fittedTransformsSchema } from './transforms';

/**
 * A model version on local disk (a registration package): the definition, the ONNX file
 * (relative to the manifest), its signature, the fitted transforms (absent when the graph takes
 * raw columns) and optional golden records. Read by `mlops score` and `mlops check`, written by
 * `mlops package`. Documented in docs/scoring.md.
 */
export const versionManifestSchema = z.object({
  /** A classifier may leave classLabels out when its graph names them (ZipMap or classifier node). */
  model: modelDraftSchema,
  version: versionNumberSchema.default(1),
  artifact: z.object({
    path: z.string().min(1),
    /** sha256 of the file at `path`, as exported. */
    sha256: sha256Schema.optional(),
    /** sha256 of the graph as registration stores it, after its rewrites (ZipMap removed); only when something is rewritten. */
    rewrittenSha256: sha256Schema.optional(),
  }),
  /** The signature of the graph as stored (after the rewrites). */
  signature: modelSignatureSchema,
  transforms: fittedTransformsSchema.optional(),
  goldenRecords: goldenRecordsSchema.optional(),
});
export type VersionManifest = z.infer<typeof versionManifestSchema>;

import { z } from 'zod';

import { dataLake, registryStore } from '../../shared/composition';
import { versionParamsSchema } from '../../shared/schemas/api';
import { openVersionFile, VERSION_FILE_NAMES } from '../../shared/usecases/version-files';
import { defineRoute } from './api';
import { ROLES } from './identity';

/** An RFC 9530 `Repr-Digest` value for a hex sha256: `sha-256=:<base64 of the digest>:`. */
export const reprDigestOf = (sha256Hex: string): string => `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;

defineRoute({
  name: 'getVersionFile',
  method: 'GET',
  route: 'models/{model}/versions/{version}/files/{name}',
  summary: `Download one of a version's stored files: ${VERSION_FILE_NAMES.join(', ')}`,
  description:
    "Streamed from the data lake as stored (model.onnx is the graph the version records: rewritten without ZipMap when registration rewrote it). 404 NOT_FOUND for another name (`allowed` lists the names) or an optional file the version was registered without, MODEL_NOT_FOUND, VERSION_NOT_FOUND; 500 ARTIFACT_MISSING when the version has the file but the lake no longer does, as scoring reports it.",
  tags: ['versions'],
  access: ROLES.reader,
  // Any name reaches the handler, so one that is no file is a 404 listing the names, not a 400.
  params: versionParamsSchema.extend({ name: z.string().min(1).max(128) }),
  responses: {
    200: {
      description: 'The file: application/octet-stream for model.onnx, application/json for the JSON files',
      binary: ['application/octet-stream', 'application/json'],
      headers: {
        'Content-Length': 'Its size in bytes',
        ETag: "The stored blob's ETag",
        'Content-Disposition': 'attachment; filename="{model}-v{version}-{name}"',
        'Repr-Digest': 'model.onnx only: RFC 9530 `sha-256=:<base64>:`, the sha256 the version records (`artifact.sha256`)',
      },
    },
  },
  handler: async ({ params }) => {
    const file = await openVersionFile({ registry: registryStore(), lake: dataLake() }, params.model, params.version, params.name);
    return {
      status: 200,
      stream: file.body,
      headers: {
        'content-type': file.contentType,
        'content-length': String(file.size),
        etag: file.etag,
        // Model names and file names are plain ASCII (modelNameSchema, VERSION_FILE_NAMES): nothing to quote or encode.
        'content-disposition': `attachment; filename="${params.model}-v${params.version}-${params.name}"`,
        ...(file.sha256 !== undefined ? { 'repr-digest': reprDigestOf(file.sha256) } : {}),
      },
    };
  },
});

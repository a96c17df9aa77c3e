import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { ACTUALS_JOIN,actualsJoinInstanceId } from '../../orchestrations/actuals/names';
import { actualsIdOf } from '../../shared/domain/actuals';
import { lakePaths } from '../../shared/domain/lake-paths';
import { type ActualsJoinInput, actualsJoinInputSchema } from '../../shared/schemas/actuals';
import { modelNameSchema } from '../../shared/schemas/common';
import { startOnce } from '../durable-client';

/** The host's blob metadata: the binding's parameters and the blob's properties (camelCased by the library). */
const triggerSchema = z.object({
  model: modelNameSchema,
  name: z.string().min(1),
  properties: z.object({
    eTag: z.string().min(1),
    length: z.coerce.number().int().nonnegative().optional(),
    contentLength: z.coerce.number().int().nonnegative().optional(),
    lastModified: z.coerce.date().optional(),
  }),
});

/**
 * The join a blob event asks for, or why it is ignored (metadata without a model or an ETag, which
 * no record could belong to; a folder marker). A name the lake refuses (a folder starting with a
 * space, `//`) still starts its join, whose plan fails it with the reason on a record.
 */
export function actualsJoinStart(metadata: unknown, blobLength: number): { input: ActualsJoinInput; instanceId: string } | { ignored: string } {
  const where = triggerSchema.safeParse(metadata);
  if (!where.success) return { ignored: z.prettifyError(where.error) };
  const { model, name, properties } = where.data;
  // Some tools mark a folder with an empty blob named like it: not a file to join.
  if (name.endsWith('/')) return { ignored: `'${name}' is a folder marker, not an actuals file` };
  let path: string;
  try {
    path = lakePaths.actuals(model, name);
  } catch {
    path = `actuals/${model}/${name}`;
  }
  const input = actualsJoinInputSchema.parse({
    model,
    path,
    etag: properties.eTag,
    size: properties.length ?? properties.contentLength ?? blobLength,
    lastModified: (properties.lastModified ?? new Date()).toISOString(),
  });
  return { input, instanceId: actualsJoinInstanceId(model, actualsIdOf(path, input.etag)) };
}

/**
 * An actuals file (`actuals/{model}/{name}`: CSV, CSV.gz or Parquet with the model's id and
 * target columns) starts its join, `actualsJoin`, under an instance id made of the blob's path
 * and ETag: a repeated event for the same version does nothing, a new version is a new join.
 * Event Grid source, as Flex Consumption requires; the data container is in the host's storage
 * account. The handler does not use the bytes the host hands it: the join streams the file
 * from the lake, chunk by chunk.
 */
app.storageBlob('joinActuals', {
  path: '%DATA_CONTAINER%/actuals/{model}/{name}',
  source: 'EventGrid',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  handler: async (blob: Buffer, context: InvocationContext): Promise<void> => {
    const start = actualsJoinStart(context.triggerMetadata, blob.length);
    if ('ignored' in start) {
      context.warn(`joinActuals: ignored ${String(context.triggerMetadata?.blobTrigger)}: ${start.ignored}`);
      return;
    }
    const { input, instanceId } = start;
    const started = await startOnce(df.getClient(context), ACTUALS_JOIN, instanceId, input);
    context.log(`joinActuals: ${input.path} ${started ? 'joining' : 'already joined or joining'} as ${instanceId}`);
  },
});

import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { BATCH_INFERENCE,batchInstanceId } from '../../orchestrations/batch/names';
import { registryStore } from '../../shared/composition';
import { config } from '../../shared/config';
import { modelNameSchema } from '../../shared/schemas/common';
import type { BatchInput } from '../../shared/schemas/monitoring';
import { runIdFor, SCHEDULED_DROPS } from '../../shared/usecases/batch-inference';
import { startOnce } from '../durable-client';

/** The trigger metadata a blob event carries (camelCased by the programming model). */
const dropEventSchema = z.object({
  model: modelNameSchema,
  name: z.string().min(1),
  blobTrigger: z.string().min(1),
  properties: z.object({
    eTag: z.string().min(1),
    length: z.coerce.number().int().nonnegative(),
    lastModified: z.coerce.date(),
  }),
});

/**
 * A data drop at `drops/{model}/...` (CSV, CSV.gz or Parquet) starts `batchInference`. The instance
 * id comes from the blob's path and ETag: the same event delivered again starts nothing new, a new
 * version of the same path is a new run. Event Grid source, as Flex Consumption requires.
 */
app.storageBlob('scoreDrop', {
  path: '%DATA_CONTAINER%/drops/{model}/{name}',
  source: 'EventGrid',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  handler: async (_content: Buffer, context: InvocationContext): Promise<void> => {
    const event = dropEventSchema.safeParse(context.triggerMetadata);
    if (!event.success) {
      context.warn(`scoreDrop: ignored ${String(context.triggerMetadata?.blobTrigger)}: ${z.prettifyError(event.error)}`);
      return;
    }
    const { model, name, blobTrigger, properties } = event.data;
    const path = blobTrigger.slice(blobTrigger.indexOf('/') + 1);
    if (name.startsWith(SCHEDULED_DROPS)) {
      // Scored by the schedule; without one it would wait for good, so say so where people look.
      // Only a hint: an outage of the registry must not fail (and retry, then poison) this event.
      const record = await registryStore()
        .getModel(model)
        .catch(() => null);
      if (record !== null && !record?.definition.schedule) {
        context.warn(`scoreDrop: ${path} waits for a schedule, and ${record ? `model '${model}' has none` : `there is no model '${model}'`}: it is not scored (drops/${model}/ is scored on arrival)`);
      }
      return;
    }
    const source = { path, etag: properties.eTag, size: properties.length, lastModified: properties.lastModified.toISOString() };
    const runId = runIdFor([source], source.lastModified);
    // startOnce puts the trigger's span in the input: the run's orchestration and activities are traced under it.
    const input: BatchInput = { model, runId, kind: 'batch', sources: [source], maxParallel: config().BATCH_MAX_PARALLEL_CHUNKS };
    const started = await startOnce(df.getClient(context), BATCH_INFERENCE, batchInstanceId(model, runId), input);
    context.log(`scoreDrop: ${path} ${started ? '->' : 'is already'} run ${runId}`);
  },
});

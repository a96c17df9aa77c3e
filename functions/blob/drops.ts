import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { BATCH_INFERENCE, batchInstanceId } from '../../orchestrations/batch/names';
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
 * The run a drop's blob event asks for, or why it starts none: metadata without a model or an ETag
 * (no run could be named), a folder marker, or a file under `scheduled/` (scored by the schedule).
 */
export function dropRunStart(
  metadata: unknown,
  maxParallel: number,
): { input: BatchInput; instanceId: string; path: string } | { ignored: string } | { scheduled: { model: string; path: string } } {
  const event = dropEventSchema.safeParse(metadata);
  if (!event.success) return { ignored: z.prettifyError(event.error) };
  const { model, name, blobTrigger, properties } = event.data;
  const path = blobTrigger.slice(blobTrigger.indexOf('/') + 1);
  // Some tools mark a folder with an empty blob named like it: not a drop, and a run of it could only fail.
  if (name.endsWith('/')) return { ignored: `'${path}' is a folder marker, not a data drop` };
  if (name.startsWith(SCHEDULED_DROPS)) return { scheduled: { model, path } };
  const source = { path, etag: properties.eTag, size: properties.length, lastModified: properties.lastModified.toISOString() };
  const runId = runIdFor([source], source.lastModified);
  return { input: { model, runId, kind: 'batch', sources: [source], maxParallel }, instanceId: batchInstanceId(model, runId), path };
}

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
    const start = dropRunStart(context.triggerMetadata, config().BATCH_MAX_PARALLEL_CHUNKS);
    if ('ignored' in start) {
      context.warn(`scoreDrop: ignored ${String(context.triggerMetadata?.blobTrigger)}: ${start.ignored}`);
      return;
    }
    if ('scheduled' in start) {
      const { model, path } = start.scheduled;
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
    // startOnce puts the trigger's span in the input: the run's orchestration and activities are traced under it.
    const started = await startOnce(df.getClient(context), BATCH_INFERENCE, start.instanceId, start.input);
    context.log(`scoreDrop: ${start.path} ${started ? '->' : 'is already'} run ${start.input.runId}`);
  },
});

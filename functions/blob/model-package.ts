import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { registration } from '../../shared/composition';
import { RUN_ID_PATTERN } from '../../shared/domain/lake-paths';
import { modelNameSchema } from '../../shared/schemas/common';
import { consumeIncomingPackage, registerIncomingPackage } from '../../shared/usecases/incoming-package';
import { ensureLifecycleStarted } from '../durable-client';

const bindingDataSchema = z.object({ model: modelNameSchema, name: z.string().regex(RUN_ID_PATTERN) });

/**
 * A model package from a training pipeline: `models/{model}/incoming/{name}/manifest.json`
 * (written after the ONNX file) registers a version as `POST .../versions` does and starts its
 * lifecycle; a broken package goes to quarantine with its reason (a folder of its own). An event
 * for a manifest the folder no longer holds (consumed or replaced meanwhile) changes nothing. Event Grid source, as Flex
 * Consumption requires; the data container is in the host's storage account.
 */
app.storageBlob('registerModelPackage', {
  path: '%DATA_CONTAINER%/models/{model}/incoming/{name}/manifest.json',
  source: 'EventGrid',
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  handler: async (manifest: Buffer, context: InvocationContext): Promise<void> => {
    const where = bindingDataSchema.safeParse(context.triggerMetadata);
    if (!where.success) {
      context.warn(`registerModelPackage: ignored ${String(context.triggerMetadata?.blobTrigger)}: not models/{model}/incoming/{name}/manifest.json with a valid model and package name`);
      return;
    }
    const { model, name } = where.data;
    const deps = registration();
    const result = await registerIncomingPackage(deps, { model, name, manifest });
    if (result.outcome === 'quarantined') {
      context.warn(`registerModelPackage: package ${model}/${name} quarantined (${result.code}) in ${result.quarantine}: ${result.reason}`);
      return;
    }
    if (result.outcome === 'superseded') {
      context.log(`registerModelPackage: ignored a stale event for ${model}/${name}: ${result.reason}`);
      return;
    }
    const { version } = result;
    await ensureLifecycleStarted(df.getClient(context), { model, version: version.version, reason: 'registered' });
    const consumed = await consumeIncomingPackage(deps, model, name, manifest);
    context.log(`registerModelPackage: package ${model}/${name} registered as v${version.version}${result.created ? '' : ' (already registered)'}`);
    if (!consumed) {
      context.warn(`registerModelPackage: models/${model}/incoming/${name}/ now holds another manifest (or none): left as it is; a new package there registers from its own manifest`);
    }
  },
});

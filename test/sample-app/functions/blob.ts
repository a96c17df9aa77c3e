import { app, type InvocationContext } from '@azure/functions';

/** Every blob the trigger saw, for tests (the sample app runs in the test process). */
export const drops: Array<{ model: unknown; name: unknown; blobTrigger: unknown; etag: unknown; text: string }> = [];

app.storageBlob('onSampleDrop', {
  path: 'sample-drops/{model}/{name}',
  source: 'EventGrid',
  connection: 'AzureWebJobsStorage',
  handler: (blob: unknown, context: InvocationContext) => {
    const meta = context.triggerMetadata ?? {};
    const properties = (meta.properties ?? {}) as Record<string, unknown>;
    drops.push({
      model: meta.model,
      name: meta.name,
      blobTrigger: meta.blobTrigger,
      etag: properties.eTag,
      text: Buffer.isBuffer(blob) ? blob.toString('utf8') : String(blob),
    });
  },
});

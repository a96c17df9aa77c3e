import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

import { config } from '../../config';
import { azureCredential } from '../azure-credential';

let service: BlobServiceClient | undefined;
let container: Promise<ContainerClient> | undefined;

/**
 * The process's Blob service client, created on first use: the connection string locally
 * (Azurite), the service URI with managed identity on Azure.
 */
export function blobServiceClient(): BlobServiceClient {
  if (service) return service;
  const cfg = config();
  if (cfg.STORAGE_CONNECTION_STRING) {
    service = BlobServiceClient.fromConnectionString(cfg.STORAGE_CONNECTION_STRING);
  } else if (cfg.STORAGE_BLOB_SERVICE_URI) {
    service = new BlobServiceClient(cfg.STORAGE_BLOB_SERVICE_URI, azureCredential());
  } else {
    throw new Error('Blob Storage is not configured: set STORAGE_CONNECTION_STRING or STORAGE_BLOB_SERVICE_URI');
  }
  return service;
}

/** The data container (DATA_CONTAINER), created if missing on first use; a failure is retried next call. */
export function dataContainer(): Promise<ContainerClient> {
  container ??= (async () => {
    const client = blobServiceClient().getContainerClient(config().DATA_CONTAINER);
    await client.createIfNotExists();
    return client;
  })().catch((error: unknown) => {
    container = undefined;
    throw error;
  });
  return container;
}

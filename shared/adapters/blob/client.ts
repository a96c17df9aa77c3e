import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';

import { config } from '../../config';
import { azureCredential } from '../azure-credential';

let service: BlobServiceClient | undefined;
let container: Promise<ContainerClient> | undefined;

/**
 * A Blob service client for the configured account: the connection string locally (Azurite), the
 * service URI with managed identity on Azure. Without options it has the storage SDK's own retry
 * policy, which is what the app uses.
 */
export function createBlobServiceClient(options?: StoragePipelineOptions): BlobServiceClient {
  const cfg = config();
  if (cfg.STORAGE_CONNECTION_STRING) return BlobServiceClient.fromConnectionString(cfg.STORAGE_CONNECTION_STRING, options);
  if (cfg.STORAGE_BLOB_SERVICE_URI) return new BlobServiceClient(cfg.STORAGE_BLOB_SERVICE_URI, azureCredential(), options);
  throw new Error('Blob Storage is not configured: set STORAGE_CONNECTION_STRING or STORAGE_BLOB_SERVICE_URI');
}

/** The process's Blob service client, created on first use with the SDK's default pipeline. */
export function blobServiceClient(): BlobServiceClient {
  service ??= createBlobServiceClient();
  return service;
}

/** The data container (DATA_CONTAINER) of `service`, created if missing. */
export async function openDataContainer(service: BlobServiceClient): Promise<ContainerClient> {
  const client = service.getContainerClient(config().DATA_CONTAINER);
  await client.createIfNotExists();
  return client;
}

/** The data container of the process's client, opened on first use; a failure is retried next call. */
export function dataContainer(): Promise<ContainerClient> {
  container ??= openDataContainer(blobServiceClient()).catch((error: unknown) => {
    container = undefined;
    throw error;
  });
  return container;
}

import https from 'node:https';

import { type Container, CosmosClient } from '@azure/cosmos';

import { config } from '../../config';
import { COSMOS_RESOURCES } from '../../domain/resources';
import { azureCredential } from '../azure-credential';

/** Containers of the database (shared/resources.ts, which infra/data.bicep is checked against). */
export const COSMOS_CONTAINERS = COSMOS_RESOURCES.containers.map((c) => c.name);
export type CosmosContainerName = (typeof COSMOS_RESOURCES.containers)[number]['name'];
export type CosmosContainers = Record<CosmosContainerName, Container>;

let client: CosmosClient | undefined;
let containers: Promise<CosmosContainers> | undefined;

/**
 * The process's Cosmos client, created on first use: the account key (and, for the local server's
 * self-signed certificate, an agent that accepts it) when COSMOS_KEY is set, managed identity
 * otherwise. Endpoint discovery is off locally: the local server has no regional endpoints.
 */
export function cosmosClient(): CosmosClient {
  if (client) return client;
  const cfg = config();
  if (cfg.COSMOS_KEY) {
    client = new CosmosClient({
      endpoint: cfg.COSMOS_ENDPOINT,
      key: cfg.COSMOS_KEY,
      connectionPolicy: { enableEndpointDiscovery: false },
      ...(cfg.COSMOS_ALLOW_INSECURE_TLS ? { agent: new https.Agent({ rejectUnauthorized: false, keepAlive: true }) } : {}),
    });
  } else {
    client = new CosmosClient({ endpoint: cfg.COSMOS_ENDPOINT, aadCredentials: azureCredential() });
  }
  return client;
}

/** Disposes the shared client (shutdown, tests); the next use opens a new one. */
export function closeCosmos(): void {
  const closing = client;
  client = undefined;
  containers = undefined;
  closing?.dispose();
}

/**
 * The database and its containers, created if missing on first use (on Azure, infra creates them
 * and this only confirms they exist). A failed attempt is forgotten so the next call retries.
 */
export function cosmosContainers(): Promise<CosmosContainers> {
  containers ??= createContainers().catch((error: unknown) => {
    containers = undefined;
    throw error;
  });
  return containers;
}

async function createContainers(): Promise<CosmosContainers> {
  const { database } = await cosmosClient().databases.createIfNotExists({ id: config().COSMOS_DATABASE });
  const created = await Promise.all(
    COSMOS_RESOURCES.containers.map(async ({ name: id, partitionKey }) => {
      const { container } = await database.containers.createIfNotExists({ id, partitionKey: { paths: [partitionKey] } });
      return [id, container] as const;
    }),
  );
  return Object.fromEntries(created) as CosmosContainers;
}

/** The HTTP status of a Cosmos SDK error, if it carries one. */
export function cosmosStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

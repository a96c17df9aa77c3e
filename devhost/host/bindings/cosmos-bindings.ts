import { CosmosClient } from '@azure/cosmos';

import { localCosmosClient } from '../../services/cosmos-snapshot';
import type { Disposable, FunctionsWorker } from '../../worker';
import { stringOption } from '../host-storage';
import { connectionStringParts } from './connection-string';
import { resolveBindingExpression } from './expressions';

interface CosmosOutputBinding {
  connection?: string;
  databaseName?: string;
  containerName?: string;
  createIfNotExists?: boolean;
  partitionKey?: string;
}

const isLoopback = (endpoint: string) => /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?/i.test(endpoint);

/**
 * The endpoint and key a Cosmos binding's `connection` setting names: a connection string
 * (`AccountEndpoint=...;AccountKey=...;`) or `<name>__accountEndpoint`. One pointing at a local
 * emulator (localhost / 127.0.0.1) goes to devhost's Cosmos server (`COSMOS_ENDPOINT`, `COSMOS_KEY`).
 */
export function cosmosConnection(connection: string | undefined, env: NodeJS.ProcessEnv = process.env): { endpoint: string; key: string } {
  const name = stringOption(connection, 'Cosmos DB binding connection');
  const value = env[name];
  const parts = connectionStringParts(value ?? '');
  const endpoint = parts.accountendpoint ?? env[`${name}__accountEndpoint`];
  if (!endpoint) throw new Error(`Cosmos DB connection '${name}' is not set: put 'AccountEndpoint=...;AccountKey=...;' in local settings.`);
  if (isLoopback(endpoint) && env.COSMOS_ENDPOINT) return { endpoint: env.COSMOS_ENDPOINT, key: env.COSMOS_KEY ?? '' };
  if (!parts.accountkey) throw new Error(`Cosmos DB connection '${name}': identity-based connections only work on Azure; locally give AccountKey.`);
  return { endpoint, key: parts.accountkey };
}

/**
 * The Cosmos DB output binding (extension 4.x): each value (each element of an array) is upserted
 * into `databaseName`/`containerName` (`CosmosDBAsyncCollector` upserts); with `createIfNotExists`
 * the database and container are created first, the container partitioned on `partitionKey`
 * (default `/id`). A missing container without `createIfNotExists` fails the invocation.
 */
export function installCosmosBindings(worker: FunctionsWorker, options: { env?: NodeJS.ProcessEnv } = {}): Disposable {
  const env = options.env ?? process.env;
  const clients = new Map<string, CosmosClient>();
  const clientFor = (connection: string | undefined): CosmosClient => {
    const target = cosmosConnection(connection, env);
    let client = clients.get(target.endpoint);
    if (!client) {
      client = isLoopback(target.endpoint) ? localCosmosClient(target) : new CosmosClient(target);
      clients.set(target.endpoint, client);
    }
    return client;
  };
  const handler = worker.setOutputBindingHandler('cosmosDB', async ({ functionName, binding, value, bindingData }) => {
    const b = binding as CosmosOutputBinding;
    const resolve = (option: unknown, what: string) => resolveBindingExpression(stringOption(option, `${functionName}: ${what}`), bindingData, env);
    const client = clientFor(b.connection);
    const databaseId = resolve(b.databaseName, 'Cosmos DB output databaseName');
    const containerId = resolve(b.containerName, 'Cosmos DB output containerName');
    if (b.createIfNotExists) {
      const { database } = await client.databases.createIfNotExists({ id: databaseId });
      await database.containers.createIfNotExists({
        id: containerId,
        partitionKey: { paths: [b.partitionKey ? resolve(b.partitionKey, 'Cosmos DB output partitionKey') : '/id'] },
      });
    }
    const container = client.database(databaseId).container(containerId);
    for (const document of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (document === null || typeof document !== 'object' || Array.isArray(document)) {
        throw new Error(`${functionName}: a Cosmos DB output value must be a JSON object (or an array of them).`);
      }
      await container.items.upsert(document as Record<string, unknown>);
    }
  });
  return {
    dispose: () => {
      handler.dispose();
      for (const client of clients.values()) client.dispose();
      clients.clear();
    },
  };
}

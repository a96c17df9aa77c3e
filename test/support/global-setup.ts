import { startServiceBusBroker } from '../../devhost/servicebus/broker';
import { startAzurite } from '../../devhost/services/azurite';
import { startCosmos } from '../../devhost/services/cosmos';

/**
 * Starts the local services once for the integration and e2e projects, on free loopback ports so
 * that several checkouts can test at once, and hands their addresses to the test workers through
 * the environment (workers are forked after this runs and inherit it).
 */
export default async function globalSetup(): Promise<void> {
  const [azurite, cosmos, serviceBus] = await Promise.all([
    startAzurite(),
    startCosmos(),
    startServiceBusBroker(),
  ]);
  process.env.STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.COSMOS_ENDPOINT = cosmos.endpoint;
  process.env.COSMOS_KEY = cosmos.key;
  process.env.COSMOS_ALLOW_INSECURE_TLS = 'true';
  process.env.SERVICEBUS_CONNECTION_STRING = serviceBus.connectionString;
  (globalThis as Record<string, unknown>).__localServices = [azurite, cosmos, serviceBus];
}

import { ServiceBusClient, type ServiceBusSender } from '@azure/service-bus';

import { type AppConfig, config } from '../../config';
import { azureCredential } from '../azure-credential';

type ServiceBusSettings = Pick<
  AppConfig,
  'SERVICEBUS_CONNECTION_STRING' | 'SERVICEBUS_FULLY_QUALIFIED_NAMESPACE'
>;

/**
 * A client for the configured namespace: by connection string locally (the devhost broker), by
 * fully qualified namespace and DefaultAzureCredential (managed identity) on Azure.
 */
export function createServiceBusClient(settings: ServiceBusSettings): ServiceBusClient {
  if (settings.SERVICEBUS_CONNECTION_STRING)
    return new ServiceBusClient(settings.SERVICEBUS_CONNECTION_STRING);
  if (settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE) {
    return new ServiceBusClient(settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE, azureCredential());
  }
  throw new Error(
    'Service Bus is not configured: set SERVICEBUS_CONNECTION_STRING (local) or SERVICEBUS_FULLY_QUALIFIED_NAMESPACE (Azure)',
  );
}

let client: ServiceBusClient | undefined;
const senders = new Map<string, ServiceBusSender>();

/** The process's Service Bus client, created on first use from the app config. */
export function serviceBusClient(): ServiceBusClient {
  client ??= createServiceBusClient(config());
  return client;
}

/** One sender per queue or topic, created on first use and reused (links are costly to open). */
export function serviceBusSender(entity: string): ServiceBusSender {
  let sender = senders.get(entity);
  if (!sender) {
    sender = serviceBusClient().createSender(entity);
    senders.set(entity, sender);
  }
  return sender;
}

/** Closes the shared client and its senders (shutdown, tests). */
export async function closeServiceBus(): Promise<void> {
  const closing = client;
  client = undefined;
  senders.clear();
  await closing?.close();
}

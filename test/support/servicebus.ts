import { type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';

import type { BrokerConfigInput } from '../../devhost/servicebus/broker-config';

type QueueProperties = NonNullable<
  NonNullable<BrokerConfigInput['UserConfig']['Namespaces'][number]['Queues']>[number]['Properties']
>;
type Topic = NonNullable<BrokerConfigInput['UserConfig']['Namespaces'][number]['Topics']>[number];

/** A broker config with the given queues (name -> properties) and topics (Standard tier unless told). */
export function brokerConfig(
  queues: Record<string, QueueProperties>,
  topics: Topic[] = [],
  tier: 'Standard' | 'Premium' = 'Standard',
): BrokerConfigInput {
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: 'test',
          Tier: tier,
          Queues: Object.entries(queues).map(([Name, Properties]) => ({ Name, Properties })),
          Topics: topics,
        },
      ],
    },
  };
}

/** Receives until `count` messages arrived or `timeoutMs` passed (receiveMessages may return early). */
export async function receiveAtLeast(
  receiver: ServiceBusReceiver,
  count: number,
  timeoutMs = 5000,
): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const batch = await receiver.receiveMessages(count - got.length, {
      maxWaitTimeInMs: Math.max(50, Math.min(1000, deadline - Date.now())),
    });
    got.push(...batch);
  }
  return got;
}

/** Everything receivable now through `receiver` (waits `quietMs` for stragglers). */
export async function receiveAll(
  receiver: ServiceBusReceiver,
  quietMs = 500,
): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  for (;;) {
    const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: quietMs });
    if (batch.length === 0) return got;
    got.push(...batch);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

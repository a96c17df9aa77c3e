import type { ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender } from '@azure/service-bus';

/**
 * A Service Bus sender for unit tests: it records every message it is given (single, array or
 * batch), or fails every send as a broker that is down would.
 */
export function recordingSender(entityPath: string, options: { fail?: boolean } = {}): { sender: ServiceBusSender; sent: ServiceBusMessage[] } {
  const sent: ServiceBusMessage[] = [];
  const batch = (): ServiceBusMessageBatch => {
    const messages: ServiceBusMessage[] = [];
    return { get count() { return messages.length; }, tryAddMessage: (m: ServiceBusMessage) => (messages.push(m), true), messages } as unknown as ServiceBusMessageBatch;
  };
  const sender = {
    entityPath,
    sendMessages: (m: ServiceBusMessage | ServiceBusMessage[] | ServiceBusMessageBatch) => {
      if (options.fail) return Promise.reject(new Error('broker down'));
      const batched = (m as unknown as { messages?: ServiceBusMessage[] }).messages;
      sent.push(...(batched ?? (Array.isArray(m) ? m : [m as ServiceBusMessage])));
      return Promise.resolve();
    },
    createMessageBatch: () => Promise.resolve(batch()),
  };
  return { sender: sender as unknown as ServiceBusSender, sent };
}

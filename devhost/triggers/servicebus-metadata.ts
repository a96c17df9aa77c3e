import type { ServiceBusReceivedMessage } from '@azure/service-bus';

import { traceparentSchema } from '../../shared/schemas/common';

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

/**
 * Trigger metadata as the Service Bus extension (5.x) gives it to out-of-process workers; the
 * @azure/functions library camel-cases the keys (`messageId`, `deliveryCount`, ...). The
 * extension uses the .NET SDK, whose delivery count starts at 1, so the JS SDK's count (which
 * starts at 0) is shifted.
 */
export function messageMetadata(message: ServiceBusReceivedMessage): Record<string, unknown> {
  const properties = message.applicationProperties ?? {};
  const entries: Record<string, unknown> = {
    MessageId: message.messageId === undefined ? undefined : String(message.messageId),
    DeliveryCount: (message.deliveryCount ?? 0) + 1,
    EnqueuedTimeUtc: iso(message.enqueuedTimeUtc),
    ExpiresAtUtc: iso(message.expiresAtUtc),
    LockedUntilUtc: iso(message.lockedUntilUtc),
    LockToken: message.lockToken,
    SequenceNumber: message.sequenceNumber?.toNumber(),
    ContentType: message.contentType,
    CorrelationId: message.correlationId === undefined ? undefined : String(message.correlationId),
    Subject: message.subject,
    Label: message.subject,
    To: message.to,
    ReplyTo: message.replyTo,
    SessionId: message.sessionId,
    ReplyToSessionId: message.replyToSessionId,
    PartitionKey: message.partitionKey,
    DeadLetterSource: message.deadLetterSource,
    ApplicationProperties: properties,
    UserProperties: properties,
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

/** Batch metadata: each key as an `...Array` of the per-message values, as the extension does. */
export function batchMetadata(messages: ServiceBusReceivedMessage[]): Record<string, unknown> {
  const perMessage = messages.map(messageMetadata);
  const keys = new Set(perMessage.flatMap((m) => Object.keys(m)));
  return Object.fromEntries([...keys].map((k) => [`${k}Array`, perMessage.map((m) => m[k] ?? null)]));
}

/**
 * The trace context a message carries, as the Service Bus extension reads it for the invocation:
 * the `Diagnostic-Id` application property (what the Azure SDKs set), else `traceparent`, when it
 * is a valid W3C traceparent. Undefined otherwise: the invocation then starts a trace of its own.
 */
export function messageTraceParent(message: Pick<ServiceBusReceivedMessage, 'applicationProperties'>): string | undefined {
  const properties = message.applicationProperties ?? {};
  for (const key of ['Diagnostic-Id', 'traceparent']) {
    const parsed = traceparentSchema.safeParse(properties[key]);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

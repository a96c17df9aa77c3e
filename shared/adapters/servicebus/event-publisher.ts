import type { ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';

import { config } from '../../config';
import { errors, parseOrThrow } from '../../domain/errors';
import type { EventPublisher } from '../../ports/event-publisher';
import { type ModelEvent, type ModelEventInput, modelEventSchema } from '../../schemas/messages';
import { endingSpans, type TracedSend, tracedSend } from '../telemetry/messaging';
import { countPublished } from '../telemetry/metrics';
import { serviceBusSender } from './client';

const parseEvent = (input: ModelEventInput): ModelEvent => parseOrThrow(modelEventSchema, input, 'model event');

/** The message of an event, with the span of its send (its traceparent rides in the application properties). */
function toMessage(event: ModelEvent, topic: string): { message: ServiceBusMessage; send: TracedSend } {
  const send = tracedSend(topic, event.type, { 'messaging.message.id': event.eventId, 'mlops.model': event.model });
  const message: ServiceBusMessage = {
    messageId: event.eventId,
    body: event,
    contentType: 'application/json',
    subject: event.type,
    correlationId: event.correlationId,
    applicationProperties: {
      type: event.type,
      model: event.model,
      ...(event.version !== undefined ? { version: event.version } : {}),
      ...send.properties,
    },
  };
  return { message, send };
}

const tooLarge = (message: ServiceBusMessage, maxBytes: number) =>
  errors.validation(`event ${String(message.messageId)} (${String(message.subject)}) is too large for one Service Bus message (${maxBytes} bytes)`, {
    eventId: message.messageId,
    maxBytes,
  });

/**
 * EventPublisher on a Service Bus topic: the event type is the subject (subscriptions filter on
 * it), the event id is the message id, and several events go out in as few batches as fit.
 */
export class ServiceBusEventPublisher implements EventPublisher {
  constructor(private readonly sender: ServiceBusSender) {}

  async publish(event: ModelEventInput): Promise<void> {
    const parsed = parseEvent(event);
    const { message, send } = toMessage(parsed, this.sender.entityPath);
    // Through a batch, as publishAll: an event too large for a message is refused as such, not
    // sent for the broker to refuse with an error that looks transient and is retried in vain.
    await endingSpans([send], () => this.#sendBatches([message]));
    countPublished(parsed);
  }

  async publishAll(events: ModelEventInput[]): Promise<void> {
    // Validate everything first so that a bad event sends nothing.
    const parsed = events.map(parseEvent);
    const prepared = parsed.map((event) => toMessage(event, this.sender.entityPath));
    await endingSpans(prepared.map((p) => p.send), () => this.#sendBatches(prepared.map((p) => p.message)));
    parsed.forEach(countPublished);
  }

  async #sendBatches(messages: ServiceBusMessage[]): Promise<void> {
    let batch = await this.sender.createMessageBatch();
    for (const message of messages) {
      if (batch.tryAddMessage(message)) continue;
      if (batch.count === 0) throw tooLarge(message, batch.maxSizeInBytes);
      await this.sender.sendMessages(batch);
      batch = await this.sender.createMessageBatch();
      if (!batch.tryAddMessage(message)) throw tooLarge(message, batch.maxSizeInBytes);
    }
    if (batch.count > 0) await this.sender.sendMessages(batch);
  }
}

/** The app's event publisher (EVENTS_TOPIC on the configured namespace). */
export function eventPublisher(): EventPublisher {
  return new ServiceBusEventPublisher(serviceBusSender(config().EVENTS_TOPIC));
}

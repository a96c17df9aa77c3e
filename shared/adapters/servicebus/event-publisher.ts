import type { ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';

import { config } from '../../config';
import { errors, parseOrThrow } from '../../domain/errors';
import type { EventPublisher } from '../../ports/event-publisher';
import { type ModelEvent, type ModelEventInput, modelEventSchema } from '../../schemas/messages';
import { serviceBusSender } from './client';

function toMessage(input: ModelEventInput): ServiceBusMessage {
  const event: ModelEvent = parseOrThrow(modelEventSchema, input, 'model event');
  return {
    messageId: event.eventId,
    body: event,
    contentType: 'application/json',
    subject: event.type,
    correlationId: event.correlationId,
    applicationProperties: {
      type: event.type,
      model: event.model,
      ...(event.version !== undefined ? { version: event.version } : {}),
    },
  };
}

/**
 * EventPublisher on a Service Bus topic: the event type is the subject (subscriptions filter on
 * it), the event id is the message id, and several events go out in as few batches as fit.
 */
export class ServiceBusEventPublisher implements EventPublisher {
  constructor(private readonly sender: ServiceBusSender) {}

  async publish(event: ModelEventInput): Promise<void> {
    await this.sender.sendMessages(toMessage(event));
  }

  async publishAll(events: ModelEventInput[]): Promise<void> {
    // Validate everything first so that a bad event sends nothing.
    const messages = events.map(toMessage);
    let batch = await this.sender.createMessageBatch();
    for (const message of messages) {
      if (batch.tryAddMessage(message)) continue;
      if (batch.count === 0) throw errors.validation('event too large for one Service Bus message');
      await this.sender.sendMessages(batch);
      batch = await this.sender.createMessageBatch();
      if (!batch.tryAddMessage(message))
        throw errors.validation('event too large for one Service Bus message');
    }
    if (batch.count > 0) await this.sender.sendMessages(batch);
  }
}

/** The app's event publisher (EVENTS_TOPIC on the configured namespace). */
export function eventPublisher(): EventPublisher {
  return new ServiceBusEventPublisher(serviceBusSender(config().EVENTS_TOPIC));
}

import type { ModelEventInput } from '../schemas/messages';

/**
 * Publishes lifecycle, drift and run events (Service Bus topic `model-events`). The event type is
 * the message subject so that subscriptions can filter on it; events are validated first
 * (VALIDATION_ERROR otherwise, also for one too large for a message) and deduplicated by `eventId`.
 */
export interface EventPublisher {
  publish(event: ModelEventInput): Promise<void>;
  publishAll(events: ModelEventInput[]): Promise<void>;
}

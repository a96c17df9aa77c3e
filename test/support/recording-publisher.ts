import { parseOrThrow } from '../../shared/domain/errors';
import type { EventPublisher } from '../../shared/ports/event-publisher';
import { type ModelEvent, type ModelEventInput, modelEventSchema } from '../../shared/schemas/messages';

/**
 * An EventPublisher that keeps what it was given, validated as the Service Bus adapter validates
 * it, and drops a repeated event id as the topic's duplicate detection does. `failNext` makes the
 * next publish throw (a broker that is down).
 */
export class RecordingPublisher implements EventPublisher {
  readonly events: ModelEvent[] = [];
  /** Every publish call, duplicates included. */
  attempts = 0;
  failNext = false;

  async publish(input: ModelEventInput): Promise<void> {
    this.attempts += 1;
    const event = parseOrThrow(modelEventSchema, input, 'model event');
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the broker is unreachable');
    }
    if (!this.events.some((e) => e.eventId === event.eventId)) this.events.push(event);
  }

  async publishAll(inputs: ModelEventInput[]): Promise<void> {
    for (const input of inputs) await this.publish(input);
  }

  ofType<T extends ModelEvent['type']>(type: T): Extract<ModelEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ModelEvent, { type: T }> => e.type === type);
  }
}

import { config } from '../../config';
import type { DependencyProbe } from '../../ports/health';
import { serviceBusSender } from './client';

/** Service Bus answers: a sender link to the events topic opens (authorised) and can size a batch. */
export const serviceBusProbe: DependencyProbe = {
  name: 'servicebus',
  async check() {
    await serviceBusSender(config().EVENTS_TOPIC).createMessageBatch();
  },
};

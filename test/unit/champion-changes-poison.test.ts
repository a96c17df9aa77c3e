/**
 * `resumeWaitingRuns` fed a message that can never be handled (not a model event), invoked through
 * devhost's worker as the host invokes it: each delivery fails and is logged with the message id,
 * its number and the schema's reason; the last one (the subscription's MaxDeliveryCount) says it
 * goes to the dead-letter queue, where the broker's own reason is the generic MaxDeliveryCountExceeded.
 */
import type { ServiceBusReceivedMessage } from '@azure/service-bus';

import { messageMetadata } from '../../devhost/triggers/servicebus-metadata';
import { defaultWorker } from '../../devhost/worker';
import { SERVICEBUS_RESOURCES } from '../../shared/domain/resources';

const worker = defaultWorker();
const lines: Array<{ level: string; message: string }> = [];
const saved = { ...process.env };

beforeAll(() => {
  worker.setLogSink((e) => lines.push({ level: e.level, message: e.message }));
  Object.assign(process.env, { STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', EVENTS_TOPIC: 'model-events' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../functions/servicebus/champion-changes');
});
afterAll(() => {
  process.env = saved;
});
beforeEach(() => lines.splice(0));

const MAX_DELIVERIES = SERVICEBUS_RESOURCES.topics[0].subscriptions.find((s) => s.name === 'champion-changes')!.maxDeliveryCount;

/** The delivery numbered `delivery` (1 = the first) of a message whose body is `body`. */
function deliver(body: unknown, delivery: number) {
  const message = { body, messageId: 'garbled-1', deliveryCount: delivery - 1, enqueuedTimeUtc: new Date() } as unknown as ServiceBusReceivedMessage;
  return worker.invoke('resumeWaitingRuns', { triggerValue: body, triggerMetadata: messageMetadata(message), extraInputs: { starter: null }, quiet: true });
}

const handlerErrors = () => lines.filter((l) => l.level === 'error' && l.message.startsWith('resumeWaitingRuns:')).map((l) => l.message);

describe('resumeWaitingRuns with a message that is not a model event', () => {
  it('when it is delivered, then the delivery fails and the log names the message, the schema problem and that every delivery will fail until it is dead-lettered', async () => {
    await expect(deliver({ type: 'champion.changed', model: 'churn' }, 1)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });

    expect(handlerErrors()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^resumeWaitingRuns: message garbled-1, delivery 1, failed, and every delivery will \\(it is not a model event\\): it goes to the dead-letter queue after delivery ${MAX_DELIVERIES}: VALIDATION_ERROR: invalid model event:\\n.*eventId`,
          's',
        ),
      ),
    ]);
  });

  it("when it is delivered for the subscription's last time, then the log says it goes to the dead-letter queue, with the reason", async () => {
    await expect(deliver('not even an object', MAX_DELIVERIES)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });

    expect(handlerErrors()).toEqual([
      expect.stringMatching(new RegExp(`^resumeWaitingRuns: message garbled-1, delivery ${MAX_DELIVERIES}, failed for the last time: it goes to the dead-letter queue: VALIDATION_ERROR: invalid model event`)),
    ]);
  });

  it('when a model event of another type arrives, then it is completed without a failure logged', async () => {
    const event = { eventId: 'e1', model: 'churn', version: 2, occurredAt: '2026-06-02T00:00:00Z', type: 'lifecycle.changed', data: { from: 'approved', to: 'production' } };
    await deliver(event, 1);
    expect(handlerErrors()).toEqual([]);
  });
});

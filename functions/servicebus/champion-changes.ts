import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { recordQueueAge } from '../../shared/adapters/telemetry/metrics';
import { batch } from '../../shared/composition';
import { config } from '../../shared/config';
import { parseOrThrow } from '../../shared/domain/errors';
import { SERVICEBUS_RESOURCES } from '../../shared/domain/resources';
import { type ModelEvent, modelEventSchema } from '../../shared/schemas/messages';
import { resumeWaitingRuns } from '../../shared/usecases/batch-inference';
import { wakeBatchRun } from '../durable-client';
import { deliveryOf, logFailedDelivery } from './failed-delivery';

/**
 * The model's champion changed (`champion.changed` on the events topic, subscription
 * `champion-changes`): runs that were waiting for a champion are woken to score their drops. Each
 * run is woken on its own: a run whose instance is gone is logged and skipped; when some could not
 * be told (an outage) the handling throws after trying all of them, so the message is delivered
 * again (waking a run twice is harmless: it reads the champion itself). Every failed delivery is
 * logged with the message id, its number and the reason (failed-delivery.ts): the broker
 * dead-letters the message after the subscription's MaxDeliveryCount with a generic reason.
 */
app.serviceBusTopic('resumeWaitingRuns', {
  topicName: '%EVENTS_TOPIC%',
  subscriptionName: 'champion-changes',
  connection: 'ServiceBusConnection',
  extraInputs: [df.input.durableClient()],
  handler: async (message: unknown, context: InvocationContext): Promise<void> => {
    recordQueueAge(`${config().EVENTS_TOPIC}/champion-changes`, context.triggerMetadata?.enqueuedTimeUtc);
    const failed = (error: unknown, never?: string) =>
      logFailedDelivery(context, { handler: 'resumeWaitingRuns', delivery: deliveryOf(context), maxDeliveryCount: CHAMPION_CHANGES.maxDeliveryCount, error, ...(never ? { never } : {}) });
    let event: ModelEvent;
    try {
      event = parseOrThrow(modelEventSchema, message, 'model event');
    } catch (error) {
      // A body that is not a model event fails every delivery alike.
      failed(error, 'it is not a model event');
      throw error;
    }
    try {
      await wakeWaitingRuns(event, context);
    } catch (error) {
      failed(error);
      throw error;
    }
  },
});

/** The subscription as deployed: its MaxDeliveryCount is the delivery after which the broker dead-letters a message. */
const CHAMPION_CHANGES = SERVICEBUS_RESOURCES.topics[0].subscriptions.find((s) => s.name === 'champion-changes')!;

async function wakeWaitingRuns(event: ModelEvent, context: InvocationContext): Promise<void> {
  if (event.type !== 'champion.changed' || event.data.to === null) return;
  const champion = event.data.to;
  const client = df.getClient(context);
  const report = await resumeWaitingRuns(batch(), event.model, (runId) => wakeBatchRun(client, event.model, runId, champion));
  for (const runId of report.woken) context.log(`resumeWaitingRuns: run ${runId} of ${event.model} resumes with v${champion}`);
  for (const runId of report.missing) {
    context.warn(`resumeWaitingRuns: run ${runId} of ${event.model} waits for a champion but has no running orchestration instance (purged, or it ended: reconcileOrchestrations fails the run): nothing to wake, skipped`);
  }
  // Not retried: a document that does not read stays so until someone repairs it.
  for (const { runId, reason } of report.unreadable) {
    context.warn(`resumeWaitingRuns: run ${runId} of ${event.model} cannot be read, so it is not woken if it waits: ${reason}`);
  }
  if (report.failed.length > 0) {
    const reasons = report.failed.map((f) => `${f.runId}: ${f.error}`).join('; ');
    throw new Error(`resumeWaitingRuns: ${report.failed.length} run(s) of ${event.model} could not be woken, to be retried: ${reasons}`);
  }
}

import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { batchInstanceId, CHAMPION_CHANGED_EVENT } from '../../orchestrations/batch/names';
import { recordQueueAge } from '../../shared/adapters/telemetry/metrics';
import { batch } from '../../shared/composition';
import { config } from '../../shared/config';
import { parseOrThrow } from '../../shared/domain/errors';
import { modelEventSchema } from '../../shared/schemas/messages';
import { waitingRuns } from '../../shared/usecases/batch-inference';

/**
 * The model's champion changed (`champion.changed` on the events topic, subscription
 * `champion-changes`): runs that were waiting for a champion are woken to score their drops.
 */
app.serviceBusTopic('resumeWaitingRuns', {
  topicName: '%EVENTS_TOPIC%',
  subscriptionName: 'champion-changes',
  connection: 'ServiceBusConnection',
  extraInputs: [df.input.durableClient()],
  handler: async (message: unknown, context: InvocationContext): Promise<void> => {
    recordQueueAge(`${config().EVENTS_TOPIC}/champion-changes`, context.triggerMetadata?.enqueuedTimeUtc);
    const event = parseOrThrow(modelEventSchema, message, 'model event');
    if (event.type !== 'champion.changed' || event.data.to === null) return;
    const client = df.getClient(context);
    for (const run of await waitingRuns(batch(), event.model)) {
      await client.raiseEvent(batchInstanceId(event.model, run.runId), CHAMPION_CHANGED_EVENT, { champion: event.data.to });
      context.log(`resumeWaitingRuns: run ${run.runId} of ${event.model} resumes with v${event.data.to}`);
    }
  },
});

import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { recordQueueAge } from '../../shared/adapters/telemetry/metrics';
import { retraining } from '../../shared/composition';
import { config } from '../../shared/config';
import { handleRetrainingMessage, type RetrainingStarters } from '../../shared/usecases/retraining';
import { ensureLifecycleStarted } from '../durable-client';
import { ensureRetrainingStarted, retrainingEnded } from '../retraining-client';
import { deliveryOf, logFailedDelivery } from './failed-delivery';

/**
 * `retraining-requests` (RETRAINING_QUEUE): each request goes to its model's trainer and becomes a
 * new version in modelLifecycle. A failed handling is thrown: the host abandons the message,
 * Service Bus delivers it again and dead-letters it after MaxDeliveryCount deliveries; the reason
 * is on the request's record and in this log. The Node.js programming model cannot dead-letter a
 * message from the handler itself.
 */
app.serviceBusQueue('retraining', {
  queueName: '%RETRAINING_QUEUE%',
  connection: 'ServiceBusConnection',
  extraInputs: [df.input.durableClient()],
  handler: async (message: unknown, context: InvocationContext): Promise<void> => {
    const client = df.getClient(context);
    const starters: RetrainingStarters = {
      startLifecycle: async (model, version, requestId) => {
        await ensureLifecycleStarted(client, { model, version, reason: 'registered', correlationId: requestId });
      },
      startWebhookRetraining: async (input) => {
        await ensureRetrainingStarted(client, input);
      },
      webhookRetrainingEnded: (requestId) => retrainingEnded(client, requestId),
    };
    recordQueueAge(config().RETRAINING_QUEUE, context.triggerMetadata?.enqueuedTimeUtc);
    const delivery = deliveryOf(context);
    const deps = retraining();
    try {
      const outcome = await handleRetrainingMessage(deps, starters, { body: message, ...delivery });
      context.log(`retraining: ${outcome.requestId}: ${outcome.note} (${outcome.state})`);
    } catch (error) {
      logFailedDelivery(context, { handler: 'retraining', delivery, maxDeliveryCount: deps.maxDeliveryCount, error });
      throw error;
    }
  },
});

import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { recordQueueAge } from '../../shared/adapters/telemetry/metrics';
import { retraining } from '../../shared/composition';
import { config } from '../../shared/config';
import { isDomainError } from '../../shared/domain/errors';
import { handleRetrainingMessage, type RetrainingStarters } from '../../shared/usecases/retraining';
import { ensureLifecycleStarted } from '../durable-client';
import { ensureRetrainingStarted, retrainingEnded } from '../retraining-client';

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
    const metadata = context.triggerMetadata ?? {};
    recordQueueAge(config().RETRAINING_QUEUE, metadata.enqueuedTimeUtc);
    const messageId = typeof metadata.messageId === 'string' ? metadata.messageId : undefined;
    const deliveryCount = Number(metadata.deliveryCount ?? 1);
    const deps = retraining();
    try {
      const outcome = await handleRetrainingMessage(deps, starters, { body: message, messageId, deliveryCount });
      context.log(`retraining: ${outcome.requestId}: ${outcome.note} (${outcome.state})`);
    } catch (error) {
      const reason = isDomainError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
      const last = deliveryCount >= deps.maxDeliveryCount;
      context.error(`retraining: message ${messageId ?? '(no id)'}, delivery ${deliveryCount}, failed${last ? ' for the last time: it goes to the dead-letter queue' : ''}: ${reason}`);
      throw error;
    }
  },
});

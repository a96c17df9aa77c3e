import type { ServiceBusSender } from '@azure/service-bus';

import { config } from '../../config';
import { parseOrThrow } from '../../domain/errors';
import { isoDurationMs } from '../../domain/policies/duration';
import type { RetrainingEnqueueResult, RetrainingQueue } from '../../ports/retraining-queue';
import {
  retrainingDeduplicationKey,
  type RetrainingRequestInput,
  retrainingRequestSchema,
} from '../../schemas/messages';
import { endingSpans, tracedSend } from '../telemetry/messaging';
import { serviceBusSender } from './client';

/** Subject of every retraining request message. */
export const RETRAINING_REQUEST_SUBJECT = 'retraining.requested';

/**
 * RetrainingQueue on a Service Bus queue: one JSON message per request, the deduplication key as
 * message id (the queue's duplicate detection drops repeats), and model, version, reason and window
 * as application properties so that operators and filters can see them without the body. Each send
 * is a producer span whose traceparent rides in the properties (`traceparent`, `Diagnostic-Id`): the
 * retraining trigger continues the trace of the drift monitor run that asked for it.
 */
export class ServiceBusRetrainingQueue implements RetrainingQueue {
  /**
   * `timeToLiveMs`: how long a message waits for the retraining trigger (RETRAINING_QUEUED_TIMEOUT).
   * Past it the queue dead-letters it (TTLExpiredException): the drift monitor presumes a request
   * queued that long lost and raises another, so the old message must not start it over later.
   */
  constructor(
    private readonly sender: ServiceBusSender,
    private readonly timeToLiveMs?: number,
  ) {}

  async enqueue(input: RetrainingRequestInput): Promise<RetrainingEnqueueResult> {
    const request = parseOrThrow(retrainingRequestSchema, input, 'retraining request');
    const messageId = retrainingDeduplicationKey(request);
    const send = tracedSend(this.sender.entityPath, RETRAINING_REQUEST_SUBJECT, { 'messaging.message.id': messageId, 'mlops.model': request.model });
    await endingSpans([send], () =>
      this.sender.sendMessages({
        messageId,
        body: request,
        contentType: 'application/json',
        subject: RETRAINING_REQUEST_SUBJECT,
        correlationId: request.correlationId,
        ...(this.timeToLiveMs === undefined ? {} : { timeToLive: this.timeToLiveMs }),
        applicationProperties: {
          model: request.model,
          version: request.version,
          reason: request.reason,
          window: request.window.id,
          ...send.properties,
        },
      }),
    );
    return { messageId };
  }
}

/** The app's retraining queue (RETRAINING_QUEUE on the configured namespace), messages living RETRAINING_QUEUED_TIMEOUT. */
export function retrainingQueue(): RetrainingQueue {
  const { RETRAINING_QUEUE, RETRAINING_QUEUED_TIMEOUT } = config();
  return new ServiceBusRetrainingQueue(serviceBusSender(RETRAINING_QUEUE), isoDurationMs(RETRAINING_QUEUED_TIMEOUT));
}

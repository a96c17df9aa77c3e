import type { RetrainingRequestInput } from '../schemas/messages';

/** What the queue did with a request. */
export interface RetrainingEnqueueResult {
  /** The deduplication key used as message id (`retrain:{model}:{windowId}`). */
  messageId: string;
}

/**
 * The queue of retraining requests (Service Bus queue `retraining-requests` with duplicate
 * detection). A request is validated before it is sent (VALIDATION_ERROR otherwise); sending the
 * same model and window again inside the detection window has no further effect.
 */
export interface RetrainingQueue {
  enqueue(request: RetrainingRequestInput): Promise<RetrainingEnqueueResult>;
}

import { parseOrThrow } from '../../shared/domain/errors';
import type { RetrainingEnqueueResult, RetrainingQueue } from '../../shared/ports/retraining-queue';
import {
  retrainingDeduplicationKey,
  type RetrainingRequest,
  type RetrainingRequestInput,
  retrainingRequestSchema,
} from '../../shared/schemas/messages';

/**
 * A RetrainingQueue that keeps what it was sent, validated as the Service Bus adapter validates
 * it, and drops a repeated message id as the queue's duplicate detection does. `failNext` makes
 * the next send throw (a broker that is down).
 */
export class RecordingRetrainingQueue implements RetrainingQueue {
  readonly messages: Array<{ messageId: string; body: RetrainingRequest }> = [];
  /** Every send, duplicates included. */
  sends = 0;
  failNext = false;

  async enqueue(input: RetrainingRequestInput): Promise<RetrainingEnqueueResult> {
    this.sends += 1;
    const body = parseOrThrow(retrainingRequestSchema, input, 'retraining request');
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the broker is unreachable');
    }
    const messageId = retrainingDeduplicationKey(body);
    if (!this.messages.some((m) => m.messageId === messageId)) this.messages.push({ messageId, body });
    return { messageId };
  }
}

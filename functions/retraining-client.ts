import type * as df from 'durable-functions';

import { retrainingInstanceId, WEBHOOK_RETRAINING } from '../orchestrations/retraining/names';
import { RETRAINING_COMPLETE_EVENT, type RetrainingCompletion, type RetrainingInput } from '../shared/schemas/retraining';
import { instanceEnded, instanceStatus, startOnce } from './durable-client';

/** The request's `webhookRetraining` instance, or undefined if it was never started. */
export const retrainingStatus = (client: df.DurableClient, requestId: string) => instanceStatus(client, retrainingInstanceId(requestId));

/** Starts the request's webhook retraining unless its instance exists (a redelivered message). */
export const ensureRetrainingStarted = (client: df.DurableClient, input: RetrainingInput): Promise<boolean> =>
  startOnce(client, WEBHOOK_RETRAINING, retrainingInstanceId(input.requestId), input);

/** Whether the request's webhook retraining ran and ended (it is never started again). */
export const retrainingEnded = (client: df.DurableClient, requestId: string) => instanceEnded(client, retrainingInstanceId(requestId));

/** Hands the pipeline's report to the waiting instance. */
export async function reportRetrainingCompletion(client: df.DurableClient, requestId: string, completion: RetrainingCompletion): Promise<void> {
  await client.raiseEvent(retrainingInstanceId(requestId), RETRAINING_COMPLETE_EVENT, completion);
}

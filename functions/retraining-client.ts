import type * as df from 'durable-functions';

import { retrainingInstanceId,WEBHOOK_RETRAINING } from '../orchestrations/retraining/names';
import { RETRAINING_COMPLETE_EVENT, type RetrainingCompletion, type RetrainingInput } from '../shared/schemas/retraining';

/** The SDK reports a missing instance as an error whose message names HTTP 404. */
const isMissing = (error: unknown) => error instanceof Error && /HTTP 404|No instance with ID/.test(error.message);

/** The request's `retraining` instance, or undefined if it was never started. */
export async function retrainingStatus(client: df.DurableClient, requestId: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(retrainingInstanceId(requestId));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Starts the request's webhook retraining unless its instance exists (a redelivered message). */
export async function ensureRetrainingStarted(client: df.DurableClient, input: RetrainingInput): Promise<boolean> {
  if (await retrainingStatus(client, input.requestId)) return false;
  try {
    await client.startNew(WEBHOOK_RETRAINING, { instanceId: retrainingInstanceId(input.requestId), input });
    return true;
  } catch (error) {
    if (await retrainingStatus(client, input.requestId)) return false;
    throw error;
  }
}

/** Hands the pipeline's report to the waiting instance. */
export async function reportRetrainingCompletion(client: df.DurableClient, requestId: string, completion: RetrainingCompletion): Promise<void> {
  await client.raiseEvent(retrainingInstanceId(requestId), RETRAINING_COMPLETE_EVENT, completion);
}

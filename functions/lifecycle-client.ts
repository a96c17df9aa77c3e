import type * as df from 'durable-functions';

import { lifecycleInstanceId, MODEL_LIFECYCLE } from '../orchestrations/lifecycle/names';
import { APPROVAL_EVENT, type ApprovalEvent, type LifecycleInput, type VersionRef } from '../shared/schemas/lifecycle-orchestration';

/** The SDK reports a missing instance as an error whose message names HTTP 404. */
const isMissing = (error: unknown) => error instanceof Error && /HTTP 404|No instance with ID/.test(error.message);

/** The version's lifecycle instance, or undefined if it was never started. */
export async function lifecycleStatus(client: df.DurableClient, ref: VersionRef): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(lifecycleInstanceId(ref.model, ref.version));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Starts the version's lifecycle unless an instance exists (running or finished: a finished one
 * is not restarted, which would replace its history). Returns whether this call started it.
 */
export async function ensureLifecycleStarted(client: df.DurableClient, input: LifecycleInput): Promise<boolean> {
  if (await lifecycleStatus(client, input)) return false;
  const instanceId = lifecycleInstanceId(input.model, input.version);
  try {
    await client.startNew(MODEL_LIFECYCLE, { instanceId, input });
    return true;
  } catch (error) {
    // A concurrent registration of the same package started it first.
    if (await lifecycleStatus(client, input)) return false;
    throw error;
  }
}

/** Wakes the lifecycle after a person decided on its version; false when there is no instance to tell. */
export async function notifyLifecycle(client: df.DurableClient, ref: VersionRef, event: ApprovalEvent): Promise<boolean> {
  try {
    await client.raiseEvent(lifecycleInstanceId(ref.model, ref.version), APPROVAL_EVENT, event);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

import type * as df from 'durable-functions';

/** The SDK reports a missing instance as an error whose message names HTTP 404. */
const isMissing = (error: unknown) => error instanceof Error && /HTTP 404|No instance with ID/.test(error.message);

/** An orchestration instance's status, or undefined if it was never started. */
export async function instanceStatus(client: df.DurableClient, instanceId: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Starts an orchestration under a business-key instance id unless that instance exists (running
 * or finished: a finished one is not restarted, which would replace its history). Returns
 * whether this call started it; a concurrent start of the same id counts as already started.
 */
export async function startOnce(client: df.DurableClient, name: string, instanceId: string, input: unknown): Promise<boolean> {
  if (await instanceStatus(client, instanceId)) return false;
  try {
    await client.startNew(name, { instanceId, input });
    return true;
  } catch (error) {
    if (await instanceStatus(client, instanceId)) return false;
    throw error;
  }
}

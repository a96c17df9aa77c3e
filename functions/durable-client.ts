import type * as df from 'durable-functions';
import { z } from 'zod';

import { batchInstanceId, CHAMPION_CHANGED_EVENT } from '../orchestrations/batch/names';
import { lifecycleInstanceId, MODEL_LIFECYCLE } from '../orchestrations/lifecycle/names';
import { traceFields } from '../shared/adapters/telemetry/invocation';
import { parseOrThrow } from '../shared/domain/errors';
import { hasEndedStatus } from '../shared/domain/policies/orchestration-outcome';
import type { LifecycleDeadline, OrchestrationInstances } from '../shared/ports/orchestration-instances';
import { isoDateTimeSchema } from '../shared/schemas/common';
import { APPROVAL_EVENT, type ApprovalEvent, type LifecycleInput, type VersionRef } from '../shared/schemas/lifecycle-orchestration';

/** The SDK reports a missing instance as an error whose message names HTTP 404. */
const isMissing = (error: unknown) => error instanceof Error && /HTTP 404|No instance with ID/.test(error.message);

/** An instance's status, or undefined if it was never started. */
export async function instanceStatus(client: df.DurableClient, instanceId: string): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** What reconciliation reads of a status: the SDK builds the time from the host's text, so an unreadable one is an invalid date. */
const instanceStatusSchema = z.object({ runtimeStatus: z.string().min(1), lastUpdatedTime: z.date().refine((d) => !Number.isNaN(d.getTime()), 'a valid time') });

/** The Durable client as the OrchestrationInstances port: a status, or undefined for an instance that does not exist (HTTP 404). */
export function orchestrationInstances(client: df.DurableClient): OrchestrationInstances {
  return {
    async status(instanceId) {
      const status = await instanceStatus(client, instanceId);
      return status && parseOrThrow(instanceStatusSchema, { runtimeStatus: status.runtimeStatus, lastUpdatedTime: status.lastUpdatedTime }, `the status of instance '${instanceId}'`);
    },
    startLifecycle: (ref) => restartLifecycle(client, ref),
  };
}

const hasEnded = (status: df.DurableOrchestrationStatus) => hasEndedStatus(String(status.runtimeStatus));

/** Whether the instance exists and has ended (completed, failed, terminated): it will not run again under its id. */
export async function instanceEnded(client: df.DurableClient, instanceId: string): Promise<boolean> {
  const status = await instanceStatus(client, instanceId);
  return status !== undefined && hasEnded(status);
}

/**
 * Starts an orchestration under a business-key instance id unless an instance exists (running or
 * finished: a finished one is not restarted, which would replace its history). Returns whether
 * this call started it. The input carries the active span's `traceparent` (the trigger's, unless
 * the input names one): the orchestration, its activities and sub-orchestrations join that trace.
 */
export async function startOnce(client: df.DurableClient, orchestrator: string, instanceId: string, input: object): Promise<boolean> {
  if (await instanceStatus(client, instanceId)) return false;
  try {
    await client.startNew(orchestrator, { instanceId, input: { ...traceFields(), ...input } });
    return true;
  } catch (error) {
    // A concurrent caller started it first.
    if (await instanceStatus(client, instanceId)) return false;
    throw error;
  }
}

/** The version's lifecycle instance, or undefined if it was never started. */
export const lifecycleStatus = (client: df.DurableClient, ref: VersionRef) => instanceStatus(client, lifecycleInstanceId(ref.model, ref.version));

/** What a lifecycle waiting for a decision says in its custom status: the deadline its timer runs to. */
const waitingLifecycleSchema = z.object({ state: z.literal('pending_approval'), approvalDeadline: isoDateTimeSchema });

/** The Durable client as the LifecycleDeadline port: the deadline the version's lifecycle waits until, while it runs and reports one. */
export function lifecycleDeadlines(client: df.DurableClient): LifecycleDeadline {
  return async (model, version) => {
    const status = await lifecycleStatus(client, { model, version });
    if (!status || hasEnded(status)) return undefined;
    const waiting = waitingLifecycleSchema.safeParse(status.customStatus);
    return waiting.success ? waiting.data.approvalDeadline : undefined;
  };
}

/**
 * Starts the version's lifecycle again under its instance id over one that ended (the extension
 * replaces a Completed, Failed or Terminated instance) or is gone; false when one still runs,
 * waits or is suspended there (the extension refuses to replace it: another start won).
 */
export async function restartLifecycle(client: df.DurableClient, ref: VersionRef): Promise<boolean> {
  const instanceId = lifecycleInstanceId(ref.model, ref.version);
  const input: LifecycleInput = { model: ref.model, version: ref.version, reason: 'restarted' };
  try {
    await client.startNew(MODEL_LIFECYCLE, { instanceId, input: { ...traceFields(), ...input } });
    return true;
  } catch (error) {
    const status = await instanceStatus(client, instanceId);
    if (status && !hasEnded(status)) return false;
    throw error;
  }
}

/** Starts the version's lifecycle once. */
export const ensureLifecycleStarted = (client: df.DurableClient, input: LifecycleInput): Promise<boolean> =>
  startOnce(client, MODEL_LIFECYCLE, lifecycleInstanceId(input.model, input.version), input);

/**
 * Tells a batch run waiting for a champion that the model's champion changed; false when no running
 * instance listens (purged, or it ended: the host takes an event for an ended instance with 410,
 * which the SDK reports as success, so the status is asked first).
 */
export async function wakeBatchRun(client: df.DurableClient, model: string, runId: string, champion: number): Promise<boolean> {
  const instanceId = batchInstanceId(model, runId);
  const status = await instanceStatus(client, instanceId);
  if (!status || hasEnded(status)) return false;
  try {
    await client.raiseEvent(instanceId, CHAMPION_CHANGED_EVENT, { champion });
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/**
 * Wakes the lifecycle after a person decided on its version; false when no running instance
 * listens (never started, or it ended: the host takes an event for an ended instance with 410,
 * which the SDK reports as success, so the status is asked first).
 */
export async function notifyLifecycle(client: df.DurableClient, ref: VersionRef, event: ApprovalEvent): Promise<boolean> {
  const instanceId = lifecycleInstanceId(ref.model, ref.version);
  const status = await instanceStatus(client, instanceId);
  if (!status || hasEnded(status)) return false;
  try {
    await client.raiseEvent(instanceId, APPROVAL_EVENT, event);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

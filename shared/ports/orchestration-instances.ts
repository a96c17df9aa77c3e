import type { InstanceStatus } from '../domain/policies/orchestration-outcome';

export type { InstanceStatus };

/**
 * The Durable client, as far as reconciliation uses it: an instance's status, or undefined when no
 * instance has the id (never started, purged, or its task hub was reset); and a version's
 * lifecycle started again.
 */
export interface OrchestrationInstances {
  status(instanceId: string): Promise<InstanceStatus | undefined>;
  /**
   * Starts the version's `modelLifecycle` again under its instance id (`lifecycle:{model}:{version}`),
   * replacing an instance that ended or is gone; the new instance picks up from the version's
   * state. False when an instance runs, waits or is suspended under the id (another start won).
   */
  startLifecycle(ref: { model: string; version: number }): Promise<boolean>;
}

/**
 * The deadline a version's lifecycle reports while it waits for the decision (`approvalDeadline` in
 * its custom status, ISO), or undefined when no lifecycle runs under its id or the one that runs
 * reports none (it is not waiting yet, or it ended). A lifecycle keeps the approval timeout it read
 * as it started, so once the model's timeout changed only the lifecycle knows when it expires the
 * version. Fails when the status cannot be read (an outage).
 */
export type LifecycleDeadline = (model: string, version: number) => Promise<string | undefined>;

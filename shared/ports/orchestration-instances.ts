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

import type { InstanceStatus } from '../domain/policies/orchestration-outcome';

export type { InstanceStatus };

/**
 * The Durable client, as far as reconciliation asks it: an instance's status, or undefined when no
 * instance has the id (never started, purged, or its task hub was reset).
 */
export interface OrchestrationInstances {
  status(instanceId: string): Promise<InstanceStatus | undefined>;
}

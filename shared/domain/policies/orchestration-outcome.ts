/** What the Durable client tells of one orchestration instance. */
export interface InstanceStatus {
  /** The runtime status as the host reports it: Pending, Running, Suspended, ContinuedAsNew, Completed, Failed, Terminated, Canceled. */
  runtimeStatus: string;
  /** The instance's last change of state (for an ended instance: when it ended). */
  lastUpdatedTime: Date;
}

/** Runtime statuses of an instance that ended for good: nothing runs under its id any more. */
const ENDED = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/**
 * How long a completed instance's document may still say it works: the orchestration records the
 * outcome in its last activities, and a status read between their write and the store's answer
 * (or a clock a little ahead of the host's) must not fail a run that just completed. Terminated,
 * failed and canceled instances get none: they ended without getting to their last activity.
 */
export const COMPLETED_INSTANCE_GRACE_MS = 15 * 60_000;

/**
 * Why a document that still says an instance works on it (`running`, `waiting_for_champion`) will
 * never record its outcome, or undefined while the instance may still: it runs, waits or is
 * suspended however long that takes (production volume can take hours), or it completed less than
 * COMPLETED_INSTANCE_GRACE_MS ago. A status the host may add later is left alone too.
 */
export function strandedBy(instanceId: string, status: InstanceStatus | undefined, now: Date): string | undefined {
  if (status === undefined) return `the orchestration instance '${instanceId}' no longer exists (purged, or its task hub was reset) and did not record the outcome`;
  if (!ENDED.includes(status.runtimeStatus)) return undefined;
  if (status.runtimeStatus === 'Completed' && now.getTime() - status.lastUpdatedTime.getTime() < COMPLETED_INSTANCE_GRACE_MS) return undefined;
  return `the orchestration instance '${instanceId}' ended (${status.runtimeStatus}) without recording the outcome`;
}

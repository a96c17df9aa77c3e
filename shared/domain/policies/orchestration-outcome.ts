/** What the Durable client tells of one orchestration instance. */
export interface InstanceStatus {
  /** The runtime status as the host reports it: Pending, Running, Suspended, ContinuedAsNew, Completed, Failed, Terminated, Canceled. */
  runtimeStatus: string;
  /** The instance's last change of state (for an ended instance: when it ended). */
  lastUpdatedTime: Date;
}

/** Runtime statuses of an instance that ended for good: nothing runs under its id any more (the others still take events). */
const ENDED: readonly string[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** Whether a runtime status says the instance ended for good. */
export const hasEndedStatus = (runtimeStatus: string): boolean => ENDED.includes(runtimeStatus);

/**
 * How long a completed instance's document may still say it works: the orchestration records the
 * outcome in its last activities, and a status read between their write and the store's answer
 * (or a clock a little ahead of the host's) must not fail a run that just completed. Terminated,
 * failed and canceled instances get none: they ended without getting to their last activity.
 */
export const COMPLETED_INSTANCE_GRACE_MS = 15 * 60_000;

/** The longest orchestration instance id the Durable extension accepts. */
const MAX_INSTANCE_ID_LENGTH = 256;

/**
 * Why no orchestration instance can have this id, or undefined when one may. The extension refuses
 * to start an instance whose id is empty, starts with `@`, holds `/`, `\`, `#`, `?` or a control
 * character, or is longer than 256 characters; `.` and `..` cannot be asked for (the client puts
 * the id in a URL path unescaped, where they name another path). Such an id must not reach the
 * client: an empty one asks for every instance of the task hub, page after page, and one with `?`
 * or `#` asks for another instance.
 */
export function impossibleInstanceId(instanceId: string): string | undefined {
  if (instanceId === '') return 'an empty id, which no instance can have';
  if (instanceId === '.' || instanceId === '..') return 'an id the Durable client cannot ask for';
  if (instanceId.startsWith('@')) return 'an id starting with @, which only entities have';
  // eslint-disable-next-line no-control-regex
  if (/[/\\?#\u0000-\u001f\u007f-\u009f]/.test(instanceId)) return 'an id with /, \\, #, ? or a control character, which no instance can have';
  if (instanceId.length > MAX_INSTANCE_ID_LENGTH) return `an id longer than ${MAX_INSTANCE_ID_LENGTH} characters, which no instance can have`;
  return undefined;
}

/**
 * Why a document that still says an instance works on it (`running`, `waiting_for_champion`) will
 * never record its outcome, or undefined while the instance may still: it runs, waits or is
 * suspended however long that takes (production volume can take hours), or it completed less than
 * COMPLETED_INSTANCE_GRACE_MS ago. A status the host may add later is left alone too. An id no
 * instance can have (impossibleInstanceId) is stranded whatever the status says.
 */
export function strandedBy(instanceId: string, status: InstanceStatus | undefined, now: Date): string | undefined {
  const impossible = impossibleInstanceId(instanceId);
  if (impossible !== undefined) return `the document names no orchestration instance that can exist (${JSON.stringify(instanceId.slice(0, 300))}: ${impossible}), so none will record the outcome`;
  if (status === undefined) return `the orchestration instance '${instanceId}' no longer exists (purged, or its task hub was reset) and did not record the outcome`;
  if (!hasEndedStatus(status.runtimeStatus)) return undefined;
  if (status.runtimeStatus === 'Completed' && now.getTime() - status.lastUpdatedTime.getTime() < COMPLETED_INSTANCE_GRACE_MS) return undefined;
  return `the orchestration instance '${instanceId}' ended (${status.runtimeStatus}) without recording the outcome`;
}

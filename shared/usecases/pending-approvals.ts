import { mapAtMost, within } from '../domain/at-most';
import { pendingSince } from '../domain/lifecycle';
import { addIsoDuration } from '../domain/policies/duration';
import type { ModelListing, ModelRegistry, UnreadableVersion } from '../ports/model-registry';
import type { LifecycleDeadline } from '../ports/orchestration-instances';
import type { DeadlineSource } from '../schemas/approvals';
import type { ModelVersion } from '../schemas/model-version';
import type { ModelRecord } from '../schemas/registry';

/** A version waiting for a person's decision, and when its lifecycle expires it. */
export interface PendingApproval {
  model: string;
  version: number;
  /** When it entered pending_approval (its transition on the version's history). */
  pendingSince: string;
  /** The deadline its running lifecycle reports; else pendingSince plus the model's `policies.approval.timeout`. */
  deadline: string;
  /** Whether `deadline` is the lifecycle's or the policy's. */
  deadlineSource: DeadlineSource;
  /** Milliseconds from `now` to the deadline; negative once it has passed. */
  timeLeftMs: number;
}

export interface ApprovalsOfModel {
  model: string;
  /** Its versions waiting for a decision that read, soonest deadline first (none: an empty list). */
  pending: PendingApproval[];
  /** Its versions whose stored document does not read and that may wait (their stored state says so, or cannot be told), by number, and why. */
  unreadable: UnreadableVersion[];
  /**
   * Its waiting versions whose lifecycle's status could not be read (the Durable client failed or
   * did not answer in time), and why: their deadline is the policy's, which their lifecycle does
   * not keep if the model's timeout changed since it started.
   */
  statusUnread: { version: number; reason: string }[];
  /** Why its versions could not be read at all (an outage, its model document damaged): then `pending` is unknown, not empty. */
  error?: string;
}

/**
 * One model's versions in pending_approval as stored, with its record, those that do not read
 * apart; or why none could be read (its model document does not read, or an outage answering
 * `listApart`).
 */
export type AwaitingOfModel = { model: string; record: ModelRecord; versions: ModelVersion[]; unreadable: UnreadableVersion[] } | { model: string; error: string };

/**
 * What to do when a model's query fails (an outage): fail the whole call (`fail`: the inbox answers
 * 500, as when the model list cannot be read), or list the model with the error (`listApart`: the
 * approval watch records the others, then fails naming it).
 */
export type WhenUnanswered = 'fail' | 'listApart';

/** Models whose pending versions are queried at once. */
const MODELS_AT_ONCE = 8;

/**
 * The versions in pending_approval of the models listed: one query per model for that state only
 * (`listReadableVersionsInState`), so a model's other versions, however many, are not read. Models
 * that approve automatically are read too: a version whose lifecycle started before `autoApprove`
 * was turned on still waits for a person (the lifecycle keeps the policy it read), and approve and
 * reject accept that person. A version whose stored document does not read is listed apart with its
 * model's others, which are still read; a model whose stored document cannot be read
 * (`listing.unreadable`) is listed with the reason, first. The query fails only for an outage,
 * handled as `whenUnanswered` says.
 */
export async function versionsAwaitingDecision(
  registry: Pick<ModelRegistry, 'listReadableVersionsInState'>,
  listing: ModelListing,
  whenUnanswered: WhenUnanswered,
): Promise<AwaitingOfModel[]> {
  const unreadable = listing.unreadable.map(({ modelName, reason }) => ({ model: modelName, error: reason }));
  const read = await mapAtMost(listing.models, MODELS_AT_ONCE, async (record): Promise<AwaitingOfModel> => {
    try {
      return { model: record.modelName, record, ...(await registry.listReadableVersionsInState(record.modelName, 'pending_approval')) };
    } catch (error) {
      if (whenUnanswered === 'fail') throw error;
      return { model: record.modelName, error: error instanceof Error ? error.message : String(error) };
    }
  });
  return [...unreadable, ...read];
}

/**
 * When the model's policy says a pending version's lifecycle expires it: its entry into
 * pending_approval plus the model's approval timeout now. A lifecycle started again keeps this
 * deadline; one that runs keeps the timeout it read as it started (withLifecycleDeadline).
 */
export function pendingApprovalOf(record: ModelRecord, version: ModelVersion, now: Date): PendingApproval {
  const entered = pendingSince(version);
  const deadline = addIsoDuration(new Date(entered), record.definition.policies.approval.timeout);
  return { model: record.modelName, version: version.version, pendingSince: entered, deadline: deadline.toISOString(), deadlineSource: 'policy', timeLeftMs: deadline.getTime() - now.getTime() };
}

/** How the deadlines that running lifecycles report are read. */
export interface LifecycleDeadlineReads {
  /** Absent: every deadline is the policy's. */
  lifecycleDeadline?: LifecycleDeadline;
  /** How long one status read may take (LIFECYCLE_STATUS_TIMEOUT_MS when absent). */
  statusTimeoutMs?: number;
}

/**
 * How long one lifecycle's status may take. The durable-functions client sets no timeout on its
 * HTTP calls: a host that never answers would otherwise hold the inbox's request or the watch until
 * the function timeout. Past it the policy's deadline stands in, which is right unless the model's
 * timeout changed while the version waited.
 */
export const LIFECYCLE_STATUS_TIMEOUT_MS = 5_000;

/** Lifecycle statuses read at once: each is an HTTP call to the host. */
const STATUSES_AT_ONCE = 8;

/**
 * The approval with the deadline its lifecycle keeps, where the lifecycle runs and reports one;
 * else the policy's, which a lifecycle started again keeps. A status that fails or does not come
 * within the timeout leaves the policy's too, and `statusError` says why.
 */
export async function withLifecycleDeadline<A extends PendingApproval>(reads: LifecycleDeadlineReads, approval: A, now: Date): Promise<{ approval: A; statusError?: string }> {
  if (reads.lifecycleDeadline === undefined) return { approval };
  const timeoutMs = reads.statusTimeoutMs ?? LIFECYCLE_STATUS_TIMEOUT_MS;
  let reported: string | undefined;
  try {
    reported = await within(timeoutMs, reads.lifecycleDeadline(approval.model, approval.version), `its lifecycle's status did not come within ${timeoutMs} ms`);
  } catch (error) {
    return { approval, statusError: error instanceof Error ? error.message : String(error) };
  }
  const deadline = reported === undefined ? Number.NaN : Date.parse(reported);
  if (Number.isNaN(deadline)) return { approval };
  return { approval: { ...approval, deadline: new Date(deadline).toISOString(), deadlineSource: 'lifecycle', timeLeftMs: deadline - now.getTime() } };
}

/**
 * Every version waiting in pending_approval, per model, with the deadline its lifecycle will expire
 * it at: the one its running lifecycle reports (`lifecycles`; it keeps the timeout it read as it
 * started, also after `PATCH /models/{model}` changed it), else the one stored state gives (the
 * version's transition into pending_approval plus the model's approval timeout now), which a
 * lifecycle started again keeps. Both count from the same transition (the lifecycle's activities
 * answer `pendingSince`); only a wait recorded before they did counts from its own episode after
 * the transition, and fires milliseconds to seconds after the policy's deadline. Statuses are read
 * a few at a time, each within `statusTimeoutMs`; one that fails or does not come leaves that
 * version the policy's deadline and is listed in its model's `statusUnread`. Models that approve
 * automatically are reported only while versions of theirs wait (lifecycles started before
 * `autoApprove` was turned on). A version whose stored document does not read is listed in its
 * model's `unreadable` and the model's others are still read; a model whose versions cannot be read
 * at all (an outage) is listed with the `error` and the others are still read; so is a model whose
 * stored document cannot be read.
 */
export async function pendingApprovals(registry: Pick<ModelRegistry, 'listModels' | 'listReadableVersionsInState'>, now: Date, lifecycles: LifecycleDeadlineReads = {}): Promise<ApprovalsOfModel[]> {
  const models = await versionsAwaitingDecision(registry, await registry.listModels(), 'listApart');
  // A model that approves automatically is counted only while versions of it wait: its 0 is no news.
  const reported = models.filter((found) => 'error' in found || found.versions.length + found.unreadable.length > 0 || !found.record.definition.policies.approval.autoApprove);
  const byPolicy = reported.flatMap((found) => ('error' in found ? [] : found.versions.map((version) => pendingApprovalOf(found.record, version, now))));
  const read = await mapAtMost(byPolicy, STATUSES_AT_ONCE, (approval) => withLifecycleDeadline(lifecycles, approval, now));
  return reported.map((found) => {
    if ('error' in found) return { model: found.model, pending: [], unreadable: [], statusUnread: [], error: found.error };
    const ofModel = read.filter((r) => r.approval.model === found.model);
    const pending = ofModel.map((r) => r.approval).sort((a, b) => a.timeLeftMs - b.timeLeftMs);
    const statusUnread = ofModel.flatMap((r) => (r.statusError !== undefined ? [{ version: r.approval.version, reason: r.statusError }] : [])).sort((a, b) => a.version - b.version);
    return { model: found.model, pending, unreadable: found.unreadable, statusUnread };
  });
}

import { mapAtMost } from '../domain/at-most';
import { pendingSince } from '../domain/lifecycle';
import { addIsoDuration } from '../domain/policies/duration';
import type { ModelListing, ModelRegistry, UnreadableVersion } from '../ports/model-registry';
import type { ModelVersion } from '../schemas/model-version';
import type { ModelRecord } from '../schemas/registry';

/** A version waiting for a person's decision, and when its lifecycle expires it. */
export interface PendingApproval {
  model: string;
  version: number;
  /** When it entered pending_approval (its transition on the version's history). */
  pendingSince: string;
  /** pendingSince plus the model's `policies.approval.timeout`. */
  deadline: string;
  /** Milliseconds from `now` to the deadline; negative once it has passed. */
  timeLeftMs: number;
}

export interface ApprovalsOfModel {
  model: string;
  /** Its versions waiting for a decision that read, soonest deadline first (none: an empty list). */
  pending: PendingApproval[];
  /** Its versions whose stored document does not read and that may wait (their stored state says so, or cannot be told), by number, and why. */
  unreadable: UnreadableVersion[];
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

/** When a pending version's lifecycle expires it: its entry into pending_approval plus the model's approval timeout. */
export function pendingApprovalOf(record: ModelRecord, version: ModelVersion, now: Date): PendingApproval {
  const entered = pendingSince(version);
  const deadline = addIsoDuration(new Date(entered), record.definition.policies.approval.timeout);
  return { model: record.modelName, version: version.version, pendingSince: entered, deadline: deadline.toISOString(), timeLeftMs: deadline.getTime() - now.getTime() };
}

/**
 * Every version waiting in pending_approval, per model, with its deadline computed from stored
 * state only (the registry: the version's transition into pending_approval and the model's
 * approval timeout), never from the orchestration. The lifecycle's timer counts from the same
 * transition (its activities answer `pendingSince`), fresh or restarted, and expires the version at
 * once when the deadline has passed; only a wait recorded before they did counts from its own
 * episode after the transition, and fires milliseconds to seconds after this deadline. Models that approve automatically
 * are reported only while versions of theirs wait (lifecycles started before `autoApprove` was
 * turned on). A version whose stored document does not read is listed in its model's `unreadable`
 * and the model's others are still read; a model whose versions cannot be read at all (an outage)
 * is listed with the `error` and the others are still read; so is a model whose stored document
 * cannot be read.
 */
export async function pendingApprovals(registry: Pick<ModelRegistry, 'listModels' | 'listReadableVersionsInState'>, now: Date): Promise<ApprovalsOfModel[]> {
  const models = await versionsAwaitingDecision(registry, await registry.listModels(), 'listApart');
  // A model that approves automatically is counted only while versions of it wait: its 0 is no news.
  const reported = models.filter((found) => 'error' in found || found.versions.length + found.unreadable.length > 0 || !found.record.definition.policies.approval.autoApprove);
  return reported.map((found) => {
    if ('error' in found) return { model: found.model, pending: [], unreadable: [], error: found.error };
    const pending = found.versions.map((version) => pendingApprovalOf(found.record, version, now));
    pending.sort((a, b) => a.timeLeftMs - b.timeLeftMs);
    return { model: found.model, pending, unreadable: found.unreadable };
  });
}

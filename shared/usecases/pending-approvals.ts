import { pendingSince } from '../domain/lifecycle';
import { addIsoDuration } from '../domain/policies/duration';
import type { ModelRegistry } from '../ports/model-registry';

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
  /** Its versions waiting for a decision, soonest deadline first (none: an empty list). */
  pending: PendingApproval[];
  /** Why its versions could not be read (an outage, a damaged document): then `pending` is unknown, not empty. */
  error?: string;
}

/**
 * Every version waiting in pending_approval, per model, with its deadline computed from stored
 * state only (the registry: the version's transition into pending_approval and the model's
 * approval timeout), never from the orchestration. The lifecycle's timer counts from the same
 * transition (its activities answer `pendingSince`), fresh or restarted, and expires the version at
 * once when the deadline has passed; only a wait recorded before they did counts from its own
 * episode after the transition, and fires milliseconds to seconds after this deadline. Models that approve automatically
 * are left out: nobody is waited for. A model whose versions cannot be read is listed with the
 * `error` and the others are still read; so is a model whose stored document cannot be read.
 */
export async function pendingApprovals(registry: Pick<ModelRegistry, 'listModels' | 'listVersions'>, now: Date): Promise<ApprovalsOfModel[]> {
  const result: ApprovalsOfModel[] = [];
  const listing = await registry.listModels();
  for (const { modelName, reason } of listing.unreadable) result.push({ model: modelName, pending: [], error: reason });
  for (const record of listing.models) {
    const policy = record.definition.policies.approval;
    if (policy.autoApprove) continue;
    const pending: PendingApproval[] = [];
    let versions;
    try {
      versions = await registry.listVersions(record.modelName);
    } catch (error) {
      // One model's versions that cannot be read do not hide the others' approvals.
      result.push({ model: record.modelName, pending, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const version of versions) {
      if (version.state !== 'pending_approval') continue;
      const entered = pendingSince(version);
      const deadline = addIsoDuration(new Date(entered), policy.timeout);
      pending.push({ model: record.modelName, version: version.version, pendingSince: entered, deadline: deadline.toISOString(), timeLeftMs: deadline.getTime() - now.getTime() });
    }
    pending.sort((a, b) => a.timeLeftMs - b.timeLeftMs);
    result.push({ model: record.modelName, pending });
  }
  return result;
}

import type { LifecycleState } from '../../schemas/lifecycle';
import type { ModelVersion } from '../../schemas/model-version';
import type { ChampionPointer, ModelUpdatedEvent } from '../../schemas/registry';
import { approvedSince } from '../lifecycle';

/**
 * States in which reconciliation starts a version's lifecycle again when its instance ended or is
 * gone: the lifecycle picks up from them (nothing was half done). A version left `validating` is
 * failed instead: what ended its lifecycle may be the validation itself. An `approved` one only
 * when its model's approval policy has promoteOnApproval (the restarted lifecycle promotes it),
 * and as promotionRefusal allows; otherwise `approved` is where a version rests until an admin
 * promotes it.
 */
export const RESTARTABLE_LIFECYCLE_STATES = ['registered', 'pending_approval', 'approved'] as const satisfies readonly LifecycleState[];
export type RestartableLifecycleState = (typeof RESTARTABLE_LIFECYCLE_STATES)[number];

/**
 * How many times reconciliation starts one version's lifecycle again, over the version's life. A
 * lifecycle that fails the same way each time must not be restarted every hour for good: past
 * this, the version is left for a person, with the reason logged on each reconciliation.
 */
export const MAX_LIFECYCLE_RESTARTS = 3;

/**
 * How long a version may stay `registered` with no lifecycle instance before reconciliation starts
 * one: its registration stores the version first and starts the lifecycle right after, so a
 * version registered a moment ago may be about to get its instance (a start that failed is retried
 * by the registration's caller, or started here once this has passed).
 */
export const STARTING_LIFECYCLE_GRACE_MS = 15 * 60_000;

/** What a person does about a version whose lifecycle is no longer started again, by its state. */
const BY_HAND: Record<RestartableLifecycleState, (model: string) => string> = {
  pending_approval: (model) => `approve, reject or retire the version (no lifecycle promotes an approved one: promote it with POST /models/${model}/promote)`,
  registered: () => 'retire the version, and once the cause is fixed register the package again as a new version (a new Idempotency-Key, or a changed manifest)',
  approved: (model) => `promote it with POST /models/${model}/promote, or retire it`,
};

/**
 * Why the version's lifecycle is not started again although its instance `instanceId` ended or is
 * gone (it was restarted MAX_LIFECYCLE_RESTARTS times), with what a person does; undefined when it
 * may be started again.
 */
export function restartRefusal(version: Pick<ModelVersion, 'modelName' | 'lifecycleRestarts'>, state: RestartableLifecycleState, instanceId: string): string | undefined {
  const restarts = version.lifecycleRestarts ?? [];
  const last = restarts.at(-1);
  if (last === undefined || restarts.length < MAX_LIFECYCLE_RESTARTS) return undefined;
  return `its lifecycle was started again ${restarts.length} times already (the last at ${last.at}), and ended again, so it is left for a person: read why in the history of '${instanceId}' (GET /runtime/webhooks/durabletask/instances/{instanceId}?showHistory=true), then ${BY_HAND[state](version.modelName)}`;
}

/**
 * How long after its approval a version whose lifecycle ended or is gone before promoting it is
 * still promoted by a restarted lifecycle. An approval under promoteOnApproval is an instruction to
 * promote, and reconciliation runs hourly: an older one outlived every outage the timer is meant
 * to cover, and its approver may since have decided to leave it (an approve that answered
 * `lifecycleNotified: false` said an admin would promote it), so it is left for a person.
 */
export const MAX_APPROVAL_AGE_TO_PROMOTE_MS = 7 * 24 * 3_600_000;

/** What promotionRefusal weighs besides the version: the champion pointer as stored, and the latest other approval. */
export interface PromotionContext {
  now: Date;
  /** The model's champion pointer; undefined when there never was one. */
  champion: ChampionPointer | undefined;
  /** Another version of the model still `approved` and approved after this one, with when. */
  laterApproval?: { version: number; at: string } | undefined;
  /**
   * The first change of promoteOnApproval the model's ledger records at or after the approval
   * (promoteOnApprovalBefore of its `model_updated` entries, oldest first); undefined when none
   * does, so the policy as read now (promoteOnApproval) is the one the approval was given under.
   */
  promoteOnApprovalChange?: PromoteOnApprovalChange | undefined;
}

/**
 * A change of promoteOnApproval after an approval: when, by which revision of the definition, and
 * what it was before (undefined: the entry does not tell); or `unread`, the number of model
 * updates since the approval read without finding one when reading stopped (more were left).
 */
export type PromoteOnApprovalChange = { at: string; revision: number; wasOn: boolean | undefined } | { unread: number };

/** Where the ledger records a change of the approval policy's promoteOnApproval. */
export const PROMOTE_ON_APPROVAL_PATH = 'policies.approval.promoteOnApproval';

/**
 * What promoteOnApproval was just before `update`, when the update changed it: the change's `from`
 * at its path, or inside the `from` of a parent's change (a definition read with its defaults has
 * every leaf, so this is for entries written otherwise). `{ wasOn: undefined }` when the entry
 * cannot tell (its values truncated to a preview, or no boolean there): an approval whose policy
 * is not known is not acted on. Undefined when the update left it alone.
 */
export function promoteOnApprovalBefore(update: Pick<ModelUpdatedEvent, 'changes'>): { wasOn: boolean | undefined } | undefined {
  for (const change of update.changes) {
    if (!(PROMOTE_ON_APPROVAL_PATH === change.path || PROMOTE_ON_APPROVAL_PATH.startsWith(`${change.path}.`))) continue;
    const inside = PROMOTE_ON_APPROVAL_PATH.slice(change.path.length + 1);
    if (change.truncated) return { wasOn: undefined };
    const [from, to] = [valueAt(change.from, inside), valueAt(change.to, inside)];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    return { wasOn: typeof from === 'boolean' ? from : undefined };
  }
  return undefined;
}

/** The value at the dotted `path` inside `root` (all of it for an empty path); undefined where there is none. */
function valueAt(root: unknown, path: string): unknown {
  if (path === '') return root;
  let value = root;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Why a restarted lifecycle must not promote an `approved` version whose lifecycle ended or is gone
 * before it promoted it, with what a person does; undefined when it may. Each refusal guards a
 * later decision the promotion would undo: the champion changed at or after the approval (another
 * change won the race against the lifecycle, or a person promoted or rolled back since), another
 * version was approved after it (its promotion is the later instruction), the approval is older
 * than MAX_APPROVAL_AGE_TO_PROMOTE_MS, or the policy it was given under did not have
 * promoteOnApproval (an admin turned it on since: the approval left promotion to an admin), or
 * that policy is not known.
 */
export function promotionRefusal(version: Pick<ModelVersion, 'modelName' | 'version' | 'history' | 'updatedAt'>, context: PromotionContext): string | undefined {
  const approvedAt = approvedSince(version);
  const then = BY_HAND.approved(version.modelName);
  const { champion, laterApproval, now, promoteOnApprovalChange: policyChange } = context;
  if (champion !== undefined && champion.epoch > 0 && Date.parse(champion.since) >= Date.parse(approvedAt)) {
    const change = champion.lastChange;
    const what = change ? `${change.cause} to ${change.to === null ? 'no champion' : `version ${change.to}`} by ${change.actor.id}` : `version ${champion.version ?? 'none'}`;
    return `the champion changed at ${champion.since} (${what}), after its approval at ${approvedAt}: promoting it now would undo that change, so it is left for a person: ${then}`;
  }
  if (laterApproval !== undefined) {
    return `version ${laterApproval.version} was approved after it (at ${laterApproval.at}, this one at ${approvedAt}), and its promotion is the later instruction, so it is left for a person: ${then}`;
  }
  if (now.getTime() - Date.parse(approvedAt) > MAX_APPROVAL_AGE_TO_PROMOTE_MS) {
    return `it was approved at ${approvedAt}, more than ${MAX_APPROVAL_AGE_TO_PROMOTE_MS / 86_400_000} days ago, and an approval so old is not acted on without a person, so it is left for a person: ${then}`;
  }
  if (policyChange !== undefined && 'unread' in policyChange) {
    return `the model was updated more than ${policyChange.unread} times since its approval at ${approvedAt}, too often to read whether its approval policy had promoteOnApproval then, so it is left for a person: ${then}`;
  }
  if (policyChange !== undefined && policyChange.wasOn === undefined) {
    return `the model's update at ${policyChange.at} (revision ${policyChange.revision}) changed ${PROMOTE_ON_APPROVAL_PATH} after its approval at ${approvedAt}, and its ledger entry does not say what it was before, so whether the approval was to promote it is not known and it is left for a person: ${then}`;
  }
  if (policyChange?.wasOn === false) {
    return `it was approved at ${approvedAt} while the model's approval policy left promotion to an admin (promoteOnApproval was turned on at ${policyChange.at}, revision ${policyChange.revision}), so it is left for a person: ${then}`;
  }
  return undefined;
}

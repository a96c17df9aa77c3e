import { isDomainError } from '../domain/errors';
import type { ActorInput } from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import type { RegistryUseCases } from './registry';

/** What the lifecycle's promotion did: the version as it is, and why it is not in production when another change won. */
export interface LifecyclePromotion {
  version: ModelVersion;
  reason?: string;
}

/**
 * The lifecycle approves its validated version itself, as the model's policy said when the
 * lifecycle started (`autoApprove`). The registry lets the system approve only while the policy
 * still says so: when the model was updated since to wait for a person, the version stays
 * `pending_approval` and is answered as it is, for the lifecycle to wait for a decision instead of
 * failing. A version a person moved first is answered as it is too.
 */
export async function autoApproveVersion(
  registry: RegistryUseCases,
  ref: { model: string; version: number },
  evidenceHash: string,
  actor: ActorInput,
): Promise<ModelVersion> {
  const { model, version } = ref;
  try {
    return await registry.applyCommand(model, version, { type: 'approve', evidenceHash, comment: "approved by the lifecycle: the model's approval policy has autoApprove" }, actor);
  } catch (error) {
    if (isDomainError(error) && error.code === 'ILLEGAL_TRANSITION') return registry.getVersion(model, version);
    if (!(isDomainError(error) && error.code === 'FORBIDDEN')) throw error;
    if ((await registry.getModel(model)).definition.policies.approval.autoApprove) throw error;
    return registry.getVersion(model, version);
  }
}

/**
 * The lifecycle read `promoteOnApproval` when it started; an admin may have turned it off since
 * (PATCH /models/{model}: a change freeze, say). The policy as it stands at the approval decides,
 * so the version then stays `approved` for an admin, with the reason, as a lost race leaves it.
 */
async function promotionTurnedOff(registry: RegistryUseCases, model: string, version: number): Promise<LifecyclePromotion | undefined> {
  const record = await registry.getModel(model);
  if (record.definition.policies.approval.promoteOnApproval) return undefined;
  const current = await registry.getVersion(model, version);
  if (current.state !== 'approved') return { version: current };
  return {
    version: current,
    reason:
      `the model's approval policy no longer promotes on approval: promoteOnApproval was turned off after this lifecycle started (the definition is at revision ${record.revision ?? 0}, updated at ${record.updatedAt}); ` +
      `version ${version} stays approved: an admin promotes it with POST /models/${model}/promote`,
  };
}

/**
 * The lifecycle promotes its approved version. The champion pointer decides concurrent changes
 * (registry.md, "Champion swap"): when another promotion or rollback won the race (an admin
 * promoting another version at the same moment), this version stays `approved`, as every loser
 * does, and the answer says which change won, instead of failing the lifecycle. A version a
 * person moved first (retired meanwhile) is answered as it is. When the pointer does name this
 * version (only the version writes after the swap lost to other writers), the promotion is
 * repeated once: it finishes the change it already made.
 */
export async function promoteApprovedVersion(
  registry: RegistryUseCases,
  ref: { model: string; version: number },
  actor: ActorInput,
  reason = 'approved; promoted by the lifecycle',
): Promise<LifecyclePromotion> {
  const { model, version } = ref;
  const refusal = await promotionTurnedOff(registry, model, version);
  if (refusal) return refusal;
  const promote = () => registry.applyCommand(model, version, { type: 'promote', reason }, actor);
  try {
    return { version: await promote() };
  } catch (error) {
    if (isDomainError(error) && error.code === 'ILLEGAL_TRANSITION') return { version: await registry.getVersion(model, version) };
    if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT')) throw error;
  }
  const champion = await registry.getChampion(model);
  if (champion.version === version) return { version: await promote() };
  const current = await registry.getVersion(model, version);
  if (current.state !== 'approved') return { version: current };
  const won = champion.lastChange;
  const by = won ? ` (${won.cause} by ${won.actor.id})` : '';
  return {
    version: current,
    reason:
      `another champion change won the race while the lifecycle promoted version ${version}: ` +
      `${champion.version === null ? 'there is no champion' : `version ${champion.version} is the champion`}${by}; ` +
      `version ${version} stays approved: an admin promotes it with POST /models/${model}/promote`,
  };
}

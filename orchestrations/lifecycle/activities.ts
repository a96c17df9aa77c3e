import { registry, retrainingRecords, validation } from '../../shared/composition';
import { isDomainError } from '../../shared/domain/errors';
import { pendingSince } from '../../shared/domain/lifecycle';
import type { LifecycleCommand } from '../../shared/schemas/lifecycle';
import {
  autoApproveInputSchema,
  closeRetrainingInputSchema,
  expireInputSchema,
  failValidationInputSchema,
  type LifecycleFacts,
  recordValidationInputSchema,
  type StateResult,
  validateInputSchema,
  type VersionRef,
  versionRefSchema,
} from '../../shared/schemas/lifecycle-orchestration';
import type { ModelVersion } from '../../shared/schemas/model-version';
import { autoApproveVersion, promoteApprovedVersion } from '../../shared/usecases/lifecycle-promotion';
import { closeRetrainingForVersion } from '../../shared/usecases/retraining-records';
import { validateVersion } from '../../shared/usecases/validate-version';
import { defineActivity } from '../activity';
import { LIFECYCLE_ACTIVITIES, LIFECYCLE_ACTOR } from './names';

/** Ledger reasons are bounded; a long list of failed gates is cut with a pointer to the evidence. */
const MAX_REASON = 2000;
const reasonOf = (reasons: readonly string[]) => {
  const text = reasons.join('; ') || 'validation failed';
  return text.length <= MAX_REASON ? text : `${text.slice(0, MAX_REASON - 40)}… (see the evidence for all)`;
};

/**
 * Applies a lifecycle command as the lifecycle; when a person moved the version first (approved,
 * rejected or retired it meanwhile) the command is illegal and the version's state is the answer.
 */
async function applyAsLifecycle({ model, version }: VersionRef, command: LifecycleCommand): Promise<StateResult> {
  try {
    const after = await registry().applyCommand(model, version, command, LIFECYCLE_ACTOR);
    return stateOf(after);
  } catch (error) {
    if (!(isDomainError(error) && error.code === 'ILLEGAL_TRANSITION')) throw error;
    return stateOf(await registry().getVersion(model, version));
  }
}

/** The version's state, evidence and, while it waits for a decision, since when (the deadline runs from there). */
const stateOf = (v: Pick<ModelVersion, 'state' | 'evidenceHash' | 'history' | 'updatedAt'>): StateResult => ({
  state: v.state,
  ...(v.evidenceHash ? { evidenceHash: v.evidenceHash } : {}),
  ...(v.state === 'pending_approval' ? { pendingSince: pendingSince(v) } : {}),
});

export const readVersion = defineActivity(LIFECYCLE_ACTIVITIES.readVersion, versionRefSchema, async ({ model, version }): Promise<LifecycleFacts> => {
  const [record, found] = await Promise.all([registry().getModel(model), registry().getVersion(model, version)]);
  const { timeout, autoApprove, promoteOnApproval } = record.definition.policies.approval;
  return { ...stateOf(found), approval: { timeout, autoApprove, promoteOnApproval } };
});

export const startValidation = defineActivity(LIFECYCLE_ACTIVITIES.startValidation, versionRefSchema, (ref) =>
  applyAsLifecycle(ref, { type: 'start_validation' }),
);

export const validate = defineActivity(LIFECYCLE_ACTIVITIES.validate, validateInputSchema, (input) => validateVersion(validation(), input));

export const recordValidation = defineActivity(LIFECYCLE_ACTIVITIES.recordValidation, recordValidationInputSchema, ({ outcome, ...ref }) =>
  applyAsLifecycle(
    ref,
    outcome.decision === 'pass'
      ? { type: 'pass_validation', evidenceHash: outcome.evidenceHash }
      : { type: 'fail_validation', reason: reasonOf(outcome.reasons), evidenceHash: outcome.evidenceHash },
  ),
);

/** Validation could not be completed: the version fails validation with the reason (and the evidence, when there is one). */
export const failValidation = defineActivity(LIFECYCLE_ACTIVITIES.failValidation, failValidationInputSchema, ({ reason, evidenceHash, ...ref }) =>
  applyAsLifecycle(ref, { type: 'fail_validation', reason: reasonOf([reason]), ...(evidenceHash ? { evidenceHash } : {}) }),
);

/** Approves as the policy read at the start allowed; a policy updated since to wait for a person leaves the version pending_approval. */
export const autoApprove = defineActivity(LIFECYCLE_ACTIVITIES.autoApprove, autoApproveInputSchema, async ({ evidenceHash, ...ref }) =>
  stateOf(await autoApproveVersion(registry(), { model: ref.model, version: ref.version }, evidenceHash, LIFECYCLE_ACTOR)),
);

export const expire = defineActivity(LIFECYCLE_ACTIVITIES.expire, expireInputSchema, ({ reason, ...ref }) =>
  applyAsLifecycle(ref, { type: 'expire', ...(reason === undefined ? {} : { reason }) }),
);

/** Promotes the approved version; losing the champion race to another change leaves it approved, with the reason. */
export const promote = defineActivity(LIFECYCLE_ACTIVITIES.promote, versionRefSchema, async ({ model, version }): Promise<StateResult> => {
  const promoted = await promoteApprovedVersion(registry(), { model, version }, LIFECYCLE_ACTOR);
  return { ...stateOf(promoted.version), ...(promoted.reason ? { reason: promoted.reason } : {}) };
});

/** The lifecycle ended: a retraining request that produced this version closes with the outcome. */
export const closeRetraining = defineActivity(LIFECYCLE_ACTIVITIES.closeRetraining, closeRetrainingInputSchema, async (input) => {
  const closed = await closeRetrainingForVersion(retrainingRecords(), input);
  return { closed: closed.map((r) => r.requestId) };
});

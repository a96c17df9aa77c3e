import { boundedId } from '../../shared/domain/bounded-id';
import type { ActorInput } from '../../shared/schemas/lifecycle';

/**
 * Names recorded in durable history: a persisted contract. Never rename one that has shipped;
 * add a new name instead.
 */
export const MODEL_LIFECYCLE = 'modelLifecycle';

export const LIFECYCLE_ACTIVITIES = {
  readVersion: 'lifecycleReadVersion',
  startValidation: 'lifecycleStartValidation',
  validate: 'lifecycleValidate',
  recordValidation: 'lifecycleRecordValidation',
  failValidation: 'lifecycleFailValidation',
  autoApprove: 'lifecycleAutoApprove',
  expire: 'lifecycleExpire',
  promote: 'lifecyclePromote',
  closeRetraining: 'lifecycleCloseRetraining',
  revalidationFor: 'lifecycleRevalidationFor',
  revalidationData: 'lifecycleRevalidationData',
  recordRevalidation: 'lifecycleRecordRevalidation',
} as const;

/** Validates the champion again on a new data flavour (started by the actuals join, and by late matches). */
export const REVALIDATE_CHAMPION = 'revalidateChampion';

/** Durable instance ids are at most 256 characters (the extension refuses longer ones). */
const MAX_INSTANCE_ID_LENGTH = 256;

/**
 * One revalidation per version and actuals file, and one per version and late match of it
 * (`{actualsId}~{runId}`, as its labelled files are named). A late match's id, which two ids of up
 * to 128 characters make, ends in a digest of itself when it would pass the length an instance id
 * may have (`#` is not allowed in one).
 */
export const revalidationInstanceId = (model: string, version: number, actualsId: string, runId?: string): string =>
  runId === undefined ? `revalidation:${model}:${version}:${actualsId}` : boundedId(`revalidation:${model}:${version}:${actualsId}~${runId}`, MAX_INSTANCE_ID_LENGTH, '-');

/** One lifecycle instance per version (shared/domain, where reconciliation derives it too). */
export { lifecycleInstanceId } from '../../shared/domain/lifecycle-instance';

/** The system actor the lifecycle's own transitions are recorded under. */
export const LIFECYCLE_ACTOR: ActorInput = { id: 'system:modelLifecycle', kind: 'system', roles: [] };

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
  autoApprove: 'lifecycleAutoApprove',
  expire: 'lifecycleExpire',
  promote: 'lifecyclePromote',
  closeRetraining: 'lifecycleCloseRetraining',
  revalidationFor: 'lifecycleRevalidationFor',
  revalidationData: 'lifecycleRevalidationData',
  recordRevalidation: 'lifecycleRecordRevalidation',
} as const;

/** Validates the champion again on a new data flavour (started by the actuals join). */
export const REVALIDATE_CHAMPION = 'revalidateChampion';

/** One revalidation per version and actuals file. */
export const revalidationInstanceId = (model: string, version: number, actualsId: string): string => `revalidation:${model}:${version}:${actualsId}`;

/** One lifecycle instance per version: starting it twice is a no-op. */
export const lifecycleInstanceId = (model: string, version: number): string => `lifecycle:${model}:${version}`;

/** The system actor the lifecycle's own transitions are recorded under. */
export const LIFECYCLE_ACTOR: ActorInput = { id: 'system:modelLifecycle', kind: 'system', roles: [] };

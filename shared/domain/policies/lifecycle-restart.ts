import type { LifecycleState } from '../../schemas/lifecycle';
import type { ModelVersion } from '../../schemas/model-version';

/**
 * States in which reconciliation starts a version's lifecycle again when its instance ended or is
 * gone: the lifecycle picks up from them (nothing was half done). A version left `validating` is
 * failed instead: what ended its lifecycle may be the validation itself.
 */
export const RESTARTABLE_LIFECYCLE_STATES = ['registered', 'pending_approval'] as const satisfies readonly LifecycleState[];
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

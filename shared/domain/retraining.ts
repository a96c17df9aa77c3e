import { MODEL_NAME_PATTERN } from '../schemas/common';
import type { LifecycleState } from '../schemas/lifecycle';

/**
 * Retraining requests: reading a request id back (`retrainingRequestId` in shared/schemas/messages.ts
 * makes them: `retrain:{model}:{windowId}`, the queue message id, the RetrainingRecord's id and the
 * durable instance id of a webhook retraining) and when the version a request produced counts as
 * decided.
 */

/** The model and window a request id names, or undefined when it is not one. */
export function parseRetrainingRequestId(id: string | undefined): { model: string; windowId: string } | undefined {
  const m = /^retrain:([^:]+):(\d{8}T\d{4}Z)$/.exec(id ?? '');
  if (!m || !MODEL_NAME_PATTERN.test(m[1]!)) return undefined;
  return { model: m[1]!, windowId: m[2]! };
}

/** States a version's lifecycle never leaves by itself: a person, or nothing, moves it on. */
const DECIDED: ReadonlySet<LifecycleState> = new Set(['validation_failed', 'rejected', 'expired', 'production', 'archived', 'retired']);

/**
 * Whether the lifecycle has decided a version: it ended in a final state, or in `approved` when
 * the model's policy leaves promotion to an admin (with promoteOnApproval the lifecycle goes on
 * to promote it, so `approved` is not yet the answer).
 */
export function isDecided(state: LifecycleState, promoteOnApproval: boolean): boolean {
  return DECIDED.has(state) || (state === 'approved' && !promoteOnApproval);
}

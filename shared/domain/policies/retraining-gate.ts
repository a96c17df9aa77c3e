/**
 * Whether a breach may raise a retraining request: one open request per model, and none within
 * the retraining policy's cooldown after the last one.
 */
import type { RetrainingRecord } from '../../schemas/monitoring';
import type { RetrainingPolicy } from '../../schemas/policies';
import { addIsoDuration, longestIsoDurationMs } from './duration';
import { lastProgress, presumedLostAfter, type RetrainingProgressBounds } from './retraining-staleness';

/** The states a request ends in: nothing works on it any more. */
export const CLOSED_REQUEST_STATES: readonly RetrainingRecord['state'][] = ['closed', 'failed'];

/** A request still being worked on (queued, training, or registered and waiting for its decision). */
export const isOpenRequest = (record: RetrainingRecord): boolean => !CLOSED_REQUEST_STATES.includes(record.state);

/**
 * The earliest request time whose cooldown can still run at `now`: a request made before it never
 * blocks by the cooldown, so the gate needs the open requests and those made since, not the model's
 * history. A month of the cooldown counts as 31 days here (the calendar's longest), so the bound
 * never cuts off a request whose cooldown, added by the calendar, still runs.
 */
export const cooldownReach = (policy: Pick<RetrainingPolicy, 'cooldown'>, now: Date): Date => new Date(now.getTime() - longestIsoDurationMs(policy.cooldown));

export type RetrainingGate = { allowed: true } | { allowed: false; blockedBy: string };

/**
 * The gate for the request `requestId` at `now`, given the model's retraining records. The
 * request's own record never blocks it: finding it means an earlier attempt stored the record and
 * may not have sent the message, so sending again (same message id) completes that attempt.
 * Requests presumed lost (retraining-staleness.ts) are to be failed before the gate is asked;
 * given the bounds, an open request that blocks says until when it can still make progress.
 */
export function retrainingGate(
  policy: RetrainingPolicy,
  records: readonly RetrainingRecord[],
  requestId: string,
  now: Date,
  bounds?: RetrainingProgressBounds,
): RetrainingGate {
  if (!policy.enabled) return { allowed: false, blockedBy: 'retraining is disabled by the model policy' };
  const others = records.filter((r) => r.requestId !== requestId);
  const open = others.find(isOpenRequest);
  if (open) {
    const lost = bounds ? presumedLostAfter(open, bounds) : undefined;
    const until = lost ? `; last progress ${lastProgress(open)}, presumed lost without progress after ${lost.at.toISOString()}` : '';
    return { allowed: false, blockedBy: `request ${open.requestId} is still open (${open.state}${until})` };
  }
  const last = Math.max(...others.map((r) => Date.parse(r.requestedAt)));
  if (Number.isFinite(last)) {
    const until = addIsoDuration(new Date(last), policy.cooldown);
    if (until.getTime() > now.getTime()) {
      return { allowed: false, blockedBy: `in the retraining cooldown (${policy.cooldown} after the last request) until ${until.toISOString()}` };
    }
  }
  return { allowed: true };
}

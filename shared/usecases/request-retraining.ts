import { cooldownReach, retrainingGate } from '../domain/policies/retraining-gate';
import type { RetrainingProgressBounds } from '../domain/policies/retraining-staleness';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';
import type { RetrainingQueue } from '../ports/retraining-queue';
import { everyDocument, type RunStore } from '../ports/run-store';
import { type RetrainingRequest, retrainingRequestId } from '../schemas/messages';
import type { MonitoringWindow, RetrainingRecord, WindowSpan } from '../schemas/monitoring';
import type { RetrainingPolicy } from '../schemas/policies';
import { failRequestsPresumedLost } from './retraining-records';

export interface RequestRetrainingDeps {
  runs: RunStore;
  queue: RetrainingQueue;
  events: EventPublisher;
  clock: Clock;
  /** How long an open request may go without progress before it is presumed lost (and failed). */
  retrainingBounds: RetrainingProgressBounds;
}

export interface RetrainingAsk {
  model: string;
  /** The champion whose monitoring raised it. */
  version: number;
  reason: RetrainingRequest['reason'];
  window: WindowSpan;
  policy: RetrainingPolicy;
  /**
   * The model's retraining records as known now, at least those the gate judges: every open
   * request, every one made since cooldownReach, and the request's own (gateRecords reads exactly
   * these). Those presumed lost are failed first.
   */
  records: readonly RetrainingRecord[];
  /** Drift statistics or metrics for the trainer and the audit trail. */
  evidence: Record<string, unknown>;
  now: Date;
}

export interface RetrainingAnswer {
  /** What to record on the window. */
  outcome: NonNullable<MonitoringWindow['retraining']>;
  /** Whether this call sent the message (a request found past `queued` is not sent again). */
  sent: boolean;
  /** The request's record, when there is one (stored now or found from an earlier attempt). */
  record?: RetrainingRecord;
}

/**
 * The model's retraining records the gate of the window's request judges at `now`: every open
 * request (one open request per model), every one made since the cooldown's reach (a request made
 * before it is past its cooldown), and the request's own record (a blocked window keeps its link to
 * the request it raised before), by id: queries, not the model's history of requests. One that
 * does not read and may be among them (its state or request time says so, or cannot be told)
 * fails the call, naming it: it may be the open request, so nothing is sent (fails closed).
 */
export async function gateRecords(runs: RunStore, ask: Pick<RetrainingAsk, 'model' | 'window' | 'policy' | 'now'>): Promise<RetrainingRecord[]> {
  const requestId = retrainingRequestId(ask.model, ask.window.id);
  const [listing, own] = await Promise.all([
    runs.retraining.listReadableOpenOrRequestedSince(ask.model, cooldownReach(ask.policy, ask.now)),
    runs.retraining.get(ask.model, requestId),
  ]);
  const records = everyDocument('retraining', ask.model, listing);
  if (own && !records.some((r) => r.requestId === requestId)) records.push(own.value);
  return records.sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));
}

/**
 * Raises the retraining request of a breaching window unless the gate blocks it (retraining off,
 * another request open, the cooldown). The record (state `queued`, id `retrain:{model}:{window}`)
 * is stored first, create-or-found, then the message goes out with the same id as message id: a
 * crash between the two is completed by the next attempt, and the queue's duplicate detection
 * drops the second send, so one window never yields two requests. Another request presumed lost
 * (open with no progress for longer than it could take: retraining-staleness.ts) is failed first
 * with the reason, so a request whose handler died, whose orchestration ended without recording
 * its end, or whose message was lost no longer holds off the model's retraining for good.
 */
export async function requestRetraining(deps: RequestRetrainingDeps, ask: RetrainingAsk): Promise<RetrainingAnswer> {
  const requestId = retrainingRequestId(ask.model, ask.window.id);
  const records = await failRequestsPresumedLost(deps, ask.records, deps.retrainingBounds, ask.now, requestId);
  const gate = retrainingGate(ask.policy, records, requestId, ask.now, deps.retrainingBounds);
  if (!gate.allowed) {
    // The window raised its request before (one per window): that stays what its breach did, so a
    // later breach of it (late actuals) does not overwrite the window's link to its request.
    const own = records.find((r) => r.requestId === requestId);
    if (own) return { outcome: { reason: own.reason, requestId }, record: own, sent: false };
    return { outcome: { reason: ask.reason, requestId: null, blockedBy: gate.blockedBy }, sent: false };
  }

  const { value: record } = await deps.runs.retraining.create(ask.model, requestId, {
    requestId,
    modelName: ask.model,
    version: ask.version,
    reason: ask.reason,
    windowId: ask.window.id,
    state: 'queued',
    requestedAt: ask.now.toISOString(),
  });
  const outcome = { reason: record.reason, requestId };
  // Past `queued`, the retraining trigger has the message: nothing left to send.
  if (record.state !== 'queued') return { outcome, record, sent: false };
  await deps.queue.enqueue({
    model: ask.model,
    version: record.version,
    reason: record.reason,
    window: { id: ask.window.id, start: ask.window.start, end: ask.window.end },
    requestedAt: record.requestedAt,
    evidence: ask.evidence,
    correlationId: requestId,
  });
  await deps.events.publish({
    eventId: `${ask.model}:retraining-requested:${ask.window.id}`,
    type: 'retraining.requested',
    model: ask.model,
    version: record.version,
    occurredAt: record.requestedAt,
    correlationId: requestId,
    data: { reason: record.reason, windowId: ask.window.id },
  });
  return { outcome, record, sent: true };
}

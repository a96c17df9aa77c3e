/**
 * When an open retraining request is presumed lost: it made no progress (no write on its record)
 * for longer than anything still working on it could take. Such a request would otherwise hold
 * off every later request of its model for good (retraining-gate.ts: one open request per model).
 */
import type { RetrainingRecord } from '../../schemas/monitoring';
import { isoDurationMs as ms } from './duration';

/** How long each kind of open request may go without progress, in milliseconds. */
export interface RetrainingProgressBounds {
  /** `queued`: its message may wait this long for the retraining trigger (RETRAINING_QUEUED_TIMEOUT). */
  queuedMs: number;
  /** `training` with the built-in trainer: every delivery of its message run to the function timeout. */
  builtinMs: number;
  /** `training` with a webhook trainer (`webhook`, `azureml`): the deliveries that start it, the job's post, then RETRAINING_WEBHOOK_TIMEOUT. */
  webhookMs: number;
}

/** What the bounds are derived from (shared/config.ts, host.json, the queue's properties). */
export interface RetrainingProgressSettings {
  /** RETRAINING_QUEUED_TIMEOUT (ISO 8601). */
  queuedTimeout: string;
  /** RETRAINING_WEBHOOK_TIMEOUT (ISO 8601). */
  webhookTimeout: string;
  /** host.json `functionTimeout`, as an ISO 8601 duration: one invocation's (and one activity's) limit. */
  functionTimeout: string;
  /** The retraining queue's lock duration: how long an abandoned or dead delivery holds the message. */
  lockDuration: string;
  /** The retraining queue's MaxDeliveryCount (RETRAINING_MAX_DELIVERY_COUNT). */
  maxDeliveryCount: number;
}

/** Attempts of a webhook retraining's activities (orchestrations/retraining: backoff(5 s, 6 attempts, 2 min cap)). */
const WEBHOOK_ACTIVITY_ATTEMPTS = 6;
const WEBHOOK_BACKOFF_CAP_MS = 120_000;

/**
 * The bounds: a built-in training runs in the trigger, each delivery up to the function timeout and
 * the next one after at most the lock duration, `maxDeliveryCount` deliveries in all; a webhook
 * training is started by those deliveries, posts the job (6 attempts, each up to the function
 * timeout, 2 minutes of backoff at most between them) and waits RETRAINING_WEBHOOK_TIMEOUT for
 * the report; a queued request waits RETRAINING_QUEUED_TIMEOUT (its message's time to live, after which the queue dead-letters it).
 */
export function retrainingProgressBounds(settings: RetrainingProgressSettings): RetrainingProgressBounds {
  const invocation = ms(settings.functionTimeout);
  const deliveries = settings.maxDeliveryCount * (invocation + ms(settings.lockDuration));
  return {
    queuedMs: ms(settings.queuedTimeout),
    builtinMs: deliveries,
    // The trigger marks the request `training` before it starts the orchestration: a delivery that
    // dies in between leaves the start to the next one, without a write.
    webhookMs: deliveries + WEBHOOK_ACTIVITY_ATTEMPTS * (invocation + WEBHOOK_BACKOFF_CAP_MS) + ms(settings.webhookTimeout),
  };
}

/** The record's last progress: its last write (`updatedAt`), else when it was requested. */
export const lastProgress = (record: RetrainingRecord): string => record.updatedAt ?? record.requestedAt;

/**
 * When an open request with no further progress is presumed lost, and why that bound; undefined
 * for a request that has none: `registered` (it waits for its version's lifecycle, which may wait
 * for an approver), `closed` and `failed`.
 */
export function presumedLostAfter(record: RetrainingRecord, bounds: RetrainingProgressBounds): { at: Date; why: string } | undefined {
  const since = Date.parse(lastProgress(record));
  if (record.state === 'queued') {
    return { at: new Date(since + bounds.queuedMs), why: 'its message was not taken by the retraining trigger (RETRAINING_QUEUED_TIMEOUT)' };
  }
  if (record.state !== 'training') return undefined;
  if (record.trainer === 'builtin') {
    return {
      at: new Date(since + bounds.builtinMs),
      why: 'the built-in trainer stopped without recording an outcome (every delivery of its message can have run to the function timeout)',
    };
  }
  return {
    at: new Date(since + bounds.webhookMs),
    why: `its ${record.trainer ?? 'webhook'} retraining ended without recording an outcome (the pipeline's report is past RETRAINING_WEBHOOK_TIMEOUT)`,
  };
}

/**
 * The reason to fail a request presumed lost at `now`, or undefined while it may still make
 * progress (or it is not open, or it has no bound).
 */
export function staleRequest(record: RetrainingRecord, bounds: RetrainingProgressBounds, now: Date): string | undefined {
  const after = presumedLostAfter(record, bounds);
  if (!after || now.getTime() <= after.at.getTime()) return undefined;
  return `no progress since ${lastProgress(record)}, presumed lost: ${after.why}`;
}

import { retrainingGate } from '../../../shared/domain/policies/retraining-gate';
import { presumedLostAfter, retrainingProgressBounds, staleRequest } from '../../../shared/domain/policies/retraining-staleness';
import type { RetrainingRecord } from '../../../shared/schemas/monitoring';
import { retrainingPolicySchema } from '../../../shared/schemas/policies';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The app's defaults: queued P1D, webhook P1D, functionTimeout 00:30:00, the queue's 5 min lock and 5 deliveries. */
const bounds = retrainingProgressBounds({ queuedTimeout: 'P1D', webhookTimeout: 'P1D', functionTimeout: 'PT30M', lockDuration: 'PT5M', maxDeliveryCount: 5 });

function aRequest(overrides: Partial<RetrainingRecord>): RetrainingRecord {
  return { requestId: 'retrain:m:20260601T0000Z', modelName: 'm', version: 1, reason: 'drift', windowId: '20260601T0000Z', state: 'queued', requestedAt: '2026-06-01T06:00:00.000Z', ...overrides };
}

const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs);

describe('retraining requests presumed lost', () => {
  it('when the bounds are derived from the settings, then built-in is every delivery to the function timeout plus the lock, webhook those deliveries, the post and the timeout', () => {
    expect(bounds).toEqual({ queuedMs: 24 * HOUR, builtinMs: 5 * 35 * MINUTE, webhookMs: 5 * 35 * MINUTE + 6 * 32 * MINUTE + 24 * HOUR });
  });

  it('when a built-in training made no progress for longer than every delivery could take, then it is stale, counted from its last write', () => {
    const record = aRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-01T07:00:00.000Z' });
    expect(staleRequest(record, bounds, at('2026-06-01T07:00:00.000Z', bounds.builtinMs))).toBeUndefined();
    expect(staleRequest(record, bounds, at('2026-06-01T07:00:00.000Z', bounds.builtinMs + 1))).toBe(
      'no progress since 2026-06-01T07:00:00.000Z, presumed lost: the built-in trainer stopped without recording an outcome (every delivery of its message can have run to the function timeout)',
    );
    expect(presumedLostAfter(record, bounds)?.at.toISOString()).toBe('2026-06-01T09:55:00.000Z');
  });

  it('when a webhook training waits, then it is stale only after the webhook timeout and the post', () => {
    for (const trainer of ['webhook', 'azureml']) {
      const record = aRequest({ state: 'training', trainer, updatedAt: '2026-06-01T07:00:00.000Z' });
      expect(staleRequest(record, bounds, at('2026-06-01T07:00:00.000Z', 24 * HOUR + 6 * HOUR))).toBeUndefined();
      expect(staleRequest(record, bounds, at('2026-06-01T07:00:00.000Z', bounds.webhookMs + 1))).toBe(
        `no progress since 2026-06-01T07:00:00.000Z, presumed lost: its ${trainer} retraining ended without recording an outcome (the pipeline's report is past RETRAINING_WEBHOOK_TIMEOUT)`,
      );
    }
  });

  it('when a queued request was never written again, then it is stale RETRAINING_QUEUED_TIMEOUT after it was requested', () => {
    const record = aRequest({});
    expect(staleRequest(record, bounds, new Date('2026-06-02T06:00:00.000Z'))).toBeUndefined();
    expect(staleRequest(record, bounds, new Date('2026-06-02T06:00:01.000Z'))).toMatch(/^no progress since 2026-06-01T06:00:00.000Z, presumed lost: its message was not taken/);
  });

  it('when a request is registered, closed or failed, then it is never stale (a registered one waits for its lifecycle, maybe an approver)', () => {
    for (const state of ['registered', 'closed', 'failed'] as const) {
      expect(staleRequest(aRequest({ state, trainer: 'builtin', resultVersion: 2 }), bounds, new Date('2027-01-01T00:00:00Z'))).toBeUndefined();
    }
  });

  it('when an open request blocks the gate, then the gate says until when it may still make progress', () => {
    const policy = retrainingPolicySchema.parse({ cooldown: 'PT0S' });
    const record = aRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-01T07:00:00.000Z' });
    expect(retrainingGate(policy, [record], 'retrain:m:20260602T0000Z', new Date('2026-06-01T08:00:00Z'), bounds)).toEqual({
      allowed: false,
      blockedBy: 'request retrain:m:20260601T0000Z is still open (training; last progress 2026-06-01T07:00:00.000Z, presumed lost without progress after 2026-06-01T09:55:00.000Z)',
    });
    expect(retrainingGate(policy, [{ ...record, state: 'registered', resultVersion: 2 }], 'retrain:m:20260602T0000Z', new Date('2026-06-01T08:00:00Z'), bounds)).toEqual({
      allowed: false,
      blockedBy: 'request retrain:m:20260601T0000Z is still open (registered)',
    });
  });
});

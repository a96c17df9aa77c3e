import '../../orchestrations/lifecycle/model-lifecycle';

import { LIFECYCLE_ACTIVITIES as A, MODEL_LIFECYCLE } from '../../orchestrations/lifecycle/names';
import type { LifecycleFacts } from '../../shared/schemas/lifecycle-orchestration';
import { sha } from '../support/builders';
import { type EpisodeResult, type OrchestrationHarness, orchestrationHarness } from '../support/orchestration-harness';

const ref = { model: 'churn', version: 3 };
const EVIDENCE = sha('evidence');
const START = new Date('2026-05-04T10:00:00Z');
const ok = (value: unknown) => ({ ok: true, value });
const facts = (state: LifecycleFacts['state'], approval: Partial<LifecycleFacts['approval']> = {}): LifecycleFacts => ({
  state,
  ...(state === 'pending_approval' ? { evidenceHash: EVIDENCE } : {}),
  approval: { timeout: 'P7D', autoApprove: false, promoteOnApproval: true, ...approval },
});
const pass = { decision: 'pass', reasons: [], evidenceHash: EVIDENCE, evidencePath: `evidence/churn/3/${EVIDENCE}.json` };

/** The one new activity call of an episode, checked by name. */
function called(step: EpisodeResult, name: string) {
  const action = step.newActions.find((a) => a.name === name);
  if (!action || action.taskId === null) throw new Error(`expected a call to ${name}, got ${JSON.stringify(step.newActions)}`);
  return action as { taskId: number; input?: unknown };
}

/** The lifecycle's last call: the retraining request that produced the version closes with its outcome. */
async function closesRetraining(h: OrchestrationHarness, step: EpisodeResult, outcome: string): Promise<EpisodeResult> {
  expect(step.isDone).toBe(false);
  const close = called(step, A.closeRetraining);
  expect(close.input).toEqual({ ...ref, outcome });
  return h.completeActivity(close.taskId, ok({ closed: [] }));
}

/** Runs a fresh version up to the approval wait; returns the harness and the timer's task id. */
async function untilPendingApproval(approval: Partial<LifecycleFacts['approval']> = {}): Promise<{ h: OrchestrationHarness; timer: number; step: EpisodeResult }> {
  const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
  let step = await h.start();
  step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', approval)));
  step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
  const validate = called(step, A.validate);
  expect(validate.input).toEqual({ ...ref, validatedAt: START.toISOString() });
  step = await h.completeActivity(validate.taskId, ok(pass));
  expect(called(step, A.recordValidation).input).toEqual({ ...ref, outcome: pass });
  step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE }));
  const timer = step.newActions.find((a) => a.kind === 'CreateTimer');
  return { h, timer: timer?.taskId ?? -1, step };
}

describe('modelLifecycle (replayed through the durable-functions SDK)', () => {
  it('when validation passes and a person approves, then the timer is cancelled and the version is promoted', async () => {
    const { h, step: waiting } = await untilPendingApproval();
    expect(waiting.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(waiting.newActions[1]?.fireAt).toEqual(new Date('2026-05-11T10:00:00Z'));
    expect(waiting.customStatus).toEqual({ step: 'pending_approval', state: 'pending_approval', evidenceHash: EVIDENCE, approvalDeadline: '2026-05-11T10:00:00.000Z' });

    let step = await h.advance(3_600_000).raiseEvent('approval', { decision: 'approved', by: 'bob' });
    expect(step.actions.find((a) => a.kind === 'CreateTimer')?.isCanceled).toBe(true);
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved')));
    expect(step.customStatus).toMatchObject({ step: 'promoting' });
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual({ ...ref, outcome: 'production', evidenceHash: EVIDENCE });
    expect(step.customStatus).toEqual({ step: 'done', state: 'production', evidenceHash: EVIDENCE });
  });

  it('when validation fails, then the lifecycle ends in validation_failed with the reasons and never waits', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered')));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    const failed = { ...pass, decision: 'fail', reasons: ['random: segment region=north: rmse 2 is 100% worse than overall 1 (allowed 20%)'] };
    step = await h.completeActivity(called(step, A.validate).taskId, ok(failed));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'validation_failed', evidenceHash: EVIDENCE }));
    step = await closesRetraining(h, step, 'validation_failed');
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual({ ...ref, outcome: 'validation_failed', evidenceHash: EVIDENCE, reasons: failed.reasons });
    expect(step.actions.some((a) => a.kind === 'WaitForExternalEvent')).toBe(false);
  });

  it('when validation fails for hundreds of reasons, then the custom status shows what fits in its 16 KB and says how many more there are; the output keeps them all', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered')));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    const reasons = Array.from({ length: 300 }, (_, i) => `kfold:${(i % 5) + 1}/5: segment store=${i}: rmse 2 is 100% worse than the champion's 1 on this segment (allowed 20%)`);
    step = await h.completeActivity(called(step, A.validate).taskId, ok({ ...pass, decision: 'fail', reasons }));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'validation_failed', evidenceHash: EVIDENCE }));
    step = await closesRetraining(h, step, 'validation_failed');
    expect(step.output).toMatchObject({ outcome: 'validation_failed', reasons });
    const status = step.customStatus as { reasons: string[] };
    expect(JSON.stringify(status).length * 2).toBeLessThanOrEqual(16 * 1024);
    expect(status.reasons.slice(0, -1)).toEqual(reasons.slice(0, status.reasons.length - 1));
    expect(status.reasons.at(-1)).toBe(`… ${300 - (status.reasons.length - 1)} more reason(s) in the lifecycle's output and the evidence`);
  });

  it.each([
    ['thousands of one-character reasons (quotes and commas count)', Array.from({ length: 4000 }, (_, i) => String(i % 10))],
    ['reasons full of characters JSON escapes (a segment value with control characters and quotes)', Array.from({ length: 40 }, (_, i) => `segment ${i}="${'\u0001"'.repeat(100)}"`)],
    ['one reason longer than the room, all of it escaped', [`${'\u0002'.repeat(5000)}`]],
  ])('when validation fails with %s, then the custom status JSON stays within 16 KB', async (_what, reasons) => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered')));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok({ ...pass, decision: 'fail', reasons }));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'validation_failed', evidenceHash: EVIDENCE }));
    step = await closesRetraining(h, step, 'validation_failed');
    expect(step.output).toMatchObject({ outcome: 'validation_failed', reasons });
    expect(JSON.stringify(step.customStatus).length * 2).toBeLessThanOrEqual(16 * 1024);
    expect((step.customStatus as { reasons: string[] }).reasons.length).toBeGreaterThan(0);
  });

  it('when nobody decides before the timeout, then the version expires', async () => {
    const { h, timer } = await untilPendingApproval({ timeout: 'PT1H' });
    let step = await h.fireTimer(timer);
    // The reason names the deadline and the timeout, for the version's history and the ledger.
    expect(called(step, A.expire).input).toEqual({ ...ref, reason: 'no decision by 2026-05-04T11:00:00.000Z: the approval timeout (policies.approval.timeout) is PT1H' });
    step = await h.completeActivity(called(step, A.expire).taskId, ok({ state: 'expired' }));
    step = await closesRetraining(h, step, 'expired');
    expect(step.output).toMatchObject({ outcome: 'expired' });
  });

  it('when an approval lands just as the timer fires, then expire finds it approved and the lifecycle promotes', async () => {
    const { h, timer } = await untilPendingApproval();
    let step = await h.fireTimer(timer);
    step = await h.completeActivity(called(step, A.expire).taskId, ok({ state: 'approved', evidenceHash: EVIDENCE }));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toMatchObject({ outcome: 'production' });
  });

  it.each(['rejected', 'retired'] as const)('when the version is %s while waiting, then the lifecycle ends there', async (state) => {
    const { h } = await untilPendingApproval();
    let step = await h.raiseEvent('approval', { decision: state, by: 'bob' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts(state)));
    step = await closesRetraining(h, step, state);
    expect(step.isDone).toBe(true);
    expect(step.output).toMatchObject({ outcome: state });
    expect(step.actions.some((a) => a.name === A.promote)).toBe(false);
  });

  it('when an event arrives but nothing was decided, then it waits again for the same deadline', async () => {
    const { h } = await untilPendingApproval();
    let step = await h.advance(60_000).raiseEvent('approval', { decision: 'approved', by: 'mallory' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('pending_approval')));
    const timers = step.actions.filter((a) => a.kind === 'CreateTimer');
    expect(timers).toHaveLength(2);
    expect(timers[1]?.fireAt).toEqual(timers[0]?.fireAt);
    expect(step.isDone).toBe(false);
    step = await h.raiseEvent('approval', { decision: 'approved', by: 'bob' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved')));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toMatchObject({ outcome: 'production' });
  });

  it('when the policy auto-approves, then the lifecycle approves itself and promotes without waiting', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', { autoApprove: true })));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok(pass));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE }));
    expect(called(step, A.autoApprove).input).toEqual({ ...ref, evidenceHash: EVIDENCE });
    step = await h.completeActivity(called(step, A.autoApprove).taskId, ok({ state: 'approved' }));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toMatchObject({ outcome: 'production' });
    expect(step.actions.some((a) => a.kind === 'WaitForExternalEvent')).toBe(false);
  });

  it('when the policy auto-approved as the lifecycle started but the model was updated since to wait for a person, then the version stays pending and the lifecycle waits for a decision by the deadline it was given', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', { autoApprove: true })));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok(pass));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE, pendingSince: START.toISOString() }));
    step = await h.completeActivity(called(step, A.autoApprove).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE, pendingSince: START.toISOString() }));
    expect(step.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(step.newActions[1]?.fireAt).toEqual(new Date('2026-05-11T10:00:00Z'));
    step = await h.advance(3_600_000).raiseEvent('approval', { decision: 'approved', by: 'bob' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved')));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toMatchObject({ outcome: 'production' });
  });

  it('when the policy auto-approves and an admin promotes another version at the same moment and wins, then the lifecycle ends approved with the reason, not failed', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', { autoApprove: true })));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok(pass));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE }));
    step = await h.completeActivity(called(step, A.autoApprove).taskId, ok({ state: 'approved', evidenceHash: EVIDENCE }));
    const lost = 'another champion change won the race while the lifecycle promoted version 3: version 2 is the champion (promote by root); version 3 stays approved: an admin promotes it with POST /models/churn/promote';
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'approved', evidenceHash: EVIDENCE, reason: lost }));
    step = await closesRetraining(h, step, 'approved');
    expect(step.isDone).toBe(true);
    expect(step.failed).toBeFalsy();
    expect(step.output).toEqual({ ...ref, outcome: 'approved', evidenceHash: EVIDENCE, reasons: [lost] });
    expect(step.customStatus).toEqual({ step: 'done', state: 'approved', evidenceHash: EVIDENCE, reasons: [lost] });
  });

  it('when the input carries a traceparent, then every activity input carries it (the output does not)', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: { ...ref, traceparent }, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', { autoApprove: true })));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok(pass));
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE }));
    step = await h.completeActivity(called(step, A.autoApprove).taskId, ok({ state: 'approved' }));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await h.completeActivity(called(step, A.closeRetraining).taskId, ok({ closed: [] }));
    expect(step.isDone).toBe(true);
    const calls = step.actions.filter((a) => a.kind === 'CallActivity' || a.kind === 'CallActivityWithRetry');
    expect(calls.map((a) => a.name)).toEqual([A.readVersion, A.startValidation, A.validate, A.recordValidation, A.autoApprove, A.promote, A.closeRetraining]);
    expect(calls.map((a) => (a.input as { traceparent?: string }).traceparent)).toEqual(calls.map(() => traceparent));
    expect(step.output).toEqual({ ...ref, outcome: 'production', evidenceHash: EVIDENCE });
  });

  it('when the policy leaves promotion to an admin, then an approved version stays approved', async () => {
    const { h } = await untilPendingApproval({ promoteOnApproval: false });
    let step = await h.raiseEvent('approval', { decision: 'approved', by: 'bob' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved', { promoteOnApproval: false })));
    step = await closesRetraining(h, step, 'approved');
    expect(step.output).toMatchObject({ outcome: 'approved' });
  });

  it('when the instance is started for a version already waiting, then it skips validation and waits', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('pending_approval')));
    expect(step.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(step.actions.some((a) => a.name === A.validate)).toBe(false);
  });

  it('when the instance is started again for a version pending for two days (its instance was terminated), then it waits only for what is left of the timeout, from the version\'s own time', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: { ...ref, reason: 'restarted' }, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok({ ...facts('pending_approval'), pendingSince: '2026-05-02T10:00:00.000Z' }));
    expect(step.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(step.newActions[1]?.fireAt).toEqual(new Date('2026-05-09T10:00:00Z'));
    expect(step.customStatus).toMatchObject({ step: 'pending_approval', approvalDeadline: '2026-05-09T10:00:00.000Z' });
    step = await h.raiseEvent('approval', { decision: 'approved', by: 'bob' });
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved')));
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production' }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toMatchObject({ outcome: 'production' });
  });

  it('when the instance is started again for a version already approved (its lifecycle ended before promoting it), then it promotes it at once, neither validating nor waiting; a lost race leaves it approved with the reason', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: { ...ref, reason: 'restarted' }, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok({ ...facts('approved'), evidenceHash: EVIDENCE }));
    expect(called(step, A.promote).input).toEqual(ref);
    expect(step.customStatus).toEqual({ step: 'promoting', state: 'approved' });
    step = await h.completeActivity(called(step, A.promote).taskId, ok({ state: 'production', evidenceHash: EVIDENCE }));
    step = await closesRetraining(h, step, 'production');
    expect(step.output).toEqual({ ...ref, outcome: 'production', evidenceHash: EVIDENCE });
    expect(step.actions.filter((a) => a.kind === 'CallActivity' || a.kind === 'CallActivityWithRetry').map((a) => a.name)).toEqual([A.readVersion, A.promote, A.closeRetraining]);
    expect(step.actions.some((a) => a.kind === 'WaitForExternalEvent' || a.kind === 'CreateTimer')).toBe(false);

    const lost = 'another champion change won the race while the lifecycle promoted version 3';
    const again = orchestrationHarness(MODEL_LIFECYCLE, { input: { ...ref, reason: 'restarted' }, startTime: START });
    step = await again.start();
    step = await again.completeActivity(called(step, A.readVersion).taskId, ok(facts('approved')));
    step = await again.completeActivity(called(step, A.promote).taskId, ok({ state: 'approved', reason: lost }));
    step = await closesRetraining(again, step, 'approved');
    expect(step.output).toEqual({ ...ref, outcome: 'approved', reasons: [lost] });
  });

  it('when the instance is started again for a version whose approval deadline has passed, then it expires at once without waiting', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: { ...ref, reason: 'restarted' }, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok({ ...facts('pending_approval'), pendingSince: '2026-04-20T10:00:00.000Z' }));
    expect(step.newActions.map((a) => a.kind)).not.toContain('WaitForExternalEvent');
    expect(called(step, A.expire).input).toEqual({ ...ref, reason: expect.stringMatching(/^no decision by 2026-04-2\dT10:00:00\.000Z: the approval timeout \(policies\.approval\.timeout\) is P/) });
    step = await h.completeActivity(called(step, A.expire).taskId, ok({ state: 'expired', evidenceHash: EVIDENCE }));
    step = await closesRetraining(h, step, 'expired');
    expect(step.output).toMatchObject({ outcome: 'expired' });
    expect(step.actions.some((a) => a.kind === 'CreateTimer')).toBe(false);
  });

  it('when validation moves a fresh version into pending_approval, then the deadline runs from that transition (its pendingSince), the time the approval watch counts from, through replays to the expiry', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered', { timeout: 'PT1H' })));
    step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
    step = await h.completeActivity(called(step, A.validate).taskId, ok(pass));
    // The registry wrote the transition 10 ms before this episode's clock.
    step = await h.completeActivity(called(step, A.recordValidation).taskId, ok({ state: 'pending_approval', evidenceHash: EVIDENCE, pendingSince: '2026-05-04T09:59:59.990Z' }));
    expect(step.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(step.newActions[1]?.fireAt).toEqual(new Date('2026-05-04T10:59:59.990Z'));
    expect(step.customStatus).toMatchObject({ step: 'pending_approval', approvalDeadline: '2026-05-04T10:59:59.990Z' });
    step = await h.fireTimer(step.newActions[1]!.taskId!);
    expect(called(step, A.expire).input).toEqual({ ...ref, reason: 'no decision by 2026-05-04T10:59:59.990Z: the approval timeout (policies.approval.timeout) is PT1H' });
  });

  it('when a fresh version\'s recorded validation result carries no pendingSince (histories recorded before it), then the deadline runs from the wait\'s own clock, so the same timer replays', async () => {
    const { step } = await untilPendingApproval();
    expect(step.newActions[1]?.fireAt).toEqual(new Date('2026-05-11T10:00:00Z'));
  });

  it('when the facts of a version already waiting carry no pendingSince (histories recorded before it), then the deadline runs from the start, as it did', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('pending_approval')));
    expect(step.newActions[1]?.fireAt).toEqual(new Date('2026-05-11T10:00:00Z'));
  });

  it('when closing the retraining request fails for good, then the lifecycle still ends with its outcome', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('validation_failed')));
    step = await h.completeActivity(called(step, A.closeRetraining).taskId, { ok: false, code: 'NOT_FOUND', message: 'gone' });
    expect(step.isDone).toBe(true);
    expect(step.output).toMatchObject({ outcome: 'validation_failed' });
  });

  it('when closing the retraining request keeps failing on an outage, then after the retries the lifecycle still ends', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('rejected')));
    let attempt = called(step, A.closeRetraining).taskId;
    for (let i = 1; i <= 6; i += 1) {
      step = await h.failActivity(attempt, 'Cosmos DB unavailable');
      step = await h.fireTimer(step.retryTimer!.taskId);
      if (i < 6) attempt = step.retryAttempt!;
    }
    expect(step.retryAttempt).toBeUndefined();
    expect(step.isDone).toBe(true);
    expect(step.output).toMatchObject({ outcome: 'rejected' });
  });

  describe('when validation cannot be completed', () => {
    /** Fails `taskId` (an attempt of a call retried for outages) on every attempt; answers the episode after the last. */
    async function failEveryAttempt(h: OrchestrationHarness, taskId: number, message: string): Promise<EpisodeResult> {
      let attempt = taskId;
      let step: EpisodeResult | undefined;
      for (let i = 1; i <= 6; i += 1) {
        step = await h.failActivity(attempt, message);
        step = await h.fireTimer(step.retryTimer!.taskId);
        if (i < 6) attempt = step.retryAttempt!;
      }
      expect(step!.retryAttempt).toBeUndefined();
      return step!;
    }

    async function untilValidating(): Promise<{ h: OrchestrationHarness; step: EpisodeResult }> {
      const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
      let step = await h.start();
      step = await h.completeActivity(called(step, A.readVersion).taskId, ok(facts('registered')));
      step = await h.completeActivity(called(step, A.startValidation).taskId, ok({ state: 'validating' }));
      return { h, step };
    }

    const crashed = "Activity function 'lifecycleValidate' failed: onnxruntime: Load model from models/churn/3/model.onnx failed";

    it('when validate fails for good after its outage retries, then the version fails validation with the reason and the lifecycle completes so', async () => {
      const { h, step: validating } = await untilValidating();
      let step = await failEveryAttempt(h, called(validating, A.validate).taskId, 'onnxruntime: Load model from models/churn/3/model.onnx failed');
      expect(step.failed).toBe(false);
      const fail = called(step, A.failValidation);
      const reason = `validation could not be completed: ${crashed}`;
      expect(fail.input).toEqual({ ...ref, reason });
      step = await h.completeActivity(fail.taskId, ok({ state: 'validation_failed' }));
      step = await closesRetraining(h, step, 'validation_failed');
      expect(step.isDone).toBe(true);
      expect(step.output).toEqual({ ...ref, outcome: 'validation_failed', reasons: [reason] });
      expect(step.customStatus).toEqual({ step: 'done', state: 'validation_failed', reasons: [reason] });
      expect(step.actions.some((a) => a.name === A.recordValidation || a.kind === 'WaitForExternalEvent')).toBe(false);
    });

    it('when validate reports an expected failure, then the version fails validation naming its code', async () => {
      const { h, step: validating } = await untilValidating();
      let step = await h.completeActivity(called(validating, A.validate).taskId, { ok: false, code: 'PAYLOAD_TOO_LARGE', message: 'the evidence is too large' });
      const fail = called(step, A.failValidation);
      expect(fail.input).toEqual({ ...ref, reason: 'validation could not be completed: PAYLOAD_TOO_LARGE: the evidence is too large' });
      step = await h.completeActivity(fail.taskId, ok({ state: 'validation_failed' }));
      step = await closesRetraining(h, step, 'validation_failed');
      expect(step.output).toMatchObject({ outcome: 'validation_failed' });
    });

    it('when the validation ran but recording its outcome fails for good, then the version fails validation with the reason and the evidence', async () => {
      const { h, step: validating } = await untilValidating();
      let step = await h.completeActivity(called(validating, A.validate).taskId, ok(pass));
      step = await failEveryAttempt(h, called(step, A.recordValidation).taskId, 'Cosmos DB unavailable');
      const fail = called(step, A.failValidation);
      const reason = "validation could not be completed: Activity function 'lifecycleRecordValidation' failed: Cosmos DB unavailable";
      expect(fail.input).toEqual({ ...ref, reason, evidenceHash: EVIDENCE });
      step = await h.completeActivity(fail.taskId, ok({ state: 'validation_failed', evidenceHash: EVIDENCE }));
      step = await closesRetraining(h, step, 'validation_failed');
      expect(step.output).toEqual({ ...ref, outcome: 'validation_failed', evidenceHash: EVIDENCE, reasons: [reason] });
    });

    it('when a person retired the version meanwhile, then the lifecycle ends retired without the reason', async () => {
      const { h, step: validating } = await untilValidating();
      let step = await failEveryAttempt(h, called(validating, A.validate).taskId, 'onnxruntime crashed');
      step = await h.completeActivity(called(step, A.failValidation).taskId, ok({ state: 'retired' }));
      step = await closesRetraining(h, step, 'retired');
      expect(step.output).toEqual({ ...ref, outcome: 'retired' });
    });

    it('when recording the failure fails too, then the lifecycle fails with the first error, as before', async () => {
      const { h, step: validating } = await untilValidating();
      let step = await failEveryAttempt(h, called(validating, A.validate).taskId, 'onnxruntime crashed');
      step = await h.completeActivity(called(step, A.failValidation).taskId, { ok: false, code: 'VERSION_NOT_FOUND', message: "model 'churn' has no version 3" });
      expect(step.failed).toBe(true);
      expect(step.error).toMatch(/Activity function 'lifecycleValidate' failed: onnxruntime crashed/);
      expect(step.error).not.toMatch(/VERSION_NOT_FOUND/);
      expect(step.actions.some((a) => a.name === A.closeRetraining)).toBe(false);
    });
  });

  it('when an activity fails transiently, then it is retried after a backoff timer', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    const first = await h.start();
    const failed = await h.failActivity(called(first, A.readVersion).taskId, 'Cosmos DB unavailable');
    expect(failed.retryTimer?.fireAt).toEqual(new Date(START.getTime() + 2000));
    const fired = await h.fireTimer(failed.retryTimer!.taskId);
    const step = await h.completeActivity(fired.retryAttempt!, ok(facts('registered')));
    expect(called(step, A.startValidation).input).toEqual(ref);
  });

  it('when an activity reports an expected failure, then the lifecycle fails with its code and message, without retrying', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: ref, startTime: START });
    const first = await h.start();
    const step = await h.completeActivity(called(first, A.readVersion).taskId, { ok: false, code: 'VERSION_NOT_FOUND', message: "model 'churn' has no version 3" });
    expect(step.failed).toBe(true);
    expect(step.error).toMatch(/VERSION_NOT_FOUND: model 'churn' has no version 3/);
  });

  it('when the input is not a version reference, then the lifecycle fails naming the field', async () => {
    const h = orchestrationHarness(MODEL_LIFECYCLE, { input: { model: 'Bad Name', version: 0 } });
    const step = await h.start();
    expect(step.failed).toBe(true);
    expect(step.error).toMatch(/invalid lifecycle input[\s\S]*model[\s\S]*version/);
  });
});

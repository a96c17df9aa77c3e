import '../../orchestrations/retraining/webhook-retraining';

import { RETRAINING_ACTIVITIES as A,WEBHOOK_RETRAINING } from '../../orchestrations/retraining/names';
import { aRetrainingRequest } from '../support/labelled-data';
import { type EpisodeResult, type OrchestrationHarness, orchestrationHarness } from '../support/orchestration-harness';

const REQUEST_ID = 'retrain:churn:20260601T0000Z';
const input = { requestId: REQUEST_ID, model: 'churn', request: aRetrainingRequest('churn', 3, '20260601T0000Z') };
const ref = { requestId: REQUEST_ID, model: 'churn' };
const START = new Date('2026-06-02T08:00:00Z');
const ok = (value: unknown) => ({ ok: true, value });

function called(step: EpisodeResult, name: string) {
  const action = step.newActions.find((a) => a.name === name);
  if (!action || action.taskId === null) throw new Error(`expected a call to ${name}, got ${JSON.stringify(step.newActions)}`);
  return action as { taskId: number; input?: unknown };
}

/** Posts the job (the activity answers a one-day timeout) and reaches the wait. */
async function untilWaiting(): Promise<{ h: OrchestrationHarness; step: EpisodeResult }> {
  const h = orchestrationHarness(WEBHOOK_RETRAINING, { input, instanceId: REQUEST_ID, startTime: START });
  let step = await h.start();
  expect(called(step, A.submit).input).toEqual(input);
  step = await h.completeActivity(called(step, A.submit).taskId, ok({ timeout: 'P1D' }));
  return { h, step };
}

describe('retraining with a webhook trainer (replayed through the durable-functions SDK)', () => {
  it('when the pipeline reports the version it registered, then the timer is cancelled and the result is recorded', async () => {
    const { h, step: waiting } = await untilWaiting();
    expect(waiting.newActions.map((a) => a.kind)).toEqual(['WaitForExternalEvent', 'CreateTimer']);
    expect(waiting.newActions[1]?.fireAt).toEqual(new Date('2026-06-03T08:00:00Z'));
    expect(waiting.customStatus).toEqual({ step: 'waiting', deadline: '2026-06-03T08:00:00.000Z' });

    let step = await h.advance(3_600_000).raiseEvent('retrainingComplete', { outcome: 'registered', version: 4 });
    expect(step.actions.find((a) => a.kind === 'CreateTimer')?.isCanceled).toBe(true);
    expect(called(step, A.recordResult).input).toEqual({ ...ref, version: 4 });
    step = await h.completeActivity(called(step, A.recordResult).taskId, ok({ state: 'registered' }));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual({ ...ref, outcome: 'registered', resultVersion: 4 });
  });

  it('when the input carries a traceparent, then every activity input carries it (the output does not)', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const h = orchestrationHarness(WEBHOOK_RETRAINING, { input: { ...input, traceparent }, instanceId: REQUEST_ID, startTime: START });
    let step = await h.start();
    expect(called(step, A.submit).input).toEqual({ ...input, traceparent });
    step = await h.completeActivity(called(step, A.submit).taskId, ok({ timeout: 'P1D' }));
    step = await h.raiseEvent('retrainingComplete', { outcome: 'registered', version: 4 });
    expect(called(step, A.recordResult).input).toEqual({ ...ref, version: 4, traceparent });
    step = await h.completeActivity(called(step, A.recordResult).taskId, ok({ state: 'registered' }));
    expect(step.output).toEqual({ ...ref, outcome: 'registered', resultVersion: 4 });
  });

  it('when the pipeline reports a failure, then the request fails with its words', async () => {
    const { h } = await untilWaiting();
    let step = await h.raiseEvent('retrainingComplete', { outcome: 'failed', error: 'cluster quota exceeded' });
    expect(called(step, A.recordFailure).input).toEqual({ ...ref, error: 'the training pipeline failed: cluster quota exceeded' });
    step = await h.completeActivity(called(step, A.recordFailure).taskId, ok({ state: 'failed' }));
    expect(step.output).toMatchObject({ outcome: 'failed', error: 'the training pipeline failed: cluster quota exceeded' });
  });

  it('when the report is not a completion, then the request fails saying so instead of guessing', async () => {
    const { h } = await untilWaiting();
    const step = await h.raiseEvent('retrainingComplete', { version: 'four' });
    expect(called(step, A.recordFailure).input).toEqual({ ...ref, error: 'the training pipeline failed: its report was unreadable' });
  });

  it('when nobody reports before the timeout, then the request fails naming it', async () => {
    const { h, step: waiting } = await untilWaiting();
    let step = await h.fireTimer(waiting.newActions[1]!.taskId!);
    expect(called(step, A.recordFailure).input).toEqual({ ...ref, error: 'the training pipeline did not report within P1D' });
    step = await h.completeActivity(called(step, A.recordFailure).taskId, ok({ state: 'failed' }));
    expect(step.isDone).toBe(true);
    expect(step.customStatus).toEqual({ step: 'done', outcome: 'failed' });
  });

  it('when the webhook refuses the job, then the request fails at once without waiting', async () => {
    const h = orchestrationHarness(WEBHOOK_RETRAINING, { input, instanceId: REQUEST_ID, startTime: START });
    let step = await h.start();
    step = await h.completeActivity(called(step, A.submit).taskId, { ok: false, code: 'VALIDATION_ERROR', message: 'the training webhook refused the job: 400 Bad Request' });
    expect(called(step, A.recordFailure).input).toEqual({
      ...ref,
      error: 'the training webhook did not take the job: VALIDATION_ERROR: the training webhook refused the job: 400 Bad Request',
    });
    expect(step.actions.some((a) => a.kind === 'WaitForExternalEvent')).toBe(false);
  });

  it('when the webhook is down, then the post is retried with backoff before the request fails', async () => {
    const h = orchestrationHarness(WEBHOOK_RETRAINING, { input, instanceId: REQUEST_ID, startTime: START });
    const first = await h.start();
    let attempt = called(first, A.submit).taskId;
    let step = first;
    for (let i = 1; i <= 6; i += 1) {
      step = await h.failActivity(attempt, 'connect ECONNREFUSED');
      if (i === 1) expect(step.retryTimer?.fireAt).toEqual(new Date(START.getTime() + 5000));
      step = await h.fireTimer(step.retryTimer!.taskId);
      if (i < 6) attempt = step.retryAttempt!;
    }
    expect(called(step, A.recordFailure).input).toMatchObject({ ...ref, error: expect.stringMatching(/^the training webhook did not take the job: .*ECONNREFUSED/) });
    // The reason only: not the details (the activity's stack) the SDK appends to the error's message.
    expect(called(step, A.recordFailure).input).toMatchObject({ error: "the training webhook did not take the job: Activity function 'retrainingSubmit' failed: connect ECONNREFUSED" });
  });

  it('when the input is not a request, then the orchestration fails naming the field', async () => {
    const h = orchestrationHarness(WEBHOOK_RETRAINING, { input: { requestId: 'nope', model: 'churn' } });
    const step = await h.start();
    expect(step.failed).toBe(true);
    expect(step.error).toMatch(/invalid retraining input[\s\S]*requestId/);
  });
});

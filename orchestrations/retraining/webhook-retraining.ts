import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';

import { parseOrThrow } from '../../shared/domain/errors';
import { addIsoDuration } from '../../shared/domain/policies/duration';
import {
  RETRAINING_COMPLETE_EVENT,
  retrainingCompletionSchema,
  retrainingInputSchema,
  type RetrainingSubmitted,
} from '../../shared/schemas/retraining';
import { pipelineFailure } from '../../shared/usecases/retraining-records';
import { backoff, callActivity, carriedTrace, failureReason } from '../activity';
import { recordFailure, recordResult, submit } from './activities';
import { WEBHOOK_RETRAINING } from './names';

/** Outages (the webhook, Cosmos DB) are retried with backoff: 5 s, 10 s, 20 s, ... up to 6 attempts. */
const retry = backoff(5000, 6, 120_000);

type Step = Generator<df.Task, unknown, unknown>;

const run = <T>(activity: df.RegisteredActivity, input: unknown) => callActivity<T>(activity, input, retry);

/**
 * A webhook retraining: posts the job to the external pipeline, then waits for its report (the
 * `retrainingComplete` event, raised by `POST .../retraining/{requestId}/complete`) raced against
 * the timeout; the losing timer is cancelled. The report, a failure, or the timeout is recorded
 * on the request. The version the pipeline registered runs its own modelLifecycle, whose end
 * closes the request.
 */
function* webhookRetraining(context: OrchestrationContext): Step {
  const input = parseOrThrow(retrainingInputSchema, context.df.getInput(), 'retraining input');
  const ref = { requestId: input.requestId, model: input.model };
  // Activity inputs carry the trace of the retraining trigger that started the run (submit's is the whole input).
  const traced = { ...ref, ...carriedTrace(input) };
  const log = (message: string) => {
    if (!context.df.isReplaying) context.log(`[${context.df.instanceId}] ${message}`);
  };
  function* fail(reason: string): Step {
    yield* run(recordFailure, { ...traced, error: reason });
    log(reason);
    context.df.setCustomStatus({ step: 'done', outcome: 'failed' });
    return { ...ref, outcome: 'failed', error: reason };
  }

  let submitted: RetrainingSubmitted;
  try {
    context.df.setCustomStatus({ step: 'submitting' });
    submitted = yield* run<RetrainingSubmitted>(submit, input);
  } catch (error) {
    return yield* fail(`the training webhook did not take the job: ${failureReason(error)}`);
  }
  const deadline = addIsoDuration(context.df.currentUtcDateTime, submitted.timeout);
  context.df.setCustomStatus({ step: 'waiting', deadline: deadline.toISOString() });
  const report = context.df.waitForExternalEvent(RETRAINING_COMPLETE_EVENT);
  const timeout = context.df.createTimer(deadline);
  const winner = yield context.df.Task.any([report, timeout]);
  if (winner !== report) return yield* fail(`the training pipeline did not report within ${submitted.timeout}`);
  timeout.cancel();
  const parsed = retrainingCompletionSchema.safeParse(report.result);
  const completion = parsed.success ? parsed.data : { outcome: 'failed' as const, error: 'its report was unreadable' };
  if (completion.outcome === 'failed') return yield* fail(pipelineFailure(completion.error));
  const { state } = yield* run<{ state: string }>(recordResult, { ...traced, version: completion.version });
  log(`the training pipeline registered v${completion.version}: ${state}`);
  context.df.setCustomStatus({ step: 'done', outcome: state, resultVersion: completion.version });
  return { ...ref, outcome: state, resultVersion: completion.version };
}

df.app.orchestration(WEBHOOK_RETRAINING, webhookRetraining);

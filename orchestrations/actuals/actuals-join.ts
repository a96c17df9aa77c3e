import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';

import { actualsIdOf } from '../../shared/domain/actuals';
import { parseOrThrow } from '../../shared/domain/errors';
import { actualsJoinInputSchema, type ActualsJoinOutput, type ActualsPlanResult, type BucketSummary } from '../../shared/schemas/actuals';
import type { RevalidationInput } from '../../shared/schemas/lifecycle-orchestration';
import { activityValue, callActivity, carriedTrace, failureReason, outageRetry } from '../activity';
import { REVALIDATE_CHAMPION, revalidationInstanceId } from '../lifecycle/names';
import { findRevalidation } from '../lifecycle/revalidation';
import { complete, fail, joinBucket, plan, updateWindow } from './activities';
import { lateMatchForJoin } from './late-match';
import { ACTUALS_JOIN } from './names';

// An activity's expected failure (a DomainError) fails the join with that reason.
const call = callActivity;

/** Calls `activity` for every input, at most `parallelism` at a time, results in input order. */
function* fanOut<T>(context: OrchestrationContext, activity: df.RegisteredActivity, inputs: unknown[], parallelism: number): Generator<df.Task, T[], unknown> {
  const out: T[] = [];
  for (let first = 0; first < inputs.length; first += parallelism) {
    const tasks = inputs.slice(first, first + parallelism).map((input) => activity(input).withRetry(outageRetry));
    const results = (yield context.df.Task.all(tasks)) as unknown[];
    out.push(...results.map((r) => activityValue<T>(r)));
  }
  return out;
}

/**
 * When the file labelled a segment value the champion's validation data never had, the champion
 * is validated again with those rows (a sub-orchestration, one per version and file). The join is
 * complete either way: a failed revalidation is logged here and shown by its own instance.
 */
function* revalidateOnNewFlavours(
  context: OrchestrationContext,
  join: { model: string; actualsId: string; traceparent?: string },
  log: (message: string) => void,
): Generator<df.Task, void, unknown> {
  const { model, actualsId } = join;
  try {
    const found = yield* call<RevalidationInput | null>(findRevalidation, join);
    if (!found) return;
    log(`labelled new segment value(s) ${found.newSegments.join(', ')}: revalidating the champion v${found.version}`);
    context.df.setCustomStatus({ step: 'revalidating', version: found.version });
    // The sub-orchestration continues the join's trace, as its activities do.
    const input: RevalidationInput = { ...found, ...carriedTrace(join) };
    yield context.df.callSubOrchestrator(REVALIDATE_CHAMPION, input, revalidationInstanceId(model, found.version, actualsId));
  } catch (error) {
    log(`revalidation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Joins one actuals file version to the stored predictions: plan (record, runs to search, hash
 * buckets) -> join each bucket (bounded memory each, `parallelism` at a time) -> place each
 * window's labelled file and refresh the window's realised performance -> complete the record
 * and publish `run.completed` -> revalidate the champion when new segment values were labelled ->
 * match unmatched actuals late against runs that completed after the plan. A failure that outlasts the retries (or a bad file or model)
 * records the join as failed and publishes `run.failed`.
 */
function* actualsJoin(context: OrchestrationContext): Generator<df.Task, ActualsJoinOutput, unknown> {
  const input = parseOrThrow(actualsJoinInputSchema, context.df.getInput(), 'actuals join input');
  const actualsId = actualsIdOf(input.path, input.etag);
  const instanceId = context.df.instanceId;
  const now = () => context.df.currentUtcDateTime.toISOString();
  const log = (message: string) => {
    if (!context.df.isReplaying) context.log(`[${instanceId}] ${input.model} ${input.path}: ${message}`);
  };
  try {
    const planned = yield* call<ActualsPlanResult>(plan, { ...input, instanceId, at: now() });
    if (planned.outcome !== 'planned') {
      log(planned.outcome === 'done' ? `already ${planned.state}` : 'superseded by a newer version of the blob');
      return { actualsId, outcome: planned.outcome };
    }
    for (const skipped of planned.skippedRuns ?? []) {
      if (!context.df.isReplaying) context.warn(`[${instanceId}] ${input.model} ${input.path}: run ${skipped.runId} left out of the join: ${skipped.reason}`);
    }
    // Every step's input carries the trace of the blob trigger that started the join.
    const join = { model: input.model, actualsId, ...carriedTrace(input) };
    context.df.setCustomStatus({ step: 'joining', buckets: planned.buckets });
    const buckets = Array.from({ length: planned.buckets }, (_, bucket) => ({ ...join, bucket }));
    const summaries = yield* fanOut<BucketSummary>(context, joinBucket, buckets, planned.parallelism);
    const windows = [...new Set(summaries.flatMap((s) => s.windows.map((w) => w.windowId)))].sort();
    context.df.setCustomStatus({ step: 'windows', windows: windows.length });
    yield* fanOut(context, updateWindow, windows.map((windowId) => ({ ...join, windowId })), planned.parallelism);
    yield* call(complete, { ...join, summaries, completedAt: now() });
    log(`joined: ${summaries.reduce((s, b) => s + b.matched, 0)} matched, ${windows.length} window(s)`);
    yield* revalidateOnNewFlavours(context, join, log);
    // Runs that completed after the plan listed runs may hold predictions of its unmatched actuals.
    context.df.setCustomStatus({ step: 'late-matching' });
    yield* lateMatchForJoin(context, join, log);
    context.df.setCustomStatus({ step: 'done' });
    return { actualsId, outcome: 'completed' };
  } catch (error) {
    const message = failureReason(error);
    log(`failed: ${message}`);
    yield* call(fail, { ...input, actualsId, instanceId, error: message, at: now() });
    context.df.setCustomStatus({ step: 'failed' });
    return { actualsId, outcome: 'failed', error: message };
  }
}

df.app.orchestration(ACTUALS_JOIN, actualsJoin);

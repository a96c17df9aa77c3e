import type { OrchestrationContext } from 'durable-functions';
import * as df from 'durable-functions';

import { parseOrThrow } from '../../shared/domain/errors';
import { activityResultSchema } from '../../shared/schemas/lifecycle-orchestration';
import { batchInputSchema } from '../../shared/schemas/monitoring';
import type { PlannedChunk, ScoredChunk } from '../../shared/usecases/batch-inference';
import { carriedTrace, failureReason } from '../activity';
import { lateMatchForRun } from '../actuals/late-match';
import { statusText } from '../custom-status';
import { completeBatchRun, failBatchRun, planBatchRun, scoreBatchChunk, startBatchRun, type summaryOf } from './activities';
import { BATCH_INFERENCE, batchInstanceId, CHAMPION_CHANGED_EVENT } from './names';

/** Outages are retried: 5 s, 10 s, 20 s, 40 s (4 attempts); a chunk that still fails fails the run. */
const retry = new df.RetryOptions(5000, 4);
retry.backoffCoefficient = 2;

type RunSummary = ReturnType<typeof summaryOf>;

/**
 * The custom status of an ended run: its summary with the windows counted, not listed, and the
 * error cut to 2000 characters of JSON. Both grow with the data (a drop spanning a month of hourly
 * windows lists 720 ids, 13.7 KB of JSON), and a custom status over 16 KB of UTF-16 JSON fails the
 * orchestration after the run was recorded. The output keeps them whole.
 */
function doneStatus(summary: RunSummary) {
  const { windows, error, ...rest } = summary;
  return { step: 'done', ...rest, windows: windows.length, ...(error === undefined ? {} : { error: statusText(error, 2000) }) };
}

/** An activity's value, or its expected failure as an Error (handled by the caller). */
function* call<T>(task: df.Task): Generator<df.Task, T, unknown> {
  const result = activityResultSchema.parse(yield task);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.value as T;
}

/**
 * Scores the chunks in waves of at most `width` (Task.all per wave). Not a sliding window: a
 * Task.any over tasks already yielded in an earlier Task.any makes the out-of-process protocol
 * schedule them again (azure-functions-durable-js issue 574), so every wave holds fresh tasks
 * only. The planner cuts chunks of even size, so waves finish together. Results in chunk order.
 */
function* fanOut(context: OrchestrationContext, chunks: PlannedChunk[], width: number, score: (c: PlannedChunk) => df.Task): Generator<df.Task, ScoredChunk[], unknown> {
  const results: ScoredChunk[] = [];
  for (let start = 0; start < chunks.length; start += width) {
    const wave = chunks.slice(start, start + width);
    let outcomes: unknown[];
    try {
      outcomes = (yield context.df.Task.all(wave.map(score))) as unknown[];
    } catch (error) {
      throw new Error(`a chunk of ${wave[0]!.source} failed: ${failureReason(error)}`);
    }
    outcomes.forEach((outcome, i) => {
      const result = activityResultSchema.parse(outcome);
      const chunk = wave[i]!;
      if (!result.ok) throw new Error(`chunk ${chunk.part} of ${chunk.source}: ${result.code}: ${result.message}`);
      results.push(result.value as ScoredChunk);
    });
    context.df.setCustomStatus({ step: 'scoring', chunks: chunks.length, scored: results.length });
  }
  return results;
}

/**
 * Scores one data drop (or, scheduled, what accumulated): record the run and pin the champion
 * (waiting for one if there is none yet), plan chunks, fan out `batchScoreChunk` with bounded
 * parallelism and retries, fan in (window profiles, predictions manifest, counts, flavours). A
 * chunk that fails for good fails the run with the reason; its manifest is then never written, so
 * no half-written predictions count as complete. A completed run then late-matches the actuals
 * files joined before it existed (their unmatched actuals).
 */
function* batchInference(context: OrchestrationContext): Generator<df.Task, RunSummary | { runId: string; state: string; error?: string }, unknown> {
  const input = parseOrThrow(batchInputSchema, context.df.getInput(), 'batch inference input');
  // Every activity input carries the run's traceparent (from the input, so replays pass the same):
  // their spans join the trace of the trigger that started the run.
  const ref = { model: input.model, runId: input.runId, ...carriedTrace(input) };
  const instanceId = batchInstanceId(input.model, input.runId);
  const log = (message: string) => {
    if (!context.df.isReplaying) context.log(`[${instanceId}] ${input.model}: ${message}`);
  };
  // A failed run is otherwise silent in the log: its activities and the instance all succeed.
  const logFailure = (error: string) => {
    if (!context.df.isReplaying) context.warn(`[${instanceId}] ${input.model}: run ${input.runId} failed: ${error}`);
  };
  let started: { state: string; version: number | null };
  for (;;) {
    context.df.setCustomStatus({ step: 'starting' });
    const scheduled = input.scheduledFor ? { scheduledFor: input.scheduledFor } : {};
    started = yield* call(startBatchRun({ ...ref, kind: input.kind, sources: input.sources, instanceId, ...scheduled }).withRetry(retry));
    if (started.state !== 'waiting_for_champion') break;
    log(`run ${input.runId} waits for a champion: the model has none (or is not registered yet); a promotion or rollback wakes it`);
    context.df.setCustomStatus({ step: 'waiting_for_champion' });
    yield context.df.waitForExternalEvent(CHAMPION_CHANGED_EVENT);
  }
  if (started.state === 'completed' || started.state === 'failed' || started.version === null) return { runId: input.runId, state: started.state };
  const version = started.version;
  try {
    context.df.setCustomStatus({ step: 'planning' });
    const plan = yield* call<{ chunks: PlannedChunk[] } | { failed: string }>(planBatchRun(ref).withRetry(retry));
    if ('failed' in plan) {
      logFailure(plan.failed);
      return { runId: input.runId, state: 'failed', error: plan.failed };
    }
    const arrival = new Map(input.sources.map((s) => [s.path, s.lastModified]));
    const chunks = yield* fanOut(context, plan.chunks, input.maxParallel, (planned) =>
      scoreBatchChunk({ ...ref, version, planned, arrival: arrival.get(planned.source)! }).withRetry(retry),
    );
    context.df.setCustomStatus({ step: 'completing', chunks: chunks.length });
    const summary = yield* call<RunSummary>(completeBatchRun({ ...ref, version, chunks }).withRetry(retry));
    context.df.setCustomStatus(doneStatus(summary));
    // Actuals joined before these predictions existed are matched to them now.
    if (summary.state === 'completed') yield* lateMatchForRun(context, ref, log);
    return summary;
  } catch (error) {
    logFailure(failureReason(error));
    const summary = yield* call<RunSummary>(failBatchRun({ ...ref, error: failureReason(error) }).withRetry(retry));
    context.df.setCustomStatus(doneStatus(summary));
    return summary;
  }
}

df.app.orchestration(BATCH_INFERENCE, batchInference);

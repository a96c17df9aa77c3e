import type * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';

import type { LateMatchOutcome, RecordedLateWindows, WindowUpdate } from '../../shared/schemas/actuals';
import type { RevalidationInput } from '../../shared/schemas/lifecycle-orchestration';
import type { LateMatchSide } from '../../shared/schemas/monitoring';
import { activityValue, callActivity, carriedTrace, failureReason, outageRetry } from '../activity';
import { REVALIDATE_CHAMPION, revalidationInstanceId } from '../lifecycle/names';
import { findRevalidation } from '../lifecycle/revalidation';
import { lateMatch, lateMatchWindows, lateRecords, lateRuns, lateWindow } from './activities';

/** What `actualsLateRecords` answers: the records to late-match with the run, of how many waiting, and why none when the run cannot be read. */
interface LateRecords {
  actualsIds: string[];
  waiting?: number;
  reason?: string;
}

/** Windows refreshed at once after a late match. */
const WINDOW_PARALLELISM = 4;

interface LatePair {
  model: string;
  actualsId: string;
  runId: string;
  /** Which side asks: the run's completion or the join's (the record keeps the side that recorded the pair). */
  side: LateMatchSide;
  traceparent?: string;
}

/** A pair whose late match or window refresh failed, with the windows its late match named when it answered. */
interface FailedPair {
  pair: LatePair;
  windows?: string[];
}

/** What the pairs' steps leave for the steps after them. */
interface MatchedPairs {
  /** Pairs that may have labelled rows: matched now or by an earlier attempt, or failed (maybe after recording). */
  labelled: LatePair[];
  failed: FailedPair[];
}

/** Refreshes windows' realised performance, `WINDOW_PARALLELISM` at a time; the first failed group throws. */
function* refreshWindows(context: OrchestrationContext, pair: LatePair, windowIds: readonly string[]): Generator<df.Task, void, unknown> {
  const windows = windowIds.map((windowId) => ({ model: pair.model, windowId, ...carriedTrace(pair) }));
  for (let first = 0; first < windows.length; first += WINDOW_PARALLELISM) {
    const results = (yield context.df.Task.all(windows.slice(first, first + WINDOW_PARALLELISM).map((w) => lateWindow(w).withRetry(outageRetry)))) as unknown[];
    results.forEach((r) => activityValue<WindowUpdate>(r));
  }
}

/**
 * Matches each (actuals file, run) pair in turn: the late match, then its windows' performance.
 * One pair at a time, so one bucket of ids is held at once and the late matches of one file do
 * not race for its record. A pair that fails is logged and not matched again here: the run or
 * the join it follows has completed either way, and a later run or join may match it. Answers
 * the pairs that may have labelled rows: matched now or by an earlier attempt, and those that
 * failed, which may have recorded their rows before failing (publishing the event, refreshing a
 * window); the revalidation question reads the record. The failed ones are answered apart too:
 * their windows are refreshed at the end.
 */
function* matchPairs(context: OrchestrationContext, pairs: readonly LatePair[], log: (message: string) => void): Generator<df.Task, MatchedPairs, unknown> {
  const labelled: LatePair[] = [];
  const failed: FailedPair[] = [];
  for (const pair of pairs) {
    let windows: string[] | undefined;
    try {
      const done = yield* callActivity<LateMatchOutcome>(lateMatch, pair);
      windows = done.windows;
      yield* refreshWindows(context, pair, done.windows);
      log(`late match of ${pair.actualsId} with run ${pair.runId}: ${done.outcome}, ${done.matched} matched${done.reason ? ` (${done.reason})` : ''}`);
      if ((done.outcome === 'matched' || done.outcome === 'done') && done.matched > 0) labelled.push(pair);
    } catch (error) {
      log(`late match of ${pair.actualsId} with run ${pair.runId} failed: ${failureReason(error)}`);
      labelled.push(pair);
      failed.push({ pair, ...(windows ? { windows } : {}) });
    }
  }
  return { labelled, failed };
}

/**
 * When a late match labelled rows of a segment value the champion's validation data never had,
 * the champion is validated again with them, as after a join (a sub-orchestration, one per
 * version, file and run). The run and the join may both match a pair at the same moment and both
 * ask; only the side that recorded it is answered, so its instance id is started once (Durable
 * does not deduplicate a second start of a sub-orchestration id: on the Azure Storage backend it
 * runs again over the first, whose parent never hears back). In turn: a revalidation rewrites
 * the reference profile, so a later pair with the same new value finds nothing new. A failed
 * revalidation is logged; the late match stands. These steps come after every pair's, so an
 * instance that was late-matching when this was deployed replays its history unchanged and then
 * takes them.
 */
function* revalidateOnLateFlavours(context: OrchestrationContext, pairs: readonly LatePair[], log: (message: string) => void): Generator<df.Task, void, unknown> {
  for (const pair of pairs) {
    const { model, actualsId, runId, side } = pair;
    try {
      const found = yield* callActivity<RevalidationInput | null>(findRevalidation, { model, actualsId, runId, side, ...carriedTrace(pair) });
      if (!found) continue;
      log(`late match of ${actualsId} with run ${runId} labelled new segment value(s) ${found.newSegments.join(', ')}: revalidating the champion v${found.version}`);
      const input: RevalidationInput = { ...found, ...carriedTrace(pair) };
      yield context.df.callSubOrchestrator(REVALIDATE_CHAMPION, input, revalidationInstanceId(model, found.version, actualsId, runId));
    } catch (error) {
      log(`revalidation after the late match of ${actualsId} with run ${runId} failed: ${failureReason(error)}`);
    }
  }
}

/**
 * The windows of the pairs that failed, refreshed after all: a late match whose activity failed
 * after its record write (its event not sent past the outage retries, say) holds rows the
 * windows do not count yet, and a pair whose refresh failed left some windows behind. Each
 * pair's windows are the ones its late match named, or, when it never answered, the ones its
 * record's entry lists (`actualsLateMatchWindows`; a pair the record does not hold has none).
 * A window two pairs share is refreshed once. These steps come after every other step of late
 * matching, so an instance that was late-matching when they were added replays its history
 * unchanged and then takes them. A failure here is logged; the run or join stays completed.
 */
function* refreshFailedPairs(context: OrchestrationContext, failed: readonly FailedPair[], log: (message: string) => void): Generator<df.Task, void, unknown> {
  const windows = new Set<string>();
  for (const { pair, windows: named } of failed) {
    try {
      const { model, actualsId, runId } = pair;
      const recorded = named ?? (yield* callActivity<RecordedLateWindows>(lateMatchWindows, { model, actualsId, runId, ...carriedTrace(pair) })).windows;
      recorded.forEach((windowId) => windows.add(windowId));
    } catch (error) {
      log(`the windows of the failed late match of ${pair.actualsId} with run ${pair.runId} could not be read: ${failureReason(error)}`);
    }
  }
  const first = failed[0];
  if (!first || windows.size === 0) return;
  const ids = [...windows].sort();
  try {
    yield* refreshWindows(context, first.pair, ids);
    log(`refreshed ${ids.length} window(s) of late matches that failed`);
  } catch (error) {
    log(`the windows of late matches that failed could not be refreshed: ${failureReason(error)}`);
  }
}

/** A run completed: the actuals files joined without it get their unmatched actuals matched against it. */
export function* lateMatchForRun(
  context: OrchestrationContext,
  run: { model: string; runId: string; traceparent?: string },
  log: (message: string) => void,
): Generator<df.Task, void, unknown> {
  let found: LateRecords;
  try {
    // The records with ids in the run only, found with one read of its id column (an output of
    // a history written before that has no `waiting`).
    found = yield* callActivity<LateRecords>(lateRecords, run);
  } catch (error) {
    log(`late matching: the actuals records could not be listed: ${failureReason(error)}`);
    return;
  }
  const { actualsIds, waiting, reason } = found;
  if (waiting !== undefined && waiting > 0) {
    log(`late matching: ${actualsIds.length} of ${waiting} waiting actuals file(s) have ids in run ${run.runId}${reason ? ` (${reason})` : ''}`);
  }
  const { labelled, failed } = yield* matchPairs(context, actualsIds.map((actualsId) => ({ ...run, actualsId, side: 'run' as const })), log);
  yield* revalidateOnLateFlavours(context, labelled, log);
  yield* refreshFailedPairs(context, failed, log);
}

/** A join completed: runs that completed after it was planned get the same late match. */
export function* lateMatchForJoin(
  context: OrchestrationContext,
  join: { model: string; actualsId: string; traceparent?: string },
  log: (message: string) => void,
): Generator<df.Task, void, unknown> {
  let runIds: string[];
  try {
    ({ runIds } = yield* callActivity<{ runIds: string[] }>(lateRuns, join));
  } catch (error) {
    log(`late matching: the runs could not be listed: ${failureReason(error)}`);
    return;
  }
  const { labelled, failed } = yield* matchPairs(context, runIds.map((runId) => ({ ...join, runId, side: 'join' as const })), log);
  yield* revalidateOnLateFlavours(context, labelled, log);
  yield* refreshFailedPairs(context, failed, log);
}

import type * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';

import type { LateMatchOutcome, RecordedLateWindows, WindowUpdate } from '../../shared/schemas/actuals';
import type { RevalidationInput } from '../../shared/schemas/lifecycle-orchestration';
import type { LateMatchSide } from '../../shared/schemas/monitoring';
import { activityValue, callActivity, carriedTrace, ExpectedActivityFailure, failureReason, outageRetry } from '../activity';
import { REVALIDATE_CHAMPION, revalidationInstanceId } from '../lifecycle/names';
import { findRevalidation } from '../lifecycle/revalidation';
import { lateMatch, lateMatchWindows, lateRecords, lateRuns, lateWindow } from './activities';

/**
 * What `actualsLateRecords` answers: the records to late-match with the run, of how many waiting,
 * why none when the run cannot be read, and the model's recent records that do not read (whether
 * they wait for the run cannot be told).
 */
interface LateRecords {
  actualsIds: string[];
  waiting?: number;
  reason?: string;
  unreadable?: { id: string; reason: string }[];
}

/** Windows refreshed at once after a late match. */
const WINDOW_PARALLELISM = 4;

const MINUTE_MS = 60_000;

/**
 * The waits before each round that tries the pairs that failed for an outage again, counted from
 * the end of the round before. The activity retries (`outageRetry`) cover about a minute; an
 * outage of Cosmos DB or Storage past that tends to last minutes (5), sometimes most of an hour
 * (30), rarely hours (120): about 2.6 hours in all, after which a person is better placed to look
 * than another timer. Constants, not a setting: the waits are part of the orchestration's code, so
 * every replay schedules the same timers.
 */
const LATE_RETRY_WAITS_MS: readonly number[] = [5 * MINUTE_MS, 30 * MINUTE_MS, 120 * MINUTE_MS];

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
  /** Whether a later round may succeed: an outage, or a record other writers kept changing; not an expected failure. */
  retried: boolean;
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
 * Whether a pair that failed so is worth another round: an outage past the activity retries may
 * be over by then, and so may a record other late matches of the file kept changing; an expected
 * failure (a quarantine line the join did not write, a model gone, the pair's record damaged:
 * DOCUMENT_UNREADABLE) would answer the same.
 */
const retriedLater = (error: unknown): boolean => !(error instanceof ExpectedActivityFailure) || error.code === 'CONCURRENCY_CONFLICT';

const pairKey = (pair: LatePair): string => `${pair.actualsId}~${pair.runId}`;

/** How a pair's log lines start: in a retry round, which round. */
const pairLabel = (pair: LatePair, round?: number): string =>
  `late match of ${pair.actualsId} with run ${pair.runId}${round === undefined ? '' : `: retry round ${round} of ${LATE_RETRY_WAITS_MS.length}`}`;

/**
 * Matches each (actuals file, run) pair in turn: the late match, then its windows' performance.
 * One pair at a time, so one bucket of ids is held at once and the late matches of one file do
 * not race for its record. A pair that fails is logged and left for the retry rounds (an
 * outage) or for good: the run or the join it follows has completed either way. Answers
 * the pairs that may have labelled rows: matched now or by an earlier attempt, and those that
 * failed, which may have recorded their rows before failing (publishing the event, refreshing a
 * window); the revalidation question reads the record. The failed ones are answered apart too:
 * their windows are refreshed at the end. `round` numbers a retry round, for the log.
 */
function* matchPairs(context: OrchestrationContext, pairs: readonly LatePair[], log: (message: string) => void, round?: number): Generator<df.Task, MatchedPairs, unknown> {
  const labelled: LatePair[] = [];
  const failed: FailedPair[] = [];
  for (const pair of pairs) {
    let windows: string[] | undefined;
    try {
      const done = yield* callActivity<LateMatchOutcome>(lateMatch, pair);
      windows = done.windows;
      yield* refreshWindows(context, pair, done.windows);
      log(`${pairLabel(pair, round)}: ${done.outcome}, ${done.matched} matched${done.reason ? ` (${done.reason})` : ''}`);
      if ((done.outcome === 'matched' || done.outcome === 'done') && done.matched > 0) labelled.push(pair);
    } catch (error) {
      const retried = retriedLater(error);
      log(`${pairLabel(pair, round)} failed: ${failureReason(error)}${retried ? '' : '; not tried again: asking again would get the same answer'}`);
      labelled.push(pair);
      failed.push({ pair, ...(windows ? { windows } : {}), retried });
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
 * takes them. The pairs a revalidation was started for are added to `revalidated`: a retry round
 * does not ask about them again (the same instance id must not be started twice).
 */
function* revalidateOnLateFlavours(
  context: OrchestrationContext,
  pairs: readonly LatePair[],
  log: (message: string) => void,
  revalidated: Set<string>,
): Generator<df.Task, void, unknown> {
  for (const pair of pairs) {
    const { model, actualsId, runId, side } = pair;
    try {
      const found = yield* callActivity<RevalidationInput | null>(findRevalidation, { model, actualsId, runId, side, ...carriedTrace(pair) });
      if (!found) continue;
      revalidated.add(pairKey(pair));
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

/**
 * The pairs that failed for an outage, tried again in rounds after durable timers
 * (`LATE_RETRY_WAITS_MS`, on the orchestration's clock): each round takes the pairs still failing
 * through the same steps as the first pass (the late match and its windows, the revalidation
 * question, the failed pairs' windows). Safe to repeat: a pair its record holds is `done` (its
 * windows refreshed again, nothing counted twice), one it does not is matched anew (a half-written
 * attempt's files are rewritten). A pair a revalidation was started for is not asked about again;
 * one asked before its rows were recorded is, so a round that records them may still start its
 * one revalidation. The run or join is completed already: the waits only keep the instance
 * running. After the last round, what is still failing is given up, with what the user can do.
 */
function* retryFailedPairs(context: OrchestrationContext, failed: readonly FailedPair[], revalidated: Set<string>, log: (message: string) => void): Generator<df.Task, void, unknown> {
  let failing = failed.filter((f) => f.retried).map((f) => f.pair);
  for (const [index, waitMs] of LATE_RETRY_WAITS_MS.entries()) {
    if (failing.length === 0) return;
    const round = index + 1;
    const at = new Date(context.df.currentUtcDateTime.getTime() + waitMs);
    for (const pair of failing) log(`${pairLabel(pair, round)} at ${at.toISOString()}`);
    yield context.df.createTimer(at);
    const again = yield* matchPairs(context, failing, log, round);
    yield* revalidateOnLateFlavours(context, again.labelled.filter((pair) => !revalidated.has(pairKey(pair))), log, revalidated);
    yield* refreshFailedPairs(context, again.failed, log);
    failing = again.failed.filter((f) => f.retried).map((f) => f.pair);
  }
  for (const pair of failing) {
    log(`${pairLabel(pair)}: still failing after ${LATE_RETRY_WAITS_MS.length} retry rounds, given up: the ids it did not record stay unmatched; upload the actuals file again to join them anew`);
  }
}

/**
 * The late matches of one run or join, then the revalidation questions, then the failed pairs'
 * windows, then the retry rounds: each new step after the ones before, so an instance that was
 * late-matching when it was added replays its recorded history unchanged and then takes it.
 */
function* lateMatchPairs(context: OrchestrationContext, pairs: readonly LatePair[], log: (message: string) => void): Generator<df.Task, void, unknown> {
  const { labelled, failed } = yield* matchPairs(context, pairs, log);
  const revalidated = new Set<string>();
  yield* revalidateOnLateFlavours(context, labelled, log, revalidated);
  yield* refreshFailedPairs(context, failed, log);
  yield* retryFailedPairs(context, failed, revalidated, log);
}

/**
 * What late matching lists before it has pairs (the records for a run, the runs for a join),
 * asked again in the retry rounds (`LATE_RETRY_WAITS_MS`) when an outage outlasts the activity
 * retries: with no list there is no pair whose rounds could heal it. Undefined once it failed for
 * good (an expected failure, or still failing after the last round), logged with what to do. A
 * listing that failed ended the instance before the rounds existed, so no recorded history goes
 * on past it: the timers are new steps for every instance that takes them.
 */
function* listedWithRetryRounds<T>(
  context: OrchestrationContext,
  what: string,
  list: () => Generator<df.Task, T, unknown>,
  log: (message: string) => void,
): Generator<df.Task, T | undefined, unknown> {
  for (let round = 0; ; round += 1) {
    try {
      return yield* list();
    } catch (error) {
      const waitMs = LATE_RETRY_WAITS_MS[round];
      const failed = `late matching: ${what} could not be listed${round === 0 ? '' : ` in retry round ${round} of ${LATE_RETRY_WAITS_MS.length}`}: ${failureReason(error)}`;
      if (waitMs === undefined || !retriedLater(error)) {
        log(`${failed}; given up: the unmatched ids it would have matched stay unmatched until their actuals file is uploaded again`);
        return undefined;
      }
      const at = new Date(context.df.currentUtcDateTime.getTime() + waitMs);
      log(`${failed}; retry round ${round + 1} of ${LATE_RETRY_WAITS_MS.length} at ${at.toISOString()}`);
      yield context.df.createTimer(at);
    }
  }
}

/** A run completed: the actuals files joined without it get their unmatched actuals matched against it. */
export function* lateMatchForRun(
  context: OrchestrationContext,
  run: { model: string; runId: string; traceparent?: string },
  log: (message: string) => void,
): Generator<df.Task, void, unknown> {
  // The records with ids in the run only, found with one read of its id column (an output of
  // a history written before that has no `waiting`).
  const found = yield* listedWithRetryRounds(context, 'the actuals records', () => callActivity<LateRecords>(lateRecords, run), log);
  if (!found) return;
  const { actualsIds, waiting, reason, unreadable = [] } = found;
  for (const record of unreadable) log(`late matching: actuals record ${record.id} does not read, so whether it waits for run ${run.runId} cannot be told: ${record.reason}`);
  if (waiting !== undefined && waiting > 0) {
    log(`late matching: ${actualsIds.length} of ${waiting} waiting actuals file(s) have ids in run ${run.runId}${reason ? ` (${reason})` : ''}`);
  }
  yield* lateMatchPairs(context, actualsIds.map((actualsId) => ({ ...run, actualsId, side: 'run' as const })), log);
}

/** A join completed: runs that completed after it was planned get the same late match. */
export function* lateMatchForJoin(
  context: OrchestrationContext,
  join: { model: string; actualsId: string; traceparent?: string },
  log: (message: string) => void,
): Generator<df.Task, void, unknown> {
  const listed = yield* listedWithRetryRounds(context, 'the runs', () => callActivity<{ runIds: string[] }>(lateRuns, join), log);
  if (!listed) return;
  const { runIds } = listed;
  yield* lateMatchPairs(context, runIds.map((runId) => ({ ...join, runId, side: 'join' as const })), log);
}

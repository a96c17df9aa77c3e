import '../../orchestrations/batch/batch-inference';

import { defaultWorker } from '../../devhost/worker';
import { ACTUALS_ACTIVITIES } from '../../orchestrations/actuals/names';
import { BATCH_ACTIVITIES as A, BATCH_INFERENCE } from '../../orchestrations/batch/names';
import { LIFECYCLE_ACTIVITIES, REVALIDATE_CHAMPION } from '../../orchestrations/lifecycle/names';
import type { BatchInput } from '../../shared/schemas/monitoring';
import { type EpisodeResult, failForGood, orchestrationHarness } from '../support/orchestration-harness';

const input: BatchInput = {
  model: 'demand',
  runId: '20261206T0000Z-abc',
  kind: 'batch',
  sources: [{ path: 'drops/demand/a.csv', etag: '"0x1"', size: 100, lastModified: '2026-12-06T08:00:00.000Z' }],
  maxParallel: 2,
};
const ok = (value: unknown) => ({ ok: true, value });
const planned = (part: number) => ({ source: 'drops/demand/a.csv', part, chunk: { format: 'parquet', index: part, rowGroupStart: part, rowGroupEnd: part + 1, firstRow: 1, rows: 10 } });
const scored = (part: number) => ({ model: 'demand', version: 1, runId: input.runId, chunkIndex: part, rowsRead: 10, rowsScored: 10, rowsRejected: 0, partPath: `p${part}`, rejectionReasons: {}, windows: [] });
const summary = { runId: input.runId, state: 'completed', version: 1, rowsRead: 30, rowsScored: 30, rowsQuarantined: 0, windows: [] };

/** What the orchestration logged (its log lines only go out when not replaying). */
let logged: string[] = [];
beforeEach(() => {
  logged = [];
  defaultWorker().setLogSink((entry) => logged.push(entry.message.replace(/^\[[^\]]*\] [^:]*: /, '')));
});

const calls = (step: EpisodeResult, name: string) => step.newActions.filter((a) => a.name === name);
const only = (step: EpisodeResult, name: string) => {
  const [action] = calls(step, name);
  if (!action || action.taskId === null) throw new Error(`expected ${name}, got ${JSON.stringify(step.newActions)}`);
  return action as { taskId: number; input?: unknown };
};

async function untilPlanned(chunks: number) {
  const h = orchestrationHarness(BATCH_INFERENCE, { input });
  let step = await h.start();
  expect(only(step, A.start).input).toMatchObject({ model: 'demand', runId: input.runId, instanceId: `batch:demand:${input.runId}` });
  step = await h.completeActivity(only(step, A.start).taskId, ok({ state: 'running', version: 1 }));
  step = await h.completeActivity(only(step, A.plan).taskId, ok({ chunks: Array.from({ length: chunks }, (_, i) => planned(i)) }));
  return { h, step };
}

describe('batchInference (replayed through the durable-functions SDK)', () => {
  it('when three chunks are scored two at a time, then they run in waves of two and the fan-in gets all, in order', async () => {
    const { h, step: planned2 } = await untilPlanned(3);
    const first = calls(planned2, A.scoreChunk);
    expect(first.map((a) => (a.input as { planned: { part: number } }).planned.part)).toEqual([0, 1]);
    expect(first[0]!.input).toMatchObject({ version: 1, arrival: '2026-12-06T08:00:00.000Z' });
    let step = await h.completeActivity(first[1]!.taskId!, ok(scored(1)));
    expect(calls(step, A.scoreChunk)).toHaveLength(0);
    step = await h.completeActivity(first[0]!.taskId!, ok(scored(0)));
    const second = calls(step, A.scoreChunk);
    expect(second.map((a) => (a.input as { planned: { part: number } }).planned.part)).toEqual([2]);
    expect(step.customStatus).toEqual({ step: 'scoring', chunks: 3, scored: 2 });
    step = await h.completeActivity(second[0]!.taskId!, ok(scored(2)));
    const complete = only(step, A.complete);
    expect((complete.input as { chunks: { chunkIndex: number }[] }).chunks.map((c) => c.chunkIndex)).toEqual([0, 1, 2]);
    // Every scheduled task appears once in the actions (none is scheduled twice).
    expect(step.actions.filter((a) => a.name === A.scoreChunk)).toHaveLength(3);
    step = await h.completeActivity(complete.taskId, ok(summary));
    // A completed run then asks which actuals files joined before it to late-match: none here.
    expect(only(step, ACTUALS_ACTIVITIES.lateRecords).input).toEqual({ model: 'demand', runId: input.runId });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: [] }));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  it('when actuals files were joined before the run completed, then each is late-matched against the run in turn and its windows refreshed, after the run is recorded', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    expect(step.customStatus).toMatchObject({ step: 'done' });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-1', 'a-2'] }));
    expect(only(step, ACTUALS_ACTIVITIES.lateMatch).input).toEqual({ model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-1' });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 3, windows: ['20261206T0000Z'] }));
    expect(only(step, ACTUALS_ACTIVITIES.lateWindow).input).toEqual({ model: 'demand', windowId: '20261206T0000Z' });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, ok({ windowId: '20261206T0000Z', labelled: 3, labelCoverage: 0.5, provisional: false }));
    expect(only(step, ACTUALS_ACTIVITIES.lateMatch).input).toEqual({ model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-2' });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'none', matched: 0, windows: [], reason: 'no id' }));
    // After every pair: whether the pair that labelled rows (a-1, not a-2) labelled a new segment value.
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-1' }]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  it('when 20 actuals files wait for late matches and the listing found ids of the run in one of them, then only that one is late-matched, right after the listing, and the run ends after its windows', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    expect(only(step, ACTUALS_ACTIVITIES.lateRecords).input).toEqual({ model: 'demand', runId: input.runId });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-7'], waiting: 20 }));
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[ACTUALS_ACTIVITIES.lateMatch, { model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-7' }]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 2, windows: ['20261206T0000Z'] }));
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[ACTUALS_ACTIVITIES.lateWindow, { model: 'demand', windowId: '20261206T0000Z' }]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, ok({ windowId: '20261206T0000Z', labelled: 2, labelCoverage: 0.5, provisional: false }));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.name === ACTUALS_ACTIVITIES.lateMatch)).toHaveLength(1);
  });

  it('when the listing names actuals records that do not read, then each is logged with its reason and the others are late-matched as usual', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    const unreadable = [{ id: 'a-9', reason: 'unmatched: Too small: expected number to be >=0' }];
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-7'], waiting: 1, unreadable }));
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[ACTUALS_ACTIVITIES.lateMatch, { model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-7' }]]);
    expect(logged).toContain(`late matching: actuals record a-9 does not read, so whether it waits for run ${input.runId} cannot be told: ${unreadable[0]!.reason}`);
  });

  /** A run that late-matched a-1 (then a-2, whose match an earlier attempt recorded): the episode that asks about a-1's revalidation. */
  async function lateMatchedTwo() {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-1', 'a-2'], waiting: 2 }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 3, windows: ['20261206T0000Z'] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, ok({ windowId: '20261206T0000Z', labelled: 3, labelCoverage: 0.5, provisional: false }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'done', matched: 2, windows: ['20261206T0000Z'] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, ok({ windowId: '20261206T0000Z', labelled: 5, labelCoverage: 0.5, provisional: false }));
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-1' }]]);
    return { h, step };
  }

  const lateRevalidation = (actualsId: string) => ({ model: 'demand', version: 1, actualsId, runId: input.runId, windows: ['20261206T0000Z'], newSegments: ['region=west'] });
  const evidence = { decision: 'pass', reasons: [], evidenceHash: 'a'.repeat(64), evidencePath: 'evidence/x' };

  it('when late-matched rows hold a segment value new to the champion, then the champion is revalidated as after a join, once per version, file and run; a pair recorded by an earlier attempt is asked about too', async () => {
    const { h, step: asked } = await lateMatchedTwo();
    let step = await h.completeActivity(only(asked, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(lateRevalidation('a-1')));
    expect(step.newActions).toEqual([
      expect.objectContaining({ kind: 'CallSubOrchestrator', name: REVALIDATE_CHAMPION, input: lateRevalidation('a-1'), instanceId: `revalidation:demand:1:a-1~${input.runId}` }),
    ]);
    // The run's own status stays the done status: the revalidation shows on its own instance.
    expect(step.customStatus).toMatchObject({ step: 'done' });
    step = await h.completeSubOrchestration(only(step, REVALIDATE_CHAMPION).taskId, evidence);
    expect(step.newActions.map((a) => [a.name, a.input])).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { model: 'demand', runId: input.runId, side: 'run', actualsId: 'a-2' }]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(lateRevalidation('a-2')));
    expect(only(step, REVALIDATE_CHAMPION)).toMatchObject({ instanceId: `revalidation:demand:1:a-2~${input.runId}` });
    step = await h.completeSubOrchestration(only(step, REVALIDATE_CHAMPION).taskId, evidence);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  it('when a late match\'s revalidation fails, or asking for it does, then the run ends completed all the same and the next pair is still asked about', async () => {
    const { h, step: asked } = await lateMatchedTwo();
    let step = await h.completeActivity(only(asked, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(lateRevalidation('a-1')));
    step = await h.failSubOrchestration(only(step, REVALIDATE_CHAMPION).taskId, 'INSUFFICIENT_DATA: no labelled row of region=west could be joined back to its drop');
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, { ok: false, code: 'MODEL_NOT_FOUND', message: 'gone' });
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.name === A.fail)).toEqual([]);
  });

  /** A run that lists a-1 and a-2 for late matching: the episode that matches a-1. */
  async function lateMatchingTwo() {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-1', 'a-2'], waiting: 2 }));
    expect(only(step, ACTUALS_ACTIVITIES.lateMatch).input).toEqual(askedOf('a-1'));
    return { h, step };
  }

  const pairOf = (actualsId: string) => ({ model: 'demand', runId: input.runId, actualsId });
  /** A pair as the run's side asks about it (late match, revalidation question). */
  const askedOf = (actualsId: string) => ({ ...pairOf(actualsId), side: 'run' });
  const windowUpdate = (windowId: string) => ok({ windowId, labelled: 3, labelCoverage: 0.5, provisional: false });
  const newCalls = (step: EpisodeResult) => step.newActions.map((a) => [a.name, a.input]);
  const refreshOf = (windowId: string) => [ACTUALS_ACTIVITIES.lateWindow, { model: 'demand', windowId }];
  const days = ['20261201T0000Z', '20261202T0000Z', '20261203T0000Z', '20261204T0000Z', '20261205T0000Z'];
  /** The one durable timer an episode scheduled: a retry round's wait. */
  const onlyTimer = (step: EpisodeResult) => {
    expect(step.newActions).toEqual([expect.objectContaining({ kind: 'CreateTimer' })]);
    return step.newActions[0] as { taskId: number; fireAt: Date };
  };
  const minutes = (n: number) => n * 60_000;

  it('when a late match fails for good after its record write (its event could not be sent past the outage retries), then after the revalidation questions its windows are read from its record and refreshed four at a time, and 5 minutes later the pair is tried again: found done, its windows refreshed and its revalidation asked about', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    let step = await failForGood(h, only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, 'the broker is unreachable');
    // The next pair goes on as before: matched, its window refreshed.
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-2')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 1, windows: [days[4]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[4]!));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    // Then the failed pair: the windows its record lists, refreshed as a late match's are.
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: days }));
    expect(newCalls(step)).toEqual(days.slice(0, 4).map(refreshOf));
    const group = step.newActions.map((a) => a.taskId!);
    for (const [i, taskId] of group.entries()) step = await h.completeActivity(taskId, windowUpdate(days[i]!));
    expect(newCalls(step)).toEqual([refreshOf(days[4]!)]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[4]!));
    // The run is recorded completed; its instance waits to try the failed pair again.
    expect(step.isDone).toBe(false);
    expect(step.customStatus).toMatchObject({ step: 'done' });
    const wait = onlyTimer(step);
    step = await h.fireTimer(wait.taskId);
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'done', matched: 3, windows: [days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[0]!));
    // Its question before was answered with nothing to revalidate: asked again (an answer that started none may have come before its rows were recorded).
    expect(newCalls(step)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(logged).toContain(`late match of a-1 with run ${input.runId}: retry round 1 of 3: done, 3 matched`);
  });

  it('when a pair keeps failing for an outage (a record other writers keep changing counts as one), then only it is tried again after 5 minutes, 30 minutes and 2 hours, each round as the first pass, and then given up with what the user can do', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    let step = await failForGood(h, only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, 'Cosmos DB is unreachable');
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 1, windows: [days[4]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[4]!));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    const fireAts: number[] = [];
    const failures = [
      (s: EpisodeResult) => failForGood(h, only(s, ACTUALS_ACTIVITIES.lateMatch).taskId, 'Cosmos DB is unreachable'),
      (s: EpisodeResult) => h.completeActivity(only(s, ACTUALS_ACTIVITIES.lateMatch).taskId, { ok: false, code: 'CONCURRENCY_CONFLICT', message: 'the record changed on each of 5 writes' }),
      (s: EpisodeResult) => failForGood(h, only(s, ACTUALS_ACTIVITIES.lateMatch).taskId, 'Blob Storage is unreachable'),
    ];
    for (const [i, fail] of failures.entries()) {
      const wait = onlyTimer(step);
      fireAts.push(wait.fireAt.getTime() - start);
      step = await h.fireTimer(wait.taskId);
      // Only the failed pair, with the steps of the first pass: its late match, its revalidation question, its recorded windows.
      expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-1')]]);
      step = await fail(step);
      expect(newCalls(step)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, askedOf('a-1')]]);
      step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
      expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-1')]]);
      step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
      expect(step.isDone).toBe(i === failures.length - 1);
    }
    // Each wait counts from the end of the round before (the clock moved to each timer's fireAt).
    expect(fireAts).toEqual([minutes(5), minutes(5 + 30), minutes(5 + 30 + 120)]);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.name === ACTUALS_ACTIVITIES.lateMatch).map((a) => (a.input as { actualsId: string }).actualsId)).toEqual(['a-1', 'a-2', 'a-1', 'a-1', 'a-1']);
    const pair = `late match of a-1 with run ${input.runId}`;
    expect(logged.filter((line) => line.startsWith(pair))).toEqual([
      expect.stringMatching(new RegExp(`^${pair} failed: .*Cosmos DB is unreachable`)),
      `${pair}: retry round 1 of 3 at 2026-01-01T00:05:00.000Z`,
      expect.stringMatching(new RegExp(`^${pair}: retry round 1 of 3 failed: .*Cosmos DB is unreachable`)),
      `${pair}: retry round 2 of 3 at 2026-01-01T00:35:00.000Z`,
      `${pair}: retry round 2 of 3 failed: CONCURRENCY_CONFLICT: the record changed on each of 5 writes`,
      `${pair}: retry round 3 of 3 at 2026-01-01T02:35:00.000Z`,
      expect.stringMatching(new RegExp(`^${pair}: retry round 3 of 3 failed: .*Blob Storage is unreachable`)),
      `${pair}: still failing after 3 retry rounds, given up: the ids it did not record stay unmatched; upload the actuals file again to join them anew`,
    ]);
  });

  it('when a pair fails for an outage and then with an expected failure, then the rounds stop there: asking again would get the same answer', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    let step = await failForGood(h, only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, 'Cosmos DB is unreachable');
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'none', matched: 0, windows: [] }));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    step = await h.fireTimer(onlyTimer(step).taskId);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, { ok: false, code: 'INVALID_INPUT_FILE', message: 'a quarantine line is not JSON' });
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    expect(step.newActions).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.kind === 'CreateTimer')).toHaveLength(1);
  });

  it('when a pair\'s own actuals record is damaged (DOCUMENT_UNREADABLE), then it is given up at once, logged with the reason naming the record: no retry round waits for a document no wait repairs', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    const damaged = { ok: false, code: 'DOCUMENT_UNREADABLE', message: "the stored actuals record 'a-1' of 'demand' cannot be read: its stored actuals document is invalid: unmatched" };
    let step = await h.completeActivity(only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, damaged);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'none', matched: 0, windows: [] }));
    // The steps after a failed pair are taken as for any failure; each reads the record and fails the same way.
    expect(newCalls(step)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, damaged);
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, damaged);
    expect(step.newActions).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.kind === 'CreateTimer')).toEqual([]);
    expect(logged.filter((line) => line.startsWith('late match of a-1'))).toEqual([
      `late match of a-1 with run ${input.runId} failed: DOCUMENT_UNREADABLE: the stored actuals record 'a-1' of 'demand' cannot be read: its stored actuals document is invalid: unmatched; not tried again: asking again would get the same answer`,
    ]);
  });

  it('when a retry round finds done a pair whose revalidation was started before it failed, then it is not asked about again; a pair asked about before its rows were recorded is asked again once a round records them, and its one revalidation starts', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    // a-1 recorded its rows, then its event could not be sent; a-2 failed before recording.
    let step = await failForGood(h, only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, 'the broker is unreachable');
    step = await failForGood(h, only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, 'Cosmos DB is unreachable');
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(lateRevalidation('a-1')));
    step = await h.completeSubOrchestration(only(step, REVALIDATE_CHAMPION).taskId, evidence);
    expect(newCalls(step)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, askedOf('a-2')]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[0]!));
    step = await h.fireTimer(onlyTimer(step).taskId);
    // The round: both pairs again, a-1 found done, a-2 matched now.
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'done', matched: 3, windows: [days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[0]!));
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-2')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 2, windows: [days[1]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[1]!));
    expect(newCalls(step)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, askedOf('a-2')]]);
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(lateRevalidation('a-2')));
    expect(only(step, REVALIDATE_CHAMPION)).toMatchObject({ instanceId: `revalidation:demand:1:a-2~${input.runId}` });
    step = await h.completeSubOrchestration(only(step, REVALIDATE_CHAMPION).taskId, evidence);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    // One revalidation per pair: each instance id started once.
    expect(step.actions.filter((a) => a.name === REVALIDATE_CHAMPION).map((a) => a.instanceId)).toEqual([`revalidation:demand:1:a-1~${input.runId}`, `revalidation:demand:1:a-2~${input.runId}`]);
  });

  it('when a late match answered but refreshing its window failed, then that window is refreshed again at the end without reading the record; if that fails too, the run stays completed', async () => {
    const { h, step: matching } = await lateMatchingTwo();
    let step = await h.completeActivity(only(matching, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 3, windows: [days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, { ok: false, code: 'MODEL_NOT_FOUND', message: 'gone for a moment' });
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'none', matched: 0, windows: [] }));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(newCalls(step)).toEqual([refreshOf(days[0]!)]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, { ok: false, code: 'MODEL_NOT_FOUND', message: 'still gone' });
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(step.actions.filter((a) => a.name === ACTUALS_ACTIVITIES.lateMatchWindows)).toEqual([]);
  });

  it('when the failed pairs\' records cannot be read, or do not hold the pair, or share windows, then what can be read is refreshed once per window and the run stays completed', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-1', 'a-2', 'a-3', 'a-4'], waiting: 4 }));
    for (let i = 0; i < 4; i += 1) step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, { ok: false, code: 'INVALID_INPUT_FILE', message: 'a quarantine line is not JSON' });
    for (let i = 0; i < 4; i += 1) step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, { ok: false, code: 'DOCUMENT_UNREADABLE', message: 'the record does not read' });
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-2')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [days[1], days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [days[0]] }));
    expect(newCalls(step)).toEqual([refreshOf(days[0]!), refreshOf(days[1]!)]);
    const [first, second] = step.newActions.map((a) => a.taskId!);
    step = await h.completeActivity(first!, windowUpdate(days[0]!));
    step = await h.completeActivity(second!, windowUpdate(days[1]!));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  /** What a run with two late pairs (the first failing) records through both pairs' revalidation questions. */
  const STEPS_THROUGH_REVALIDATION_QUESTIONS = [
    A.start,
    A.plan,
    A.scoreChunk,
    A.complete,
    ACTUALS_ACTIVITIES.lateRecords,
    ACTUALS_ACTIVITIES.lateMatch,
    ACTUALS_ACTIVITIES.lateMatch,
    ACTUALS_ACTIVITIES.lateWindow,
    LIFECYCLE_ACTIVITIES.revalidationFor,
    LIFECYCLE_ACTIVITIES.revalidationFor,
  ];

  it('when an instance was late-matching when this version was deployed (a pair had failed), then the history it recorded replays step for step and the failed pair\'s windows are refreshed after it', async () => {
    // The steps the release before recorded, in order, up to the revalidation question in flight:
    // what a replay matches results by (the inputs are not compared; later ones carry `side`).
    const recorded = STEPS_THROUGH_REVALIDATION_QUESTIONS;
    const { h } = await lateMatchingTwo();
    // Its results, delivered to the steps by position (task ids 5 to 8), as a replay matches them.
    let step = await h.completeActivity(5, { ok: false, code: 'INVALID_INPUT_FILE', message: 'a quarantine line is not JSON' });
    step = await h.completeActivity(6, ok({ outcome: 'matched', matched: 1, windows: [days[4]] }));
    step = await h.completeActivity(7, windowUpdate(days[4]!));
    step = await h.completeActivity(8, ok(null));
    // The same steps in the same places: each recorded result reached the step that asked for it.
    expect(step.failed).toBe(false);
    expect(step.actions.map((a) => a.name)).toEqual(recorded);
    expect(step.actions.slice(5).map((a) => (a.input as { actualsId?: string }).actualsId)).toEqual(['a-1', 'a-2', undefined, 'a-1', 'a-2']);
    expect(step.actions.map((a) => a.taskId)).toEqual(recorded.map((_, i) => i));
    // The revalidation question in flight at the deployment completes: then the new steps.
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatchWindows, pairOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatchWindows).taskId, ok({ windows: [] }));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  it('when an instance had a pair fail for an outage under the release before the retry rounds, then the history that release recorded (to its last step, the failed pair\'s windows) replays step for step, and the instance then waits for the first round', async () => {
    // The steps the release before recorded, in order, through its last one: what a replay matches results by.
    const recorded = [...STEPS_THROUGH_REVALIDATION_QUESTIONS, ACTUALS_ACTIVITIES.lateMatchWindows, ACTUALS_ACTIVITIES.lateWindow];
    const { h } = await lateMatchingTwo();
    // Its results by position: a-1's six attempts (task ids 5, 7, ..., 15) each followed by its backoff timer (6, 8, ..., 16).
    let step = await h.failActivity(5, 'Cosmos DB is unreachable');
    for (let attempt = 7; attempt <= 15; attempt += 2) {
      await h.fireTimer(attempt - 1);
      step = await h.failActivity(attempt, 'Cosmos DB is unreachable');
    }
    step = await h.fireTimer(16);
    step = await h.completeActivity(17, ok({ outcome: 'matched', matched: 1, windows: [days[4]] }));
    step = await h.completeActivity(18, windowUpdate(days[4]!));
    step = await h.completeActivity(19, ok(null));
    step = await h.completeActivity(20, ok(null));
    step = await h.completeActivity(21, ok({ windows: [days[0]] }));
    // Every recorded result reached the step that asked for it; the last recorded step is in flight.
    expect(step.failed).toBe(false);
    expect(step.actions.map((a) => a.name)).toEqual(recorded);
    expect(step.actions.map((a) => a.taskId)).toEqual([0, 1, 2, 3, 4, 5, 17, 18, 19, 20, 21, 22]);
    expect(step.actions.slice(5).map((a) => (a.input as { actualsId?: string; windowId?: string }).actualsId ?? (a.input as { windowId: string }).windowId)).toEqual([
      'a-1',
      'a-2',
      days[4],
      'a-1',
      'a-2',
      'a-1',
      days[0],
    ]);
    // The last recorded step completes: then the new one, the wait before the first round.
    step = await h.completeActivity(22, windowUpdate(days[0]!));
    expect(step.newActions).toEqual([{ taskId: 23, kind: 'CreateTimer', fireAt: new Date('2026-01-01T00:05:00Z'), isCanceled: false }]);
    step = await h.fireTimer(23);
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 2, windows: [days[1]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[1]!));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  /** A completed run, up to listing the actuals records to late-match with it. */
  async function listingRecords() {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    return { h, step };
  }

  it('when listing the actuals records to late-match fails for an outage, then it is listed again 5 minutes later and the files it lists are late-matched then', async () => {
    const { h, step: listing } = await listingRecords();
    let step = await failForGood(h, only(listing, ACTUALS_ACTIVITIES.lateRecords).taskId, 'Cosmos DB is unreachable');
    expect(step.isDone).toBe(false);
    expect(step.customStatus).toMatchObject({ step: 'done' });
    const wait = onlyTimer(step);
    expect(wait.fireAt.toISOString()).toBe('2026-01-01T00:05:00.000Z');
    step = await h.fireTimer(wait.taskId);
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateRecords, { model: 'demand', runId: input.runId }]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: ['a-1'], waiting: 1 }));
    expect(newCalls(step)).toEqual([[ACTUALS_ACTIVITIES.lateMatch, askedOf('a-1')]]);
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateMatch).taskId, ok({ outcome: 'matched', matched: 2, windows: [days[0]] }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateWindow).taskId, windowUpdate(days[0]!));
    step = await h.completeActivity(only(step, LIFECYCLE_ACTIVITIES.revalidationFor).taskId, ok(null));
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(logged).toContainEqual(expect.stringMatching(/^late matching: the actuals records could not be listed: .*Cosmos DB is unreachable; retry round 1 of 3 at 2026-01-01T00:05:00.000Z$/));
  });

  it('when listing the actuals records keeps failing for an outage, then it is tried after 5 minutes, 30 minutes and 2 hours and given up with what the user can do; an expected failure is not tried again', async () => {
    const { h, step: listing } = await listingRecords();
    let step = await failForGood(h, only(listing, ACTUALS_ACTIVITIES.lateRecords).taskId, 'Cosmos DB is unreachable');
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    const fireAts: number[] = [];
    for (let round = 1; round <= 3; round += 1) {
      const wait = onlyTimer(step);
      fireAts.push(wait.fireAt.getTime() - start);
      step = await h.fireTimer(wait.taskId);
      step = await failForGood(h, only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, 'Cosmos DB is unreachable');
    }
    expect(fireAts).toEqual([minutes(5), minutes(5 + 30), minutes(5 + 30 + 120)]);
    expect(step.newActions).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
    expect(logged.filter((line) => line.startsWith('late matching:'))).toEqual([
      expect.stringMatching(/could not be listed: .*; retry round 1 of 3 at 2026-01-01T00:05:00.000Z$/),
      expect.stringMatching(/could not be listed in retry round 1 of 3: .*; retry round 2 of 3 at 2026-01-01T00:35:00.000Z$/),
      expect.stringMatching(/could not be listed in retry round 2 of 3: .*; retry round 3 of 3 at 2026-01-01T02:35:00.000Z$/),
      expect.stringMatching(/could not be listed in retry round 3 of 3: .*Cosmos DB is unreachable; given up: the unmatched ids it would have matched stay unmatched until their actuals file is uploaded again$/),
    ]);

    logged = [];
    const expected = await listingRecords();
    step = await expected.h.completeActivity(only(expected.step, ACTUALS_ACTIVITIES.lateRecords).taskId, { ok: false, code: 'VALIDATION_ERROR', message: 'invalid run id' });
    expect(step.newActions).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(logged).toEqual(['late matching: the actuals records could not be listed: VALIDATION_ERROR: invalid run id; given up: the unmatched ids it would have matched stay unmatched until their actuals file is uploaded again']);
  });

  it('when the run\'s predictions could not be read for the listing, then no late match is scheduled and the run stays completed', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok(summary));
    step = await h.completeActivity(
      only(step, ACTUALS_ACTIVITIES.lateRecords).taskId,
      ok({ actualsIds: [], waiting: 3, reason: "run '20261206T0000Z-abc' cannot be read: its predictions manifest is gone" }),
    );
    expect(step.newActions).toEqual([]);
    expect(step.isDone).toBe(true);
    expect(step.output).toEqual(summary);
  });

  it('when there is no champion, then the run waits for championChanged and starts again', async () => {
    const h = orchestrationHarness(BATCH_INFERENCE, { input });
    let step = await h.start();
    step = await h.completeActivity(only(step, A.start).taskId, ok({ state: 'waiting_for_champion', version: null }));
    expect(step.newActions).toEqual([{ taskId: null, kind: 'WaitForExternalEvent', name: 'championChanged' }]);
    expect(step.customStatus).toEqual({ step: 'waiting_for_champion' });
    expect(logged).toEqual([`run ${input.runId} waits for a champion: the model has none (or is not registered yet); a promotion or rollback wakes it`]);
    step = await h.raiseEvent('championChanged', { champion: 1 });
    step = await h.completeActivity(only(step, A.start).taskId, ok({ state: 'running', version: 1 }));
    expect(only(step, A.plan).input).toEqual({ model: 'demand', runId: input.runId });
  });

  it('when the file cannot be read, then the run ends failed without scoring', async () => {
    const h = orchestrationHarness(BATCH_INFERENCE, { input });
    let step = await h.start();
    step = await h.completeActivity(only(step, A.start).taskId, ok({ state: 'running', version: 1 }));
    step = await h.completeActivity(only(step, A.plan).taskId, ok({ failed: 'drops/demand/a.csv: the file is empty' }));
    expect(step.output).toEqual({ runId: input.runId, state: 'failed', error: 'drops/demand/a.csv: the file is empty' });
    expect(step.actions.some((a) => a.name === A.scoreChunk)).toBe(false);
    expect(logged).toEqual([`run ${input.runId} failed: drops/demand/a.csv: the file is empty`]);
  });

  it('when a chunk fails for good, then the run is failed with that chunk named, and no fan-in happens', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    const chunk = only(planned1, A.scoreChunk);
    let step = await h.failActivity(chunk.taskId, 'blob read timed out');
    for (let attempt = 2; attempt <= 4; attempt++) {
      step = await h.fireTimer(step.retryTimer!.taskId);
      step = await h.failActivity(step.retryAttempt!, 'blob read timed out');
    }
    step = await h.fireTimer(step.retryTimer!.taskId);
    const fail = only(step, A.fail);
    expect(fail.input).toMatchObject({ model: 'demand', runId: input.runId, error: expect.stringMatching(/a chunk of drops\/demand\/a\.csv failed: .*blob read timed out/) });
    // The reason only: not the details (the activity's stack) the SDK appends to the error's message.
    expect(fail.input).toMatchObject({ error: "a chunk of drops/demand/a.csv failed: Activity function 'batchScoreChunk' failed: blob read timed out" });
    step = await h.completeActivity(fail.taskId, ok({ ...summary, state: 'failed', error: 'x' }));
    expect(step.output).toMatchObject({ state: 'failed' });
    // Once, though the episode that failed it is replayed when the fail activity answers.
    expect(logged).toEqual([`run ${input.runId} failed: a chunk of drops/demand/a.csv failed: Activity function 'batchScoreChunk' failed: blob read timed out`]);
    expect(step.actions.some((a) => a.name === A.complete)).toBe(false);
  });

  it('when a chunk reports an expected failure, then the run fails without retrying it', async () => {
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, { ok: false, code: 'SIGNATURE_MISMATCH', message: 'the model returned 3 rows for 4' });
    expect(only(step, A.fail).input).toMatchObject({ error: expect.stringMatching(/SIGNATURE_MISMATCH: the model returned 3 rows for 4/) });
    step = await h.completeActivity(only(step, A.fail).taskId, ok({ ...summary, state: 'failed' }));
    expect(step.isDone).toBe(true);
  });

  it('when the run already ended (the same blob again), then the instance returns at once', async () => {
    const h = orchestrationHarness(BATCH_INFERENCE, { input });
    let step = await h.start();
    step = await h.completeActivity(only(step, A.start).taskId, ok({ state: 'completed', version: 1 }));
    expect(step.output).toEqual({ runId: input.runId, state: 'completed' });
  });

  it('when a run spans hundreds of windows, then the done status counts them (a list would pass 16 KB of JSON) and the output keeps the ids', async () => {
    const windows = Array.from({ length: 720 }, (_, i) => new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z');
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, ok(scored(0)));
    step = await h.completeActivity(only(step, A.complete).taskId, ok({ ...summary, windows }));
    step = await h.completeActivity(only(step, ACTUALS_ACTIVITIES.lateRecords).taskId, ok({ actualsIds: [] }));
    expect(step.output).toEqual({ ...summary, windows });
    expect(step.customStatus).toEqual({ step: 'done', ...summary, windows: 720 });
    expect(JSON.stringify(step.customStatus).length * 2).toBeLessThanOrEqual(16 * 1024);
  });

  it('when a run fails with a long error full of escaped characters, then the done status cuts it within 16 KB and the output keeps it whole', async () => {
    const error = `chunk 0 of drops/demand/a.csv: BAD_ROW: ${'"\u0001'.repeat(3000)}`;
    const { h, step: planned1 } = await untilPlanned(1);
    let step = await h.completeActivity(only(planned1, A.scoreChunk).taskId, { ok: false, code: 'BAD_ROW', message: 'x' });
    step = await h.completeActivity(only(step, A.fail).taskId, ok({ ...summary, state: 'failed', error }));
    expect(step.output).toMatchObject({ state: 'failed', error });
    const status = step.customStatus as { error: string };
    expect(status.error.startsWith('chunk 0 of drops/demand/a.csv: BAD_ROW: ')).toBe(true);
    expect(status.error.endsWith('…')).toBe(true);
    expect(JSON.stringify(step.customStatus).length * 2).toBeLessThanOrEqual(16 * 1024);
  });
});

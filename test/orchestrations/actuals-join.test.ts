import '../../orchestrations/actuals/actuals-join';

import { ACTUALS_ACTIVITIES as A, ACTUALS_JOIN } from '../../orchestrations/actuals/names';
import { LIFECYCLE_ACTIVITIES, REVALIDATE_CHAMPION } from '../../orchestrations/lifecycle/names';
import { actualsIdOf } from '../../shared/domain/actuals';
import type { BucketSummary } from '../../shared/schemas/actuals';
import { type EpisodeResult, failForGood, type OrchestrationHarness, orchestrationHarness } from '../support/orchestration-harness';

const START = new Date('2026-03-10T12:00:00Z');
const input = { model: 'demand', path: 'actuals/demand/sales.csv', etag: '"0x1"', size: 120, lastModified: '2026-03-10T11:59:00.000Z' };
const actualsId = actualsIdOf(input.path, input.etag);
const ok = (value: unknown) => ({ ok: true, value });
const step = { model: 'demand', actualsId };

const summary = (bucket: number, windows: string[]): BucketSummary => ({
  bucket,
  rows: 10,
  rejectionReasons: {},
  matched: 10,
  unmatched: 0,
  duplicateIds: 0,
  duplicateRows: 0,
  rescoredIds: 0,
  windows: windows.map((windowId) => ({ windowId, rows: 5 })),
});

/** The new activity calls of an episode: [name, input] in order. */
/** A W3C trace context the input carries, for the cases that check it is passed on. */
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const calls = (s: EpisodeResult) => s.newActions.filter((a) => a.kind.startsWith('CallActivity')).map((a) => [a.name, a.input]);
const taskIds = (s: EpisodeResult) => s.newActions.map((a) => a.taskId!);

describe('actualsJoin (replayed through the durable-functions SDK)', () => {
  it('when a file is planned in three buckets with parallelism two, then buckets run two at a time, then each window touched once, then completion', async () => {
    const h = orchestrationHarness(ACTUALS_JOIN, { input, instanceId: `actuals:demand:${actualsId}`, startTime: START });
    let s = await h.start();
    expect(calls(s)).toEqual([[A.plan, { ...input, instanceId: `actuals:demand:${actualsId}`, at: START.toISOString() }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'planned', actualsId, buckets: 3, parallelism: 2 }));
    expect(calls(s)).toEqual([
      [A.joinBucket, { ...step, bucket: 0 }],
      [A.joinBucket, { ...step, bucket: 1 }],
    ]);
    const [b0, b1] = taskIds(s);
    s = await h.completeActivity(b1!, ok(summary(1, ['20260302T0000Z'])));
    expect(calls(s)).toEqual([]);
    s = await h.completeActivity(b0!, ok(summary(0, ['20260302T0000Z', '20260301T0000Z'])));
    expect(calls(s)).toEqual([[A.joinBucket, { ...step, bucket: 2 }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(summary(2, ['20260303T0000Z'])));
    expect(calls(s)).toEqual([
      [A.updateWindow, { ...step, windowId: '20260301T0000Z' }],
      [A.updateWindow, { ...step, windowId: '20260302T0000Z' }],
    ]);
    const [w1, w2] = taskIds(s);
    const update = (windowId: string) => ok({ windowId, labelled: 5, labelCoverage: 0.5, provisional: false });
    s = await h.completeActivity(w1!, update('20260301T0000Z'));
    s = await h.completeActivity(w2!, update('20260302T0000Z'));
    expect(calls(s)).toEqual([[A.updateWindow, { ...step, windowId: '20260303T0000Z' }]]);
    s = await h.advance(60_000).completeActivity(taskIds(s)[0]!, update('20260303T0000Z'));
    expect(calls(s)).toEqual([
      [A.complete, { ...step, summaries: [summary(0, ['20260302T0000Z', '20260301T0000Z']), summary(1, ['20260302T0000Z']), summary(2, ['20260303T0000Z'])], completedAt: '2026-03-10T12:01:00.000Z' }],
    ]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ state: 'completed' }));
    // Nothing new labelled: no revalidation.
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, step]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    // Then runs completed after the plan are asked for: none here.
    expect(calls(s)).toEqual([[A.lateRuns, step]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: [] }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
  });

  /** Plans one bucket and one window and completes the record; the episode that asks about revalidation. */
  /** The join through its record's completion, up to asking whether to revalidate (with the input's trace, when given). */
  async function joinedOnce(trace: { traceparent?: string } = {}) {
    const h = orchestrationHarness(ACTUALS_JOIN, { input: { ...input, ...trace }, instanceId: `actuals:demand:${actualsId}`, startTime: START });
    let s = await h.start();
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'planned', actualsId, buckets: 1, parallelism: 1 }));
    s = await h.completeActivity(taskIds(s)[0]!, ok(summary(0, ['20260302T0000Z'])));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windowId: '20260302T0000Z', labelled: 5, labelCoverage: 0.5, provisional: false }));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ state: 'completed' }));
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...step, ...trace }]]);
    return { h, s };
  }

  const revalidation = { model: 'demand', version: 3, actualsId, windows: ['20260302T0000Z'], newSegments: ['region=east'] };

  it('when the file labelled a segment value new to the champion, then the champion is revalidated as a sub-orchestration before the join ends', async () => {
    const { h, s: asked } = await joinedOnce();
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(revalidation));
    expect(s.newActions).toEqual([
      expect.objectContaining({ kind: 'CallSubOrchestrator', name: REVALIDATE_CHAMPION, input: revalidation, instanceId: `revalidation:demand:3:${actualsId}` }),
    ]);
    expect(s.isDone).toBe(false);
    s = await h.completeSubOrchestration(taskIds(s)[0]!, { decision: 'pass', reasons: [], evidenceHash: 'a'.repeat(64), evidencePath: 'evidence/x' });
    expect(calls(s)).toEqual([[A.lateRuns, step]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: [] }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
  });

  it('when the input carries a traceparent, then every activity input and the revalidation sub-orchestration carry it', async () => {
    const { h, s: asked } = await joinedOnce({ traceparent });
    let s = asked;
    s = await h.completeActivity(taskIds(s)[0]!, ok(revalidation));
    const scheduled = s.actions.filter((a) => a.kind.startsWith('CallActivity') || a.kind === 'CallSubOrchestrator');
    expect(scheduled.map((a) => a.name)).toEqual([A.plan, A.joinBucket, A.updateWindow, A.complete, LIFECYCLE_ACTIVITIES.revalidationFor, REVALIDATE_CHAMPION]);
    expect(scheduled.map((a) => (a.input as { traceparent?: string }).traceparent)).toEqual(scheduled.map(() => traceparent));
    expect(scheduled.at(-1)!.input).toEqual({ ...revalidation, traceparent });
  });

  it('when the revalidation fails, then the join is complete all the same', async () => {
    const { h, s: asked } = await joinedOnce();
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(revalidation));
    s = await h.failSubOrchestration(taskIds(s)[0]!, 'INSUFFICIENT_DATA: no labelled row of region=east could be joined back to its drop');
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: [] }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
    expect(s.actions.filter((a) => a.name === A.fail)).toEqual([]);
  });

  it('when runs completed after the plan was made, then each is late-matched in turn and the windows it labelled are refreshed; a late match that fails leaves the join completed, its recorded windows refreshed at the end', async () => {
    const { h, s: asked } = await joinedOnce();
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(null));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: ['run-8', 'run-9'] }));
    expect(calls(s)).toEqual([[A.lateMatch, { ...step, runId: 'run-8', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, { ok: false, code: 'INVALID_INPUT_FILE', message: 'line 3 of the quarantine file is not JSON' });
    expect(calls(s)).toEqual([[A.lateMatch, { ...step, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'matched', matched: 4, windows: ['20260301T0000Z', '20260302T0000Z'] }));
    expect(calls(s)).toEqual([
      [A.lateWindow, { model: 'demand', windowId: '20260301T0000Z' }],
      [A.lateWindow, { model: 'demand', windowId: '20260302T0000Z' }],
    ]);
    const [w1, w2] = taskIds(s);
    s = await h.completeActivity(w1!, ok({ windowId: '20260301T0000Z', labelled: 2, labelCoverage: 0.5, provisional: false }));
    s = await h.completeActivity(w2!, ok({ windowId: '20260302T0000Z', labelled: 2, labelCoverage: 0.5, provisional: false }));
    // Then, for each pair that labelled rows or may have before failing: did they hold a new segment value? No.
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...step, runId: 'run-8', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...step, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    // Last, the failed pair's windows, as its record lists them: it recorded nothing, so none.
    expect(calls(s)).toEqual([[A.lateMatchWindows, { ...step, runId: 'run-8' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windows: [] }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
    expect(s.actions.filter((a) => a.name === A.fail)).toEqual([]);
  });

  it('when a late match of the join fails after recording its pair, then its recorded windows are refreshed after the revalidation questions, with the trace carried', async () => {
    const traced = { ...step, traceparent };
    const { h, s: asked } = await joinedOnce({ traceparent });
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(null));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: ['run-9'] }));
    s = await h.completeActivity(taskIds(s)[0]!, { ok: false, code: 'PUBLISH_REFUSED', message: 'the event was refused' });
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...traced, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    expect(calls(s)).toEqual([[A.lateMatchWindows, { ...traced, runId: 'run-9' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windows: ['20260303T0000Z'] }));
    expect(calls(s)).toEqual([[A.lateWindow, { model: 'demand', windowId: '20260303T0000Z', traceparent }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windowId: '20260303T0000Z', labelled: 4, labelCoverage: 0.5, provisional: false }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
  });

  /** The join waiting, still late-matching, for the first retry round 5 minutes on; the episode after that timer fires. */
  async function afterFirstRetryWait(h: OrchestrationHarness, s: EpisodeResult): Promise<EpisodeResult> {
    expect(s.newActions).toEqual([expect.objectContaining({ kind: 'CreateTimer', fireAt: new Date(START.getTime() + 5 * 60_000) })]);
    expect(s.isDone).toBe(false);
    expect(s.customStatus).toEqual({ step: 'late-matching' });
    return h.fireTimer(taskIds(s)[0]!);
  }

  it('when a late match of the join fails for an outage, then after its windows the join waits, still late-matching, and 5 minutes later matches that run again with the trace carried; the join ends completed after the round', async () => {
    const traced = { ...step, traceparent };
    const { h, s: asked } = await joinedOnce({ traceparent });
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(null));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: ['run-8', 'run-9'] }));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'none', matched: 0, windows: [] }));
    // run-9 fails on each of its attempts (Cosmos DB down past the outage retries).
    s = await failForGood(h, taskIds(s)[0]!, 'Cosmos DB is unreachable');
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windows: [] }));
    s = await afterFirstRetryWait(h, s);
    expect(calls(s)).toEqual([[A.lateMatch, { ...traced, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'matched', matched: 4, windows: ['20260303T0000Z'] }));
    expect(calls(s)).toEqual([[A.lateWindow, { model: 'demand', windowId: '20260303T0000Z', traceparent }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windowId: '20260303T0000Z', labelled: 4, labelCoverage: 0.5, provisional: false }));
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...traced, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
    expect(s.customStatus).toEqual({ step: 'done' });
  });

  it('when listing the runs to late-match fails for an outage, then the join waits, still late-matching, lists them again 5 minutes later and matches what it lists then', async () => {
    const { h, s: asked } = await joinedOnce();
    let s = await h.completeActivity(taskIds(asked)[0]!, ok(null));
    expect(calls(s)).toEqual([[A.lateRuns, step]]);
    s = await failForGood(h, taskIds(s)[0]!, 'Cosmos DB is unreachable');
    s = await afterFirstRetryWait(h, s);
    expect(calls(s)).toEqual([[A.lateRuns, step]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: ['run-9'] }));
    expect(calls(s)).toEqual([[A.lateMatch, { ...step, runId: 'run-9', side: 'join' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'none', matched: 0, windows: [] }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
  });

  it('when a run that completed after the plan late-matched rows of a new segment value, then the champion is revalidated on them after the join\'s own revalidation question, under an id of the version, the file and the run; the trace is carried', async () => {
    const traced = { ...step, traceparent };
    const { h, s: asked } = await joinedOnce({ traceparent });
    let s = asked;
    s = await h.completeActivity(taskIds(s)[0]!, ok(null));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ runIds: ['run-9'] }));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'matched', matched: 4, windows: ['20260303T0000Z'] }));
    s = await h.completeActivity(taskIds(s)[0]!, ok({ windowId: '20260303T0000Z', labelled: 4, labelCoverage: 0.5, provisional: false }));
    expect(calls(s)).toEqual([[LIFECYCLE_ACTIVITIES.revalidationFor, { ...traced, runId: 'run-9', side: 'join' }]]);
    const late = { model: 'demand', version: 3, actualsId, runId: 'run-9', windows: ['20260303T0000Z'], newSegments: ['region=west'] };
    s = await h.completeActivity(taskIds(s)[0]!, ok(late));
    expect(s.newActions).toEqual([
      expect.objectContaining({ kind: 'CallSubOrchestrator', name: REVALIDATE_CHAMPION, input: { ...late, traceparent }, instanceId: `revalidation:demand:3:${actualsId}~run-9` }),
    ]);
    s = await h.completeSubOrchestration(taskIds(s)[0]!, { decision: 'fail', reasons: [], evidenceHash: 'b'.repeat(64), evidencePath: 'evidence/y' });
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'completed' });
  });

  it('when the file version was joined before, then the join ends at once', async () => {
    const h = orchestrationHarness(ACTUALS_JOIN, { input, startTime: START });
    let s = await h.start();
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'done', actualsId, state: 'completed' }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual({ actualsId, outcome: 'done' });
    expect(s.actions.filter((a) => a.kind.startsWith('CallActivity'))).toHaveLength(1);
  });

  it('when a bucket reports an expected failure, then the join is recorded as failed with the reason and ends', async () => {
    const h = orchestrationHarness(ACTUALS_JOIN, { input, instanceId: 'i-1', startTime: START });
    let s = await h.start();
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'planned', actualsId, buckets: 1, parallelism: 4 }));
    s = await h.completeActivity(taskIds(s)[0]!, { ok: false, code: 'INVALID_INPUT_FILE', message: 'row group 3 cannot be read' });
    expect(calls(s)).toEqual([[A.fail, { ...input, actualsId, instanceId: 'i-1', at: START.toISOString(), error: 'INVALID_INPUT_FILE: row group 3 cannot be read' }]]);
    s = await h.completeActivity(taskIds(s)[0]!, ok({ state: 'failed' }));
    expect(s.output).toEqual({ actualsId, outcome: 'failed', error: 'INVALID_INPUT_FILE: row group 3 cannot be read' });
  });

  it('when an activity fails with an outage, then it is retried with backoff before anything else happens', async () => {
    const h = orchestrationHarness(ACTUALS_JOIN, { input, startTime: START });
    let s = await h.start();
    s = await h.completeActivity(taskIds(s)[0]!, ok({ outcome: 'planned', actualsId, buckets: 1, parallelism: 4 }));
    const failed = await h.failActivity(taskIds(s)[0]!, 'Blob Storage unavailable');
    expect(failed.retryTimer?.fireAt).toEqual(new Date(START.getTime() + 2000));
    const fired = await h.fireTimer(failed.retryTimer!.taskId);
    s = await h.completeActivity(fired.retryAttempt!, ok(summary(0, [])));
    expect(calls(s)).toEqual([[A.complete, expect.objectContaining({ summaries: [summary(0, [])] })]]);
  });
});

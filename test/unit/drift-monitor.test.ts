/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { lakePaths } from '../../shared/domain/lake-paths';
import { monitoringWindowSchema, type RetrainingRecord } from '../../shared/schemas/monitoring';
import { MONITOR_STATE_ID } from '../../shared/usecases/drift-monitor';
import { championBaselineRmse, MODEL, monitorWorld, shifted, usual } from '../support/monitoring-kit';

/** Daily windows of June 2026: day(10) is 20260610T0000Z. */
const day = (d: number) => `202606${String(d).padStart(2, '0')}T0000Z`;
const TWO_IN_A_ROW = { drift: { consecutiveWindows: 2, cooldown: 'PT0S' } };

async function window(world: Awaited<ReturnType<typeof monitorWorld>>, id: string) {
  return (await world.runs.windows.get(MODEL, id))?.value;
}

describe('drift monitor', () => {
  it('when two windows in a row drift, then the second breaches and one retraining request goes out, recorded first', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), usual(10));
    await world.scored(day(11), shifted(11));
    await world.scored(day(12), shifted(12));

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.windows.map((w) => [w.windowId, w.drift])).toEqual([
      [day(10), 'ok'],
      [day(11), 'warning'],
      [day(12), 'breach'],
    ]);
    const requestId = `retrain:${MODEL}:${day(12)}`;
    expect(report.models[0]!.requests).toEqual([requestId]);
    expect(world.queue.messages).toEqual([
      {
        messageId: requestId,
        body: expect.objectContaining({ model: MODEL, version: 1, reason: 'drift', window: { id: day(12), start: '2026-06-12T00:00:00.000Z', end: '2026-06-13T00:00:00.000Z' }, correlationId: requestId }),
      },
    ]);
    expect(world.queue.messages[0]!.body.evidence).toMatchObject({ drift: { verdict: 'breach', consecutive: 2, drifted: expect.arrayContaining([expect.objectContaining({ column: 'x1' })]) } });
    expect((await world.runs.retraining.get(MODEL, requestId))?.value).toMatchObject({ requestId, state: 'queued', reason: 'drift', version: 1, windowId: day(12), requestedAt: '2026-06-20T12:00:00.000Z' });

    const breached = await window(world, day(12));
    expect(monitoringWindowSchema.parse(breached)).toEqual(breached);
    expect(breached).toMatchObject({
      version: 1,
      drift: { reference: 'profiles/regional/v1/reference.json', evaluatedAt: '2026-06-20T12:00:00.000Z', evaluation: { verdict: 'breach', windowVerdict: 'drift', consecutive: 2, alert: true } },
      retraining: { reason: 'drift', requestId },
    });
    const x1 = breached!.drift!.overall.columns.find((c) => c.name === 'x1')!;
    expect([x1.method, x1.drifted]).toEqual(['ks', true]);
    expect(breached!.drift!.overall.columns.find((c) => c.name === 'x2')!.drifted).toBe(false);
    expect(Object.keys(breached!.drift!.segments)).toEqual(['region=north', 'region=south']);
    expect((await window(world, day(10)))!.drift!.overall.verdict).toBe('no_drift');

    expect(world.events.ofType('drift.evaluated').map((e) => [e.eventId, e.data.verdict])).toEqual([
      [`${MODEL}:drift-evaluated:${day(10)}`, 'ok'],
      [`${MODEL}:drift-evaluated:${day(11)}`, 'warning'],
      [`${MODEL}:drift-evaluated:${day(12)}`, 'breach'],
    ]);
    expect(world.events.ofType('drift.detected').map((e) => e.data.windowId)).toEqual([day(11), day(12)]);
    expect(world.events.ofType('drift.detected')[0]!.data.columns).toEqual(expect.arrayContaining(['x1', 'prediction']));
    expect(world.events.ofType('retraining.requested')).toEqual([
      expect.objectContaining({ eventId: `${MODEL}:retraining-requested:${day(12)}`, version: 1, data: { reason: 'drift', windowId: day(12) } }),
    ]);
    expect((await world.runs.monitors.get(MODEL, MONITOR_STATE_ID))?.value).toMatchObject({
      evaluatedUntil: '2026-06-13T00:00:00.000Z',
      recent: ['no_drift', 'drift', 'drift'],
      lastAlertAt: '2026-06-20T12:00:00.000Z',
    });
  });

  it('when several windows breach in one run, then still one request; the others record the open request that blocked them', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    for (const d of [10, 11, 12, 13]) await world.scored(day(d), shifted(d));

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => w.drift)).toEqual(['warning', 'breach', 'breach', 'breach']);
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([`retrain:${MODEL}:${day(11)}`]);
    expect(world.queue.sends).toBe(1);
    expect((await window(world, day(12)))!.retraining).toEqual({ reason: 'drift', requestId: null, blockedBy: `request retrain:${MODEL}:${day(11)} is still open (queued; last progress 2026-06-20T12:00:00.000Z, presumed lost without progress after 2026-06-21T12:00:00.000Z)` });
    expect(world.events.ofType('retraining.requested')).toHaveLength(1);
  });

  it("when a breach comes within the drift policy's cooldown of the last alert, then it raises no request", async () => {
    const world = await monitorWorld({ drift: { consecutiveWindows: 1, cooldown: 'P7D' } });
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));

    await world.run();

    expect(world.queue.messages.map((m) => m.messageId)).toEqual([`retrain:${MODEL}:${day(10)}`]);
    const second = await window(world, day(11));
    expect(second!.drift!.evaluation).toMatchObject({ verdict: 'breach', alert: false, cooldownUntil: '2026-06-27T12:00:00.000Z' });
    expect(second!.retraining).toBeUndefined();
  });

  it("when the last request is closed but younger than the retraining policy's cooldown, then a new breach waits; after it, a request goes out", async () => {
    const world = await monitorWorld({ ...TWO_IN_A_ROW, retraining: { cooldown: 'P7D' } });
    const earlier: RetrainingRecord = { requestId: `retrain:${MODEL}:${day(1)}`, modelName: MODEL, version: 1, reason: 'drift', windowId: day(1), state: 'closed', requestedAt: '2026-06-17T00:00:00.000Z', closedAt: '2026-06-18T00:00:00.000Z' };
    await world.runs.retraining.create(MODEL, earlier.requestId, earlier);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));

    await world.run();

    expect(world.queue.messages).toEqual([]);
    expect((await window(world, day(11)))!.retraining).toEqual({ reason: 'drift', requestId: null, blockedBy: 'in the retraining cooldown (P7D after the last request) until 2026-06-24T00:00:00.000Z' });

    world.clock.at = new Date('2026-06-25T12:00:00Z');
    await world.scored(day(24), shifted(24));
    await world.run();
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([`retrain:${MODEL}:${day(24)}`]);
  });

  it('when retraining is disabled by the policy, then a breach is recorded with the reason and nothing is sent', async () => {
    const world = await monitorWorld({ ...TWO_IN_A_ROW, retraining: { enabled: false } });
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    await world.run();
    expect(world.queue.sends).toBe(0);
    expect((await window(world, day(11)))!.retraining).toMatchObject({ requestId: null, blockedBy: 'retraining is disabled by the model policy' });
  });

  it('when a window has too little data between drifting windows, then it neither extends nor breaks the run', async () => {
    const twice = await monitorWorld(TWO_IN_A_ROW);
    const thrice = await monitorWorld({ drift: { consecutiveWindows: 3, cooldown: 'PT0S' } });
    for (const world of [twice, thrice]) {
      await world.scored(day(10), shifted(10));
      await world.scored(day(11), shifted(11, 8));
      await world.scored(day(12), shifted(12));
      await world.run();
    }
    expect((await window(twice, day(11)))!.drift!.evaluation).toMatchObject({ verdict: 'insufficient_data', windowVerdict: 'insufficient_data' });
    expect((await window(twice, day(12)))!.drift!.evaluation).toMatchObject({ verdict: 'breach', consecutive: 2 });
    expect((await window(thrice, day(12)))!.drift!.evaluation).toMatchObject({ verdict: 'warning', consecutive: 2 });
    expect(twice.queue.messages.map((m) => m.messageId)).toEqual([`retrain:${MODEL}:${day(12)}`]);
    expect(thrice.queue.messages).toEqual([]);
  });

  it('when a window holds a segment value the reference never had, then the segment is reported, not compared, and the rest is judged', async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10, 300, ['north', 'south', 'east']));

    const report = await world.run();

    expect(report.models[0]!.error).toBeUndefined();
    const judged = await window(world, day(10));
    expect(judged!.drift!.newSegments).toEqual(['region=east']);
    expect(Object.keys(judged!.drift!.segments)).toEqual(['region=north', 'region=south']);
    expect(judged!.drift!.evaluation.reasons).toContainEqual({
      scope: 'segment',
      segment: 'region=east',
      verdict: 'insufficient_data',
      message: 'region=east: not in the reference (a new segment value): reported, not compared',
    });
    // The new value shifts the region mix, which the overall comparison sees.
    expect(judged!.drift!.overall.columns.find((c) => c.name === 'region')!.drifted).toBe(true);
  });

  it('when a window\'s runs bring more region values than SEGMENT_MAX_VALUES, then the window keeps the reference regions and the most frequent new ones, folds the rest into region=__other__ and says so', async () => {
    const world = await monitorWorld();
    world.deps.segmentMaxValues = 5;
    const junk = Array.from({ length: 300 }, (_, i) => `junk-${String(i).padStart(3, '0')}`);
    // Two runs (profiles written without a cap, as before it existed), each with values of its own.
    await world.scored(day(10), usual(10, 300, ['north', 'south', 'north', 'south', ...junk.slice(0, 150)]), 'run-a');
    await world.scored(day(10), usual(11, 300, ['north', 'south', 'north', 'south', ...junk.slice(150)]), 'run-b');

    const report = await world.run();

    expect(report.models[0]!.error).toBeUndefined();
    const judged = (await window(world, day(10)))!.drift!;
    expect(Object.keys(judged.segments)).toEqual(['region=north', 'region=south']);
    // Each run: 4 rows of north, 4 of south, 292 junk rows (146 values twice, the rest once); the three junk values kept have 2 rows each.
    expect(judged.newSegments).toEqual(['region=__other__', 'region=junk-000', 'region=junk-001', 'region=junk-002']);
    expect(judged.cappedSegments).toEqual({ region: { limit: 5, distinctValuesAtLeast: 302, foldedRows: 2 * 292 - 6 } });
    expect(judged.evaluation.reasons.filter((r) => r.message.includes('not in the reference'))).toHaveLength(4);
  });

  it('when the monitor runs again, then it goes on after the last evaluated window; incomplete windows wait; a run takes at most the configured number', async () => {
    const world = await monitorWorld({}, { maxWindowsPerModel: 2 });
    for (const d of [10, 11, 12, 20]) await world.scored(day(d), usual(d));

    expect((await world.run()).models[0]!.windows.map((w) => w.windowId)).toEqual([day(10), day(11)]);
    expect((await world.run()).models[0]!.windows.map((w) => w.windowId)).toEqual([day(12)]);
    expect((await world.run()).models[0]!.windows).toEqual([]);
    expect(await window(world, day(20))).toBeUndefined(); // 2026-06-20 is not over at 12:00

    world.clock.at = new Date('2026-06-21T00:00:00Z');
    await world.scored(day(9), shifted(9)); // late rows of a window before the last check are not judged again
    expect((await world.run()).models[0]!.windows.map((w) => w.windowId)).toEqual([day(20)]);
    expect(await window(world, day(9))).toBeUndefined();
    expect(world.events.ofType('drift.evaluated')).toHaveLength(4);
  });

  it("when the window document exists, then the monitor adds its verdicts and keeps the actuals join's and batch inference's fields", async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    const baseline = championBaselineRmse(world);
    await world.labelled(day(10), baseline * 1.02, { coverage: 0.8 });
    const before = (await window(world, day(10)))!;

    await world.run();

    const after = (await window(world, day(10)))!;
    expect(after).toMatchObject({ predictions: before.predictions, labelled: before.labelled, labelCoverage: 0.8, performance: before.performance });
    expect(after.performanceVerdict).toBe('ok');
    expect(after.performanceEvaluation).toMatchObject({ metric: 'rmse', baseline, value: baseline * 1.02, degradation: expect.closeTo(0.02, 6) });
  });

  it('when realised performance is worse than the baseline beyond tolerance, then it breaches and asks for retraining; a provisional window never does', async () => {
    const world = await monitorWorld({ performance: { tolerance: 0.1, minLabelCoverage: 0.5 } });
    const baseline = championBaselineRmse(world);
    for (const d of [10, 11, 12]) await world.scored(day(d), usual(d));
    await world.labelled(day(10), baseline * 2, { coverage: 0.3 });
    await world.labelled(day(11), baseline * 2, { coverage: 0.9, provisional: true });
    await world.labelled(day(12), baseline * 1.5, { coverage: 0.9 });

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => [w.windowId, w.drift, w.performance])).toEqual([
      [day(10), 'ok', 'provisional'],
      [day(11), 'ok', 'provisional'],
      [day(12), 'ok', 'breach'],
    ]);
    expect((await window(world, day(10)))!.performanceEvaluation!.reason).toMatch(/^label coverage 30\.0% < 50\.0%; provisional: rmse/);
    expect(world.queue.messages.map((m) => [m.messageId, m.body.reason])).toEqual([[`retrain:${MODEL}:${day(12)}`, 'performance']]);
  });

  it('when actuals arrive after a window was judged, then the next run judges its performance again', async () => {
    const world = await monitorWorld();
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    await world.run();
    expect((await window(world, day(10)))!.performanceVerdict).toBe('insufficient_data');

    await world.labelled(day(10), baseline * 1.5, { updatedAt: '2026-06-20T13:00:00.000Z' });
    world.clock.at = new Date('2026-06-20T14:00:00Z');
    const again = await world.run();

    expect(again.models[0]!.windows).toEqual([{ windowId: day(10), drift: null, performance: 'breach', retraining: { reason: 'performance', requestId: `retrain:${MODEL}:${day(10)}` } }]);
    const judged = (await window(world, day(10)))!;
    expect(judged.drift!.evaluatedAt).toBe('2026-06-20T12:00:00.000Z'); // drift is not judged twice
    expect(world.queue.messages.map((m) => m.body.reason)).toEqual(['performance']);
    expect((await world.run()).models[0]!.windows).toEqual([]); // nothing new since
  });

  it('when a judged window\'s labelled rows are all taken out (its actuals file replaced by a version without them), then the next run judges it again: insufficient_data, not the old breach', async () => {
    const world = await monitorWorld({ performance: { tolerance: 0.1 } });
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    await world.labelled(day(10), baseline * 2, { coverage: 0.9 });
    expect((await world.run()).models[0]!.windows.map((w) => w.performance)).toEqual(['breach']);
    // The replacement recomputes the window from the files left: none.
    const stored = (await world.runs.windows.get(MODEL, day(10)))!;
    await world.runs.windows.replace(MODEL, day(10), { ...stored.value, labelled: 0, labelCoverage: 0, performance: null }, stored.etag);
    world.clock.at = new Date('2026-06-20T14:00:00Z');

    const again = await world.run();

    expect(again.models[0]!.windows).toEqual([{ windowId: day(10), drift: null, performance: 'insufficient_data' }]);
    expect(await window(world, day(10))).toMatchObject({ performance: null, performanceVerdict: 'insufficient_data', performanceEvaluation: { judgedUpdatedAt: null } });
    expect((await world.run()).models[0]!.windows).toEqual([]); // nothing new since
  });

  it('when actuals come late for windows the previous champion scored, then they are held against that version\'s validation, and its breach asks for no retraining of the new champion', async () => {
    const world = await monitorWorld();
    const baseline = championBaselineRmse(world);
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));
    await world.run();
    // v2, validated with half v1's error, becomes champion before the actuals of v1's windows arrive.
    const v1 = [...world.store.versions.values()].find((v) => v.value.modelName === MODEL)!.value;
    const evidence = JSON.parse(world.lake.body(lakePaths.evidence(MODEL, 1, v1.evidenceHash!)).toString()) as {
      version: number;
      splits: Array<{ challenger: { overall: { metrics: { rmse: { value: number } } } } }>;
    };
    for (const split of evidence.splits) split.challenger.overall.metrics.rmse.value /= 2;
    const v2Hash = 'b'.repeat(64);
    await world.lake.write(lakePaths.evidence(MODEL, 2, v2Hash), Buffer.from(JSON.stringify({ ...evidence, version: 2 })));
    await world.store.registerVersion(MODEL, () => ({ ...v1, version: 2, evidenceHash: v2Hash }));
    const pointer = (await world.store.getChampion(MODEL))!;
    await world.store.swapChampion({ ...pointer.value, version: 2, previous: [1], epoch: 2, since: '2026-06-15T00:00:00.000Z' }, pointer.etag);

    await world.labelled(day(10), baseline * 1.02, { updatedAt: '2026-06-20T13:00:00.000Z' });
    await world.labelled(day(11), baseline * 1.5, { updatedAt: '2026-06-20T13:00:00.000Z' });
    world.clock.at = new Date('2026-06-20T14:00:00Z');
    const again = await world.run();

    // v1 did as it validated on day 10 (against v2's validation it would have been a breach).
    expect((await window(world, day(10)))!.performanceEvaluation).toMatchObject({ baseline, value: baseline * 1.02, degradation: expect.closeTo(0.02, 6) });
    expect((await window(world, day(10)))!.performanceVerdict).toBe('ok');
    // v1 degraded on day 11: recorded as a breach, but v2 serves now and is not retrained for it.
    const blockedBy = 'the window was scored by v1, which is no longer the champion (v2)';
    expect(again.models[0]!.windows).toEqual([
      { windowId: day(10), drift: null, performance: 'ok' },
      { windowId: day(11), drift: null, performance: 'breach', retraining: { reason: 'performance', requestId: null, blockedBy } },
    ]);
    expect((await window(world, day(11)))!.retraining).toEqual({ reason: 'performance', requestId: null, blockedBy });
    expect(world.queue.messages).toEqual([]);
    expect(await world.runs.retraining.list(MODEL)).toEqual([]);
  });

  it('when the send fails after the request was recorded, then the next run sends it once and no second request is made', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    world.queue.failNext = true;

    const failed = await world.run();

    expect(failed.failures.map((f) => String(f.error))).toEqual(['Error: the broker is unreachable']);
    expect(failed.models[0]!.error).toBe('the broker is unreachable');
    expect(await world.runs.retraining.list(MODEL)).toHaveLength(1);
    expect(world.queue.messages).toEqual([]);
    expect((await world.runs.monitors.get(MODEL, MONITOR_STATE_ID))!.value.evaluatedUntil).toBe('2026-06-11T00:00:00.000Z');

    const retried = await world.run();

    expect(retried.failures).toEqual([]);
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([`retrain:${MODEL}:${day(11)}`]);
    expect(await world.runs.retraining.list(MODEL)).toHaveLength(1);
    expect(world.events.ofType('retraining.requested')).toHaveLength(1);
    expect(world.events.ofType('drift.evaluated')).toHaveLength(2);
  });

  it('when the reference is the rolling window, then each window is compared with the stored windows before it', async () => {
    const world = await monitorWorld({ drift: { reference: { kind: 'rolling', windows: 2 }, consecutiveWindows: 1 } });
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));
    await world.scored(day(12), usual(12));
    await world.scored(day(13), shifted(13));

    await world.run();

    const first = (await window(world, day(10)))!.drift!;
    expect(first.reference).toBe('rolling windows (none) (0 of 2)');
    expect(first.evaluation).toMatchObject({ verdict: 'insufficient_data', reasons: [expect.objectContaining({ message: 'no stored window to form the rolling reference yet' })] });
    expect((await window(world, day(11)))!.drift!.reference).toBe(`rolling windows ${day(10)} (1 of 2)`);
    const third = (await window(world, day(12)))!.drift!;
    expect([third.reference, third.evaluation.verdict]).toEqual([`rolling windows ${day(10)} ${day(11)}`, 'ok']);
    expect(third.overall.columns.find((c) => c.name === 'x1')!.referenceCount).toBe(400);
    expect((await window(world, day(13)))!.drift!.evaluation.verdict).toBe('breach');
  });

  it('when the champion has no reference profile or a window profile is broken, then the window is insufficient_data with the reason and the run goes on', async () => {
    const world = await monitorWorld();
    await world.lake.delete(lakePaths.referenceProfile(MODEL, 1));
    await world.scored(day(10), usual(10));
    await world.lake.write(lakePaths.windowRunProfile(MODEL, day(11), 'broken'), Buffer.from('{"schemaVersion": 1'));

    const report = await world.run();

    expect(report.models[0]!.windows.map((w) => w.drift)).toEqual(['insufficient_data', 'insufficient_data']);
    expect((await window(world, day(10)))!.drift!.evaluation.reasons[0]!.message).toBe('the champion v1 has no reference profile (profiles/regional/v1/reference.json)');
    expect((await window(world, day(11)))!.drift!.evaluation.reasons[0]!.message).toMatch(/^not compared: profiles\/regional\/windows\/20260611T0000Z\/runs\/broken\.json is not JSON/);
  });

  it('when the profiles folder holds something that is not a window (a stray folder, a date written another way), then it is left alone and the windows are judged', async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));
    // Someone copied a real run profile into folders of their own.
    const folder = lakePaths.windowsProfilesFolder(MODEL);
    const profile = world.lake.body([...world.lake.objects.keys()].find((p) => p.startsWith(`${folder}${day(10)}/runs/`))!);
    for (const stray of ['notes', '2026-06-12', '20260231T0000Z', '20261301T0000Z']) await world.lake.write(`${folder}${stray}/runs/copy.json`, profile);

    const report = await world.run();

    expect(report.models[0]!.error).toBeUndefined();
    expect(report.models[0]!.windows.map((w) => [w.windowId, w.drift])).toEqual([
      [day(10), 'ok'],
      [day(11), 'ok'],
    ]);
    expect((await world.runs.monitors.get(MODEL, MONITOR_STATE_ID))?.value.evaluatedUntil).toBe('2026-06-12T00:00:00.000Z');
  });

  it('when a model has no champion, then it is listed as not monitored', async () => {
    const world = await monitorWorld();
    world.store.champions.delete(MODEL);
    await world.scored(day(10), shifted(10));
    expect(await world.run()).toEqual({ models: [], withoutChampion: [MODEL], failures: [] });
  });

  it("when one model's champion cannot be read (a damaged document, an outage), then it is reported as a failure and the models after it are still judged", async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    // Listed before MODEL ('regional'): its champion pointer does not read.
    await world.store.createModel({ modelName: 'aaa-damaged', definition: { ...world.definition, name: 'aaa-damaged' }, createdAt: '2026-06-01T00:00:00.000Z', updatedAt: '2026-06-01T00:00:00.000Z', createdBy: 'carlos', latestVersion: 0 });
    const getChampion = world.store.getChampion.bind(world.store);
    world.store.getChampion = (model) => (model === 'aaa-damaged' ? Promise.reject(new Error('stored registry document champion is invalid')) : getChampion(model));
    expect((await world.store.listModels()).models.map((m) => m.modelName)).toEqual(['aaa-damaged', MODEL]);

    const report = await world.run();

    expect(report.models.map((m) => [m.model, m.windows.map((w) => w.windowId)])).toEqual([[MODEL, [day(10)]]]);
    expect(report.failures).toEqual([{ model: 'aaa-damaged', error: new Error('stored registry document champion is invalid') }]);
    expect(await window(world, day(10))).toMatchObject({ drift: { evaluatedAt: '2026-06-20T12:00:00.000Z' } });
  });

  it("when one model's monitor state no longer reads, then that model is left alone naming the document (nothing judged, the document kept) and the other models are judged", async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));
    // Listed before MODEL ('regional'), with a champion, and a monitor state that does not read.
    await world.store.createModel({ modelName: 'aaa-damaged', definition: { ...world.definition, name: 'aaa-damaged' }, createdAt: '2026-06-01T00:00:00.000Z', updatedAt: '2026-06-01T00:00:00.000Z', createdBy: 'carlos', latestVersion: 0 });
    const getChampion = world.store.getChampion.bind(world.store);
    world.store.getChampion = (model) => getChampion(model === 'aaa-damaged' ? MODEL : model);
    const damaged = { modelName: 'aaa-damaged', evaluatedUntil: 'yesterday', recent: [] };
    world.runs.monitors.storeUnchecked('aaa-damaged', MONITOR_STATE_ID, damaged);
    await world.runs.retraining.create('aaa-damaged', 'retrain:aaa-damaged:20260601T0000Z', {
      requestId: 'retrain:aaa-damaged:20260601T0000Z', modelName: 'aaa-damaged', version: 1, reason: 'drift', windowId: '20260601T0000Z', state: 'queued', requestedAt: '2026-06-01T00:10:00.000Z',
    });

    const report = await world.run();

    expect(report.failures).toEqual([]);
    const [left, judged] = report.models;
    expect(left).toEqual({
      model: 'aaa-damaged',
      version: 1,
      windows: [],
      requests: [],
      unreadableState: { id: MONITOR_STATE_ID, reason: expect.stringMatching(/^its stored monitor document is invalid: .*evaluatedUntil/s) },
      skipped: expect.stringMatching(/^its monitor state document 'monitor' cannot be read \(its stored monitor document is invalid: .*\); repair or remove it$/s),
    });
    expect(world.runs.monitors.docs.get(`aaa-damaged/${MONITOR_STATE_ID}`)!.value).toEqual(damaged);
    // Left alone altogether: not even its requests are judged without the model's lease.
    expect((await world.runs.retraining.get('aaa-damaged', 'retrain:aaa-damaged:20260601T0000Z'))!.value.state).toBe('queued');
    expect(judged).toMatchObject({ model: MODEL, windows: [{ windowId: day(10) }, { windowId: day(11), drift: 'breach' }], requests: [`retrain:${MODEL}:${day(11)}`] });
    expect(judged!.skipped).toBeUndefined();
  });

  it('when reading the monitor state fails with an outage, then it is a failure of the run, not a document left alone', async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    world.runs.monitors.get = () => Promise.reject(new Error('ECONNRESET'));

    const report = await world.run();

    expect(report.failures).toEqual([{ model: MODEL, error: new Error('ECONNRESET') }]);
    expect(report.models[0]).toMatchObject({ error: 'ECONNRESET', windows: [] });
    expect(report.models[0]!.unreadableState).toBeUndefined();
  });

  it('when a window document of the model no longer reads, then it is left out with the reason and the other windows are judged', async () => {
    const world = await monitorWorld();
    world.runs.windows.storeUnchecked(MODEL, day(5), { modelName: MODEL, window: 'not a window' });
    await world.scored(day(10), usual(10));

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]).toMatchObject({ windows: [{ windowId: day(10), drift: 'ok' }], unreadableWindows: [{ id: day(5), reason: expect.stringMatching(/^its stored window document is invalid: /) }] });
    expect(report.models[0]!.error).toBeUndefined();
    expect(await window(world, day(10))).toMatchObject({ drift: { evaluatedAt: '2026-06-20T12:00:00.000Z' } });
  });

  it('when a retraining request of the model no longer reads, then a breach sends no request: the gate fails closed, naming the document', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    const damaged = `retrain:${MODEL}:${day(1)}`;
    world.runs.retraining.storeUnchecked(MODEL, damaged, { requestId: damaged, modelName: MODEL, state: 'queued' });
    await world.scored(day(10), shifted(10));
    await world.scored(day(11), shifted(11));

    const report = await world.run();

    expect(world.queue.messages).toEqual([]);
    expect(report.models[0]!.requests).toEqual([]);
    const naming = `the stored retraining document '${damaged}' of '${MODEL}' cannot be read: its stored retraining document is invalid`;
    expect(report.models[0]!.error).toContain(naming);
    expect(report.failures).toEqual([{ model: MODEL, error: expect.objectContaining({ message: expect.stringContaining(naming) }) }]);
    expect((await window(world, day(11)))?.retraining).toBeUndefined();
  });

  it("when a model's stored document cannot be read, then it is reported as a failure with the reason and the readable models are still judged", async () => {
    const world = await monitorWorld();
    await world.scored(day(10), usual(10));
    const listModels = world.store.listModels.bind(world.store);
    world.store.listModels = async () => ({ ...(await listModels()), unreadable: [{ modelName: 'aaa-damaged', reason: 'its stored model document is invalid: task' }] });

    const report = await world.run();

    expect(report.models.map((m) => [m.model, m.windows.map((w) => w.windowId)])).toEqual([[MODEL, [day(10)]]]);
    expect(report.failures).toEqual([{ model: 'aaa-damaged', error: new Error('its stored model document is invalid: task') }]);
  });
});

/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { windowFromId, windowLengthMs } from '../../../shared/domain/windows';
import { retrainingRequestId } from '../../../shared/schemas/messages';
import type { RetrainingRecord } from '../../../shared/schemas/monitoring';
import { gateRecords, requestRetraining } from '../../../shared/usecases/request-retraining';
import { closeRetrainingForVersion, recordTrainingResult } from '../../../shared/usecases/retraining-records';
import { MODEL, monitorWorld, shifted, usual } from '../../support/monitoring-kit';

/** Daily windows of June 2026: day(10) is 20260610T0000Z. The world's clock is 2026-06-20T12:00Z. */
const day = (d: number) => `202606${String(d).padStart(2, '0')}T0000Z`;
const TWO_IN_A_ROW = { drift: { consecutiveWindows: 2, cooldown: 'PT0S' } };
const OLD = retrainingRequestId(MODEL, day(4));
const NEW = retrainingRequestId(MODEL, day(12));

/** The request of day 4, raised on 2026-06-05 (outside the retraining cooldown), as a handler left it. */
function anOldRequest(overrides: Partial<RetrainingRecord>): RetrainingRecord {
  return { requestId: OLD, modelName: MODEL, version: 1, reason: 'drift', windowId: day(4), state: 'queued', requestedAt: '2026-06-05T00:10:00.000Z', ...overrides };
}

/** A world whose days 10 (usual), 11 and 12 (shifted) make day 12 breach, with `old` stored. */
async function breachingWorld(old: RetrainingRecord) {
  const world = await monitorWorld(TWO_IN_A_ROW);
  await world.scored(day(10), usual(10));
  await world.scored(day(11), shifted(11));
  await world.scored(day(12), shifted(12));
  await world.runs.retraining.create(MODEL, OLD, old);
  return world;
}

const stored = async (world: Awaited<ReturnType<typeof monitorWorld>>, id: string) => (await world.runs.retraining.get(MODEL, id))?.value;

describe('retraining requests presumed lost', () => {
  it('when a built-in training stopped making progress long ago (its handler died on its last delivery), then it is failed with the reason and the next breach raises a request', async () => {
    const world = await breachingWorld(anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-05T00:12:00.000Z' }));

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.requests).toEqual([NEW]);
    expect(world.queue.messages.map((m) => m.messageId)).toEqual([NEW]);
    const reason =
      'no progress since 2026-06-05T00:12:00.000Z, presumed lost: the built-in trainer stopped without recording an outcome (every delivery of its message can have run to the function timeout)';
    expect(await stored(world, OLD)).toEqual({ ...anOldRequest({}), state: 'failed', trainer: 'builtin', error: reason, updatedAt: '2026-06-20T12:00:00.000Z' });
    expect(world.events.ofType('retraining.changed')).toEqual([
      expect.objectContaining({ eventId: `${OLD}:failed`, correlationId: OLD, data: { requestId: OLD, state: 'failed', trainer: 'builtin', error: reason } }),
    ]);
    expect(await stored(world, NEW)).toMatchObject({ state: 'queued', requestedAt: '2026-06-20T12:00:00.000Z' });
    expect((await world.runs.windows.get(MODEL, day(12)))!.value.retraining).toEqual({ reason: 'drift', requestId: NEW });
  });

  it('when a run finds no breach, then an open request past its bound is still failed as presumed lost (same reason, event) and one within its bound is left alone', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), usual(10));
    await world.scored(day(11), usual(11));
    const stuck = anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-05T00:12:00.000Z' });
    const RECENT = retrainingRequestId(MODEL, day(9));
    const recent = anOldRequest({ requestId: RECENT, windowId: day(9), state: 'queued', requestedAt: '2026-06-20T11:00:00.000Z' });
    await world.runs.retraining.create(MODEL, OLD, stuck);
    await world.runs.retraining.create(MODEL, RECENT, recent);

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.windows.map((w) => w.drift)).toEqual(['ok', 'ok']);
    expect(report.models[0]!.requests).toEqual([]);
    expect(report.models[0]!.presumedLost).toEqual([OLD]);
    const reason =
      'no progress since 2026-06-05T00:12:00.000Z, presumed lost: the built-in trainer stopped without recording an outcome (every delivery of its message can have run to the function timeout)';
    expect(await stored(world, OLD)).toEqual({ ...stuck, state: 'failed', error: reason, updatedAt: '2026-06-20T12:00:00.000Z' });
    expect(await stored(world, RECENT)).toEqual(recent);
    expect(world.events.ofType('retraining.changed')).toEqual([
      expect.objectContaining({ eventId: `${OLD}:failed`, correlationId: OLD, data: { requestId: OLD, state: 'failed', trainer: 'builtin', error: reason } }),
    ]);

    // Failed once: the next run finds nothing left to fail.
    expect((await world.run()).models[0]!.presumedLost).toBeUndefined();
    expect(world.events.ofType('retraining.changed')).toHaveLength(1);
  });

  it('when a run fails a request presumed lost but the handler made progress in between, then the ETag-guarded write leaves it open', async () => {
    const world = await monitorWorld(TWO_IN_A_ROW);
    await world.scored(day(10), usual(10));
    await world.runs.retraining.create(MODEL, OLD, anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-05T00:12:00.000Z' }));
    const collection = world.runs.retraining;
    const replace = collection.replace.bind(collection);
    collection.replace = async (model, id, doc, etag) => {
      const current = (await collection.get(model, id))!;
      await replace(model, id, { ...current.value, error: 'delivery 5 failed, to be retried: timeout', updatedAt: '2026-06-20T11:59:00.000Z' }, current.etag);
      collection.replace = replace;
      return replace(model, id, doc, etag);
    };

    const report = await world.run();

    expect(report.failures).toEqual([]);
    expect(report.models[0]!.presumedLost).toBeUndefined();
    expect(await stored(world, OLD)).toMatchObject({ state: 'training', updatedAt: '2026-06-20T11:59:00.000Z' });
    expect(world.events.ofType('retraining.changed')).toEqual([]);
  });

  it('when a built-in training made progress within the bound, then it still blocks, saying until when, and is left as it is', async () => {
    const fresh = anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-20T10:00:00.000Z' });
    const world = await breachingWorld(fresh);

    const report = await world.run();

    expect(report.models[0]!.requests).toEqual([]);
    expect(world.queue.messages).toEqual([]);
    expect(await stored(world, OLD)).toEqual(fresh);
    expect(world.events.ofType('retraining.changed')).toEqual([]);
    expect((await world.runs.windows.get(MODEL, day(12)))!.value.retraining).toEqual({
      reason: 'drift',
      requestId: null,
      blockedBy: `request ${OLD} is still open (training; last progress 2026-06-20T10:00:00.000Z, presumed lost without progress after 2026-06-20T12:55:00.000Z)`,
    });
  });

  it('when a queued request was never taken (its message lost) or a webhook retraining ended without recording it, then past their bounds they no longer block', async () => {
    const cases: Array<[Partial<RetrainingRecord>, RegExp]> = [
      [{ requestedAt: '2026-06-19T11:59:00.000Z' }, /^no progress since 2026-06-19T11:59:00.000Z, presumed lost: its message was not taken by the retraining trigger/],
      [{ state: 'training', trainer: 'webhook', requestedAt: '2026-06-19T05:40:00.000Z', updatedAt: '2026-06-19T05:52:00.000Z' }, /^no progress since 2026-06-19T05:52:00.000Z, presumed lost: its webhook retraining ended/],
    ];
    for (const [overrides, reason] of cases) {
      const world = await monitorWorld();
      const old = anOldRequest(overrides);
      await world.runs.retraining.create(MODEL, OLD, old);
      const ask = {
        model: MODEL,
        version: 1,
        reason: 'performance' as const,
        window: windowFromId(day(12), windowLengthMs('P1D')),
        policy: { ...world.definition.policies.retraining, cooldown: 'PT0S' },
        records: await world.runs.retraining.list(MODEL),
        evidence: {},
        now: world.clock.now(),
      };

      expect(await requestRetraining(world.deps, ask)).toMatchObject({ sent: true, outcome: { requestId: NEW } });
      expect(await stored(world, OLD)).toMatchObject({ state: 'failed', error: expect.stringMatching(reason) });

      // A minute earlier, each was still within its bound.
      await world.runs.retraining.replace(MODEL, OLD, old, (await world.runs.retraining.get(MODEL, OLD))!.etag);
      const earlier = { ...ask, window: windowFromId(day(13), windowLengthMs('P1D')), records: [old], now: new Date('2026-06-20T11:58:00Z') };
      expect(await requestRetraining(world.deps, earlier)).toMatchObject({ sent: false, outcome: { requestId: null, blockedBy: expect.stringMatching(/^request .* is still open/) } });
      expect(await stored(world, OLD)).toEqual(old);
    }
  });

  it('when the handler makes progress between the read the gate judged and the write, then the ETag-guarded write re-judges it and leaves it open', async () => {
    const stuck = anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-05T00:12:00.000Z' });
    const world = await breachingWorld(stuck);
    const collection = world.runs.retraining;
    const replace = collection.replace.bind(collection);
    let raced = false;
    collection.replace = async (model, id, doc, etag) => {
      if (id === OLD && !raced) {
        raced = true;
        // A late delivery of its message notes an outage just before the monitor's write lands.
        const current = (await collection.get(model, id))!;
        await replace(model, id, { ...current.value, error: 'delivery 5 failed, to be retried: timeout', updatedAt: '2026-06-20T11:59:00.000Z' }, current.etag);
      }
      return replace(model, id, doc, etag);
    };

    const report = await world.run();

    expect(raced).toBe(true);
    expect(report.failures).toEqual([]);
    expect(report.models[0]!.requests).toEqual([]);
    expect(await stored(world, OLD)).toMatchObject({ state: 'training', error: 'delivery 5 failed, to be retried: timeout', updatedAt: '2026-06-20T11:59:00.000Z' });
    expect(world.events.ofType('retraining.changed')).toEqual([]);
    expect((await world.runs.windows.get(MODEL, day(12)))!.value.retraining).toMatchObject({
      requestId: null,
      blockedBy: `request ${OLD} is still open (training; last progress 2026-06-20T11:59:00.000Z, presumed lost without progress after 2026-06-20T14:54:00.000Z)`,
    });
  });

  it('when a request presumed lost registers a version after all, then its result is recorded and its lifecycle closes it; the new request goes on', async () => {
    const world = await breachingWorld(anOldRequest({ state: 'training', trainer: 'builtin', updatedAt: '2026-06-05T00:12:00.000Z' }));
    expect((await world.run()).models[0]!.requests).toEqual([NEW]);
    const deps = { runs: world.runs, clock: world.clock, events: world.events, registry: world.store };

    expect(await recordTrainingResult(deps, MODEL, OLD, 2)).toMatchObject({ requestId: OLD, state: 'registered', resultVersion: 2 });
    expect((await stored(world, OLD))!.error).toBeUndefined();
    expect(await closeRetrainingForVersion(deps, { model: MODEL, version: 2, outcome: 'rejected' })).toEqual([expect.objectContaining({ requestId: OLD, state: 'closed', outcome: 'rejected' })]);
    expect(await stored(world, NEW)).toMatchObject({ state: 'queued' });
    expect(world.events.ofType('retraining.changed').map((e) => e.eventId)).toEqual([`${OLD}:failed`, `${OLD}:registered`, `${OLD}:closed`]);
  });
});

describe('the records the retraining gate reads', () => {
  it("when the window's own request is long closed and another request is open, then the gate reads both (not the past) and a new breach of the window keeps its link to its request", async () => {
    const world = await monitorWorld();
    const own = anOldRequest({ state: 'closed', outcome: 'rejected', closedAt: '2026-06-06T00:00:00.000Z' });
    const open = anOldRequest({ requestId: NEW, windowId: day(12), state: 'queued', requestedAt: '2026-06-20T11:00:00.000Z' });
    const past = anOldRequest({ requestId: retrainingRequestId(MODEL, day(3)), windowId: day(3), state: 'failed', requestedAt: '2026-06-04T00:10:00.000Z' });
    for (const r of [own, open, past]) await world.runs.retraining.create(MODEL, r.requestId, r);
    const ask = { model: MODEL, window: windowFromId(day(4), windowLengthMs('P1D')), policy: world.definition.policies.retraining, now: world.clock.now() };

    const records = await gateRecords(world.runs, ask);

    expect(records).toEqual([own, open]);
    expect(await requestRetraining(world.deps, { ...ask, version: 1, reason: 'performance', records, evidence: {} })).toEqual({ outcome: { reason: 'drift', requestId: OLD }, record: own, sent: false });
    // Another window's gate reads the open request only.
    expect(await gateRecords(world.runs, { ...ask, window: windowFromId(day(13), windowLengthMs('P1D')) })).toEqual([open]);
  });
});

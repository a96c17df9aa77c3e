/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * The operators' metrics besides the event counters (shared/adapters/telemetry/metrics.ts), read
 * back through an in-memory metric reader: drift statistics per column and breaches as the drift
 * monitor records windows, Service Bus message age, pending approvals and their time left.
 */
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';

import { driftMetrics, OVERALL_SEGMENT, recordPendingApprovals, recordQueueAge } from '../../../shared/adapters/telemetry/metrics';
import type { UnreadableVersion } from '../../../shared/ports/model-registry';
import type { LifecycleState } from '../../../shared/schemas/lifecycle';
import { modelInputSchema } from '../../../shared/schemas/model';
import type { ModelVersion } from '../../../shared/schemas/model-version';
import type { ModelRecord } from '../../../shared/schemas/registry';
import { pendingApprovals } from '../../../shared/usecases/pending-approvals';
import { aModelDefinition, aModelVersion } from '../../support/builders';
import { captureMetricsInFile } from '../../support/metric-capture';
import { MODEL, monitorWorld, shifted, usual } from '../../support/monitoring-kit';

const metricsCapture = captureMetricsInFile();

/** The data points of one metric. */
async function points<T = number>(name: string): Promise<Array<DataPoint<T>>> {
  const { resourceMetrics } = await metricsCapture.reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as Array<DataPoint<T>>));
}

const day = (d: number) => `202606${String(d).padStart(2, '0')}T0000Z`;

describe('drift metrics', () => {
  it('when the monitor records windows, then each column statistic is recorded per segment with its method and verdict, and a breach is counted', async () => {
    const world = await monitorWorld({ drift: { consecutiveWindows: 2, cooldown: 'PT0S' } });
    world.deps.metrics = driftMetrics;
    await world.scored(day(10), usual(10));
    await world.scored(day(11), shifted(11));
    await world.scored(day(12), shifted(12));
    const report = await world.run();
    expect(report.models[0]!.windows.map((w) => w.drift)).toEqual(['ok', 'warning', 'breach']);

    // What the windows hold, as the metric should have it: one value per column, segment and window.
    const expected = new Map<string, number[]>();
    for (const d of [10, 11, 12]) {
      const drift = (await world.runs.windows.get(MODEL, day(d)))!.value.drift!;
      for (const [segment, r] of [[OVERALL_SEGMENT, drift.overall] as const, ...Object.entries(drift.segments)]) {
        for (const c of r.columns) {
          if (c.statistic === null) continue;
          const key = JSON.stringify({ model: MODEL, column: c.name, segment, method: c.method, verdict: c.verdict, drifted: c.drifted });
          expected.set(key, [...(expected.get(key) ?? []), c.statistic]);
        }
      }
    }
    const recorded = await points<Histogram>('mlops.drift.statistic');
    const got = new Map(recorded.map((p) => [JSON.stringify(p.attributes), p.value]));
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, values] of expected) {
      expect({ key, count: got.get(key)!.count, sum: got.get(key)!.sum }).toEqual({ key, count: values.length, sum: expect.closeTo(values.reduce((a, b) => a + b, 0), 9) });
    }
    // x1 drifted overall in the two shifted windows, and segments are there too.
    const x1 = recorded.find((p) => p.attributes.column === 'x1' && p.attributes.segment === OVERALL_SEGMENT && p.attributes.drifted === true);
    expect(x1?.value.count).toBe(2);
    expect(recorded.some((p) => p.attributes.segment === 'region=north')).toBe(true);

    expect((await points('mlops.drift.breaches')).map((p) => [p.attributes, p.value])).toEqual([[{ model: MODEL, alert: true }, 1]]);
  });

  it('when no window breaches, then no breach is counted', async () => {
    const world = await monitorWorld();
    world.deps.metrics = driftMetrics;
    await world.scored(day(10), usual(10));
    await world.run();
    expect(await points('mlops.drift.breaches')).toEqual([]);
    expect((await points<Histogram>('mlops.drift.statistic')).length).toBeGreaterThan(0);
  });
});

describe('queue age', () => {
  const now = Date.parse('2026-12-01T00:00:30.000Z');

  it('when a message was enqueued 30 s ago, then its age is recorded in seconds with the entity', async () => {
    expect(recordQueueAge('retraining-requests', '2026-12-01T00:00:00.000Z', now)).toBe(30);
    // The host may give a UTC time without its zone.
    expect(recordQueueAge('retraining-requests', '2026-12-01T00:00:20', now)).toBe(10);
    expect(recordQueueAge('model-events/champion-changes', new Date('2026-12-01T00:00:29.500Z'), now)).toBe(0.5);
    const recorded = await points<Histogram>('mlops.queue.age');
    expect(recorded.map((p) => [p.attributes, p.value.count, p.value.sum, p.value.max]).sort()).toEqual([
      [{ entity: 'model-events/champion-changes' }, 1, 0.5, 0.5],
      [{ entity: 'retraining-requests' }, 2, 40, 30],
    ]);
  });

  it('when the metadata has no readable enqueued time, then nothing is recorded', async () => {
    expect(recordQueueAge('retraining-requests', undefined, now)).toBeUndefined();
    expect(recordQueueAge('retraining-requests', 'yesterday', now)).toBeUndefined();
    expect(await points('mlops.queue.age')).toEqual([]);
  });
});

describe('pending approvals', () => {
  const at = (iso: string) => iso;
  function world(timeout: string, autoApprove = false, unreadable: UnreadableVersion[] = []) {
    const definition = modelInputSchema.parse(aModelDefinition({ policies: { approval: { timeout, autoApprove } } }));
    const model: ModelRecord = { modelName: 'churn', definition, createdAt: at('2026-06-01T00:00:00.000Z'), updatedAt: at('2026-06-01T00:00:00.000Z'), createdBy: 'carlos', latestVersion: 3 };
    const pendingSince = (version: number, since: string): ModelVersion =>
      aModelVersion({
        version,
        state: 'pending_approval',
        revision: 3,
        updatedAt: since,
        history: [
          { id: `churn:v${version}:r2`, kind: 'transition', modelName: 'churn', version, revision: 2, command: 'start_validation', from: 'registered', to: 'validating', actor: { id: 'system', kind: 'system', roles: [] }, at: '2026-06-01T00:00:00.000Z' },
          { id: `churn:v${version}:r3`, kind: 'transition', modelName: 'churn', version, revision: 3, command: 'pass_validation', from: 'validating', to: 'pending_approval', actor: { id: 'system', kind: 'system', roles: [] }, at: since },
        ],
      });
    const versions = [pendingSince(1, '2026-06-10T00:00:00.000Z'), aModelVersion({ version: 2, state: 'production' }), pendingSince(3, '2026-06-14T12:00:00.000Z')];
    return {
      listModels: () => Promise.resolve({ models: [model], unreadable: [] }),
      listReadableVersionsInState: (_model: string, state: LifecycleState) => Promise.resolve({ versions: versions.filter((v) => v.state === state), unreadable }),
    };
  }

  it('when versions wait for approval, then each deadline is their entry into pending_approval plus the timeout, soonest first', async () => {
    const [churn] = await pendingApprovals(world('P7D'), new Date('2026-06-16T00:00:00.000Z'));
    expect(churn!.pending).toEqual([
      { model: 'churn', version: 1, pendingSince: '2026-06-10T00:00:00.000Z', deadline: '2026-06-17T00:00:00.000Z', deadlineSource: 'policy', timeLeftMs: 24 * 3_600_000 },
      { model: 'churn', version: 3, pendingSince: '2026-06-14T12:00:00.000Z', deadline: '2026-06-21T12:00:00.000Z', deadlineSource: 'policy', timeLeftMs: 5.5 * 24 * 3_600_000 },
    ]);
  });

  it("when a running lifecycle reports its deadline (the model's timeout changed since it started), then the watch reports that one, from the lifecycle, and the order and the gauge follow it", async () => {
    const now = new Date('2026-06-16T00:00:00.000Z');
    // The policy now says P7D; v1's lifecycle read P2D as it started and expires it on the 12th. v3's lifecycle reports none yet.
    const lifecycleDeadline = (_model: string, version: number) => Promise.resolve(version === 1 ? '2026-06-12T00:00:00Z' : undefined);
    const [churn] = await pendingApprovals(world('P7D'), now, { lifecycleDeadline });
    expect(churn!.pending.map((p) => [p.version, p.deadline, p.deadlineSource, p.timeLeftMs])).toEqual([
      [1, '2026-06-12T00:00:00.000Z', 'lifecycle', -4 * 24 * 3_600_000],
      [3, '2026-06-21T12:00:00.000Z', 'policy', 5.5 * 24 * 3_600_000],
    ]);
    expect(churn!.statusUnread).toEqual([]);
    recordPendingApprovals([churn!]);
    expect((await points('mlops.approvals.time_left')).map((p) => [p.attributes, p.value])).toEqual([
      [{ model: 'churn', version: '1', deadline: '2026-06-12T00:00:00.000Z', deadlineSource: 'lifecycle' }, -4 * 86_400],
      [{ model: 'churn', version: '3', deadline: '2026-06-21T12:00:00.000Z', deadlineSource: 'policy' }, 5.5 * 86_400],
    ]);
  });

  it("when a lifecycle's status fails or does not come within the timeout, then that version keeps the policy's deadline and is listed with the reason, and the others' statuses still count", async () => {
    const statuses: Record<number, () => Promise<string | undefined>> = {
      1: () => Promise.reject(new Error('HTTP 503 from the durable task extension')),
      // Never answers: the watch must not wait for it.
      3: () => new Promise<never>(() => undefined),
    };
    const [churn] = await pendingApprovals(world('P7D'), new Date('2026-06-16T00:00:00.000Z'), { lifecycleDeadline: (_model, version) => statuses[version]!(), statusTimeoutMs: 50 });
    expect(churn!.pending.map((p) => [p.version, p.deadline, p.deadlineSource])).toEqual([
      [1, '2026-06-17T00:00:00.000Z', 'policy'],
      [3, '2026-06-21T12:00:00.000Z', 'policy'],
    ]);
    expect(churn!.statusUnread).toEqual([
      { version: 1, reason: 'HTTP 503 from the durable task extension' },
      { version: 3, reason: "its lifecycle's status did not come within 50 ms" },
    ]);

    statuses[3] = () => Promise.resolve('2026-06-20T00:00:00Z');
    const [again] = await pendingApprovals(world('P7D'), new Date('2026-06-16T00:00:00.000Z'), { lifecycleDeadline: (_model, version) => statuses[version]!(), statusTimeoutMs: 50 });
    expect(again!.pending.map((p) => [p.version, p.deadlineSource])).toEqual([
      [1, 'policy'],
      [3, 'lifecycle'],
    ]);
    expect(again!.statusUnread.map((u) => u.version)).toEqual([1]);
  });

  it("when one model's versions cannot be read (an outage), then the others' approvals are still found and recorded, and that model gets no count rather than 0", async () => {
    const churn = world('PT36H');
    const [record] = (await churn.listModels()).models;
    const damaged: ModelRecord = { ...record!, modelName: 'aaa-damaged', definition: { ...record!.definition, name: 'aaa-damaged' } };
    const registry = {
      listModels: () => Promise.resolve({ models: [damaged, record!], unreadable: [] }),
      listReadableVersionsInState: (model: string, state: LifecycleState) =>
        model === 'aaa-damaged' ? Promise.reject(new Error('Service Unavailable')) : churn.listReadableVersionsInState(model, state),
    };
    const found = await pendingApprovals(registry, new Date('2026-06-15T12:00:00.000Z'));
    expect(found.map((m) => [m.model, m.pending.map((p) => p.version), m.error])).toEqual([
      ['aaa-damaged', [], 'Service Unavailable'],
      ['churn', [1, 3], undefined],
    ]);
    recordPendingApprovals(found);
    expect((await points('mlops.approvals.pending')).map((p) => [p.attributes, p.value])).toEqual([[{ model: 'churn' }, 2]]);
  });

  it("when a model's stored document cannot be read, then it is listed with the reason and no count, and the others' approvals are found", async () => {
    const churn = world('PT36H');
    const registry = {
      listModels: async () => ({ ...(await churn.listModels()), unreadable: [{ modelName: 'aaa-damaged', reason: 'its stored model document is invalid: task' }] }),
      listReadableVersionsInState: churn.listReadableVersionsInState,
    };
    const found = await pendingApprovals(registry, new Date('2026-06-15T12:00:00.000Z'));
    expect(found.map((m) => [m.model, m.pending.map((p) => p.version), m.error])).toEqual([
      ['aaa-damaged', [], 'its stored model document is invalid: task'],
      ['churn', [1, 3], undefined],
    ]);
  });

  it('when a model approves automatically, then it is reported only while versions of it wait (their lifecycles started before autoApprove was turned on)', async () => {
    const sandbox = world('P7D', true);
    const now = new Date('2026-06-16T00:00:00.000Z');
    expect((await pendingApprovals(sandbox, now)).map((m) => [m.model, m.pending.map((p) => p.version)])).toEqual([['churn', [1, 3]]]);
    expect(await pendingApprovals({ ...sandbox, listReadableVersionsInState: () => Promise.resolve({ versions: [], unreadable: [] }) }, now)).toEqual([]);
    // A damaged version that may wait is news too.
    const damaged = { version: 4, reason: 'its stored version document is invalid: revision' };
    expect(await pendingApprovals({ ...sandbox, listReadableVersionsInState: () => Promise.resolve({ versions: [], unreadable: [damaged] }) }, now)).toEqual([{ model: 'churn', pending: [], unreadable: [damaged], statusUnread: [] }]);
  });

  it("when one of a model's waiting versions does not read, then it is listed apart and the model's others are still found and counted", async () => {
    const damaged = { version: 2, reason: 'its stored version document is invalid: ✖ Too small: expected number to be >=0\n  → at revision' };
    const found = await pendingApprovals(world('PT36H', false, [damaged]), new Date('2026-06-15T12:00:00.000Z'));
    expect(found.map((m) => [m.model, m.pending.map((p) => p.version), m.unreadable, m.error])).toEqual([['churn', [1, 3], [damaged], undefined]]);
    recordPendingApprovals(found);
    expect((await points('mlops.approvals.pending')).map((p) => [p.attributes, p.value])).toEqual([[{ model: 'churn' }, 2]]);
    expect((await points('mlops.approvals.time_left')).map((p) => p.attributes['version'])).toEqual(['1', '3']);
  });

  it('when pending approvals are recorded, then the count per model and the seconds left per version are gauges (negative once overdue)', async () => {
    recordPendingApprovals(await pendingApprovals(world('PT36H'), new Date('2026-06-15T12:00:00.000Z')));
    recordPendingApprovals([{ model: 'quiet', pending: [], unreadable: [], statusUnread: [] }]);
    expect((await points('mlops.approvals.pending')).map((p) => [p.attributes, p.value])).toEqual([
      [{ model: 'churn' }, 2],
      [{ model: 'quiet' }, 0],
    ]);
    expect((await points('mlops.approvals.time_left')).map((p) => [p.attributes, p.value])).toEqual([
      [{ model: 'churn', version: '1', deadline: '2026-06-11T12:00:00.000Z', deadlineSource: 'policy' }, -4 * 86_400],
      [{ model: 'churn', version: '3', deadline: '2026-06-16T00:00:00.000Z', deadlineSource: 'policy' }, 12 * 3600],
    ]);
  });
});

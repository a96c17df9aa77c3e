import { rememberVerdict, windowsToEvaluate } from '../../../shared/domain/monitor-windows';
import { addIsoDuration } from '../../../shared/domain/policies/duration';
import { cooldownReach, retrainingGate } from '../../../shared/domain/policies/retraining-gate';
import { judgeWindowPerformance, type PerformanceBaseline } from '../../../shared/domain/policies/window-performance';
import { compareProfiles } from '../../../shared/domain/profiles/drift';
import { mergeAcrossReferences } from '../../../shared/domain/profiles/merge-across-references';
import { buildProfile, mergeProfiles } from '../../../shared/domain/profiles/profile';
import { windowLengthMs } from '../../../shared/domain/windows';
import type { ColumnVerdict } from '../../../shared/schemas/drift';
import type { MonitoringWindow, RetrainingRecord } from '../../../shared/schemas/monitoring';
import { performancePolicySchema, retrainingPolicySchema } from '../../../shared/schemas/policies';
import { aBatch, aDriftPolicy, normals } from '../drift/builders';

const now = new Date('2026-06-20T12:00:00Z');

function aRequest(overrides: Partial<RetrainingRecord>): RetrainingRecord {
  return { requestId: 'retrain:m:20260601T0000Z', modelName: 'm', version: 1, reason: 'drift', windowId: '20260601T0000Z', state: 'queued', requestedAt: '2026-06-01T00:00:00.000Z', ...overrides };
}

describe('retraining gate', () => {
  const policy = retrainingPolicySchema.parse({ cooldown: 'P7D' });

  it('when another request is queued, training or registered, then it blocks; closed and failed ones do not', () => {
    for (const state of ['queued', 'training', 'registered'] as const) {
      expect(retrainingGate(policy, [aRequest({ state })], 'retrain:m:20260619T0000Z', now)).toEqual({ allowed: false, blockedBy: `request retrain:m:20260601T0000Z is still open (${state})` });
    }
    for (const state of ['closed', 'failed'] as const) expect(retrainingGate(policy, [aRequest({ state })], 'retrain:m:20260619T0000Z', now)).toEqual({ allowed: true });
  });

  it("when the request's own record is there (an earlier attempt stored it), then it does not block itself", () => {
    expect(retrainingGate(policy, [aRequest({ requestId: 'retrain:m:20260619T0000Z', requestedAt: '2026-06-20T12:00:00.000Z' })], 'retrain:m:20260619T0000Z', now)).toEqual({ allowed: true });
  });

  it('when the latest other request, whatever its state, is younger than the cooldown, then it blocks until the cooldown ends', () => {
    const records = [aRequest({ state: 'failed', requestedAt: '2026-06-15T00:00:00+02:00' }), aRequest({ requestId: 'x', state: 'closed' })];
    expect(retrainingGate(policy, records, 'retrain:m:20260619T0000Z', now)).toEqual({ allowed: false, blockedBy: 'in the retraining cooldown (P7D after the last request) until 2026-06-21T22:00:00.000Z' });
    expect(retrainingGate(policy, records, 'retrain:m:20260619T0000Z', new Date('2026-06-21T22:00:00Z'))).toEqual({ allowed: true });
  });

  it('when retraining is disabled, then nothing passes', () => {
    expect(retrainingGate({ ...policy, enabled: false }, [], 'r', now)).toEqual({ allowed: false, blockedBy: 'retraining is disabled by the model policy' });
  });

  it('when a request was made before the cooldown reach, then its cooldown is over whatever the calendar (so the gate need not read it); one made at the reach by elapsed time may still block', () => {
    const hour = 3_600_000;
    // Month ends and leap days, where the calendar's months are shortest: Jan 30 + P1M3D is March 3, not February 33.
    const instants = ['2026-03-03T00:00:00Z', '2026-03-01T00:00:00Z', '2028-03-01T12:00:00Z', '2026-12-31T23:00:00Z', '2026-06-20T12:00:00Z'].map((t) => new Date(t));
    // 84,000 cases: collected and asserted once (one expect per case took seconds).
    const stillBlocking: string[] = [];
    for (const cooldown of ['PT6H', 'P7D', 'P1M', 'P1M3D', 'P2M', 'P1Y', 'P1Y1M1W1DT1H1M1S']) {
      for (const at of instants) {
        const reach = cooldownReach({ cooldown }, at);
        for (let before = reach.getTime() - 100 * 24 * hour; before < reach.getTime(); before += hour) {
          if (addIsoDuration(new Date(before), cooldown).getTime() > at.getTime()) stillBlocking.push(`${cooldown} from ${new Date(before).toISOString()} at ${at.toISOString()}`);
        }
      }
    }
    expect(stillBlocking).toEqual([]);
    expect(cooldownReach({ cooldown: 'P7D' }, now).toISOString()).toBe('2026-06-13T12:00:00.000Z');
    // A request of Jan 30, 21:00 still blocks on March 3 with P1M3D (to Feb 28 by the calendar, then 3 days): the
    // duration taken back by the calendar (Jan 31) would cut it off; 31 days a month does not.
    const march3 = new Date('2026-03-03T00:00:00Z');
    expect(addIsoDuration(new Date('2026-01-30T21:00:00Z'), 'P1M3D').toISOString()).toBe('2026-03-03T21:00:00.000Z');
    expect(addIsoDuration(march3, 'P1M3D', -1).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(cooldownReach({ cooldown: 'P1M3D' }, march3).toISOString()).toBe('2026-01-28T00:00:00.000Z');
  });
});

describe('windows to evaluate', () => {
  const day = windowLengthMs('P1D');

  it('when windows are listed in any order and twice, then the complete ones from the last check come oldest first, bounded', () => {
    const ids = ['20260612T0000Z', '20260610T0000Z', '20260620T0000Z', '20260611T0000Z', '20260610T0000Z', '20260609T0000Z'];
    expect(windowsToEvaluate(ids, day, '2026-06-10T00:00:00.000Z', now, 10).map((w) => w.id)).toEqual(['20260610T0000Z', '20260611T0000Z', '20260612T0000Z']);
    expect(windowsToEvaluate(ids, day, null, now, 2).map((w) => w.id)).toEqual(['20260609T0000Z', '20260610T0000Z']);
    expect(windowsToEvaluate(ids, day, null, new Date('2026-06-21T00:00:00Z'), 10).map((w) => w.id)).toContain('20260620T0000Z');
  });

  it('when the history is full, then the oldest verdict goes', () => {
    const full = Array.from({ length: 100 }, (_, i): ColumnVerdict => (i === 0 ? 'drift' : 'no_drift'));
    expect(rememberVerdict(full, 'insufficient_data')).toEqual([...full.slice(1), 'insufficient_data']);
  });
});

describe('window performance', () => {
  const policy = performancePolicySchema.parse({ tolerance: 0.1, minLabelCoverage: 0.5 });
  const baseline: PerformanceBaseline = { metric: 'rmse', overall: 1, segments: { 'region=north': 1, 'region=south': 1 } };
  const report = (rmse: number, rows: number) => ({ task: 'regression' as const, rows, metrics: { rmse: { value: rmse, rows, ci: null } } });
  const performance = (segments: Array<[string, number, number]>): MonitoringWindow['performance'] => ({
    metrics: { overall: report(1.01, 300), segments: segments.map(([segment, rmse, rows]) => ({ segment, rows, report: report(rmse, rows) })) },
    provisional: false,
    updatedAt: '2026-06-20T00:00:00.000Z',
  });

  it('when one segment with enough labelled rows is much worse, then the window breaches; a segment with few rows is left out', () => {
    const judged = judgeWindowPerformance(policy, baseline, { performance: performance([['region=north', 1.5, 150], ['region=south', 9, 10]]), labelCoverage: 0.9, minSegmentRows: 100 });
    expect(judged.verdict).toBe('breach');
    expect(Object.keys(judged.evaluation.segments)).toEqual(['region=north']);
    expect(judged.evaluation.segments['region=north']).toMatchObject({ verdict: 'breach', degradation: expect.closeTo(0.5, 9) });
  });

  it('when the baseline is zero, then the degradation is unbounded and stored as null', () => {
    const judged = judgeWindowPerformance(policy, { ...baseline, overall: 0 }, { performance: performance([]), labelCoverage: 0.9, minSegmentRows: 100 });
    expect([judged.verdict, judged.evaluation.degradation]).toEqual(['breach', null]);
  });

  it('when nothing is labelled or the champion has no baseline, then it is insufficient_data and says why', () => {
    expect(judgeWindowPerformance(policy, baseline, { performance: null, labelCoverage: 0, minSegmentRows: 100 }).evaluation.reason).toBe('no actuals joined to this window yet');
    expect(judgeWindowPerformance(policy, { ...baseline, overall: null }, { performance: performance([]), labelCoverage: 0.9, minSegmentRows: 100 })).toMatchObject({
      verdict: 'insufficient_data',
      evaluation: { reason: 'the champion has no validation baseline for rmse' },
    });
  });
});

describe('merging profiles across references', () => {
  const policy = aDriftPolicy();
  const onEdges = (seed: number, edges: number[]) => buildProfile(aBatch({ x: normals(500, seed), y: normals(500, seed + 1) }), { edges: { x: edges, y: [0] } });

  it('when two profiles counted x on different edges, then they merge without the x histogram and still compare with sketch methods', () => {
    const a = onEdges(1, [-1, 0, 1]);
    const b = onEdges(2, [-0.5, 0.5]);
    expect(() => mergeProfiles(a, b)).toThrow(/different edges/);
    const merged = mergeAcrossReferences(a, b);
    const x = merged.columns.x!;
    expect(x.kind === 'numeric' && [x.count, x.histogram]).toEqual([1000, null]);
    const y = merged.columns.y!;
    expect(y.kind === 'numeric' && y.histogram?.counts.reduce((s, c) => s + c, 0)).toBe(1000);
    expect(compareProfiles(onEdges(3, [-1, 0, 1]), merged, policy).columns.map((c) => [c.name, c.method])).toEqual([
      ['x', 'ks'],
      ['y', 'ks'],
    ]);
    expect(() => compareProfiles(onEdges(3, [-1, 0, 1]), merged, aDriftPolicy({ method: 'psi' }))).toThrow(/column 'x': histogram methods need both profiles/);
  });
});

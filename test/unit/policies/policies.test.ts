import { compareBatches, type DriftReport } from '../../../shared/domain/drift/report';
import { compareSegments } from '../../../shared/domain/drift/segments';
import { evaluateDriftPolicy } from '../../../shared/domain/policies/drift-policy';
import { addIsoDuration } from '../../../shared/domain/policies/duration';
import {
  evaluatePerformanceBySegment,
  evaluatePerformancePolicy,
} from '../../../shared/domain/policies/performance-policy';
import { selectReference } from '../../../shared/domain/policies/reference';
import { driftEvaluationSchema } from '../../../shared/schemas/drift';
import { modelPoliciesSchema, performancePolicySchema } from '../../../shared/schemas/policies';
import { aBatch, aDriftPolicy, normals } from '../drift/builders';

const policy = aDriftPolicy({ consecutiveWindows: 2, cooldown: 'P7D' });
const now = new Date('2026-06-15T00:00:00Z');

function report(shifts: number[], rows = 2000): DriftReport {
  const numeric: Record<string, Float64Array> = {};
  const current: Record<string, Float64Array> = {};
  shifts.forEach((s, i) => {
    numeric[`x${i}`] = normals(2000, i + 1);
    current[`x${i}`] = normals(rows, 100 + i, s);
  });
  return compareBatches(aBatch(numeric), aBatch(current), policy);
}

const drifting = report([1, 1, 0]);
const quiet = report([0, 0, 0]);
const oneColumn = report([1, 0, 0]);
const tiny = report([1, 1, 1], 8);

describe('drift policy', () => {
  test('when the window drifts for the first time, then it is a warning, not yet a breach', () => {
    const e = evaluateDriftPolicy(policy, { overall: drifting }, { recent: [] }, now);
    expect([e.verdict, e.windowVerdict, e.consecutive, e.alert]).toEqual(['warning', 'drift', 1, false]);
    expect(e.reasons[0]!.message).toBe('drifting for 1 of 2 consecutive windows needed for a breach');
  });

  test('when the window drifts for K consecutive windows, then it is a breach with an alert', () => {
    const e = evaluateDriftPolicy(policy, { overall: drifting }, { recent: ['no_drift', 'drift'] }, now);
    expect([e.verdict, e.consecutive, e.alert]).toEqual(['breach', 2, true]);
    expect(e.reasons.filter((r) => r.scope === 'column').map((r) => r.column)).toEqual(['x0', 'x1']);
    expect(driftEvaluationSchema.parse(JSON.parse(JSON.stringify(e)))).toEqual(e);
  });

  test('when windows with insufficient data sit between drifting windows, then they neither break nor extend the run', () => {
    const e = evaluateDriftPolicy(policy, { overall: drifting }, { recent: ['drift', 'insufficient_data'] }, now);
    expect([e.verdict, e.consecutive]).toEqual(['breach', 2]);
  });

  test('when a breach comes inside the cooldown of the last alert, then no new alert is raised', () => {
    const e = evaluateDriftPolicy(
      policy,
      { overall: drifting },
      { recent: ['drift'], lastAlertAt: '2026-06-10T00:00:00Z' },
      now,
    );
    expect([e.verdict, e.alert, e.cooldownUntil]).toEqual(['breach', false, '2026-06-17T00:00:00.000Z']);
    const later = evaluateDriftPolicy(policy, { overall: drifting }, { recent: ['drift'], lastAlertAt: '2026-06-01T00:00:00Z' }, now);
    expect(later.alert).toBe(true);
  });

  test('when the cooldown ends exactly now, then the breach alerts again; a millisecond before, it does not', () => {
    const history = { recent: ['drift' as const], lastAlertAt: '2026-06-08T00:00:00.000Z' };
    expect(evaluateDriftPolicy(policy, { overall: drifting }, history, new Date('2026-06-15T00:00:00.000Z'))).toMatchObject({ alert: true, cooldownUntil: null });
    expect(evaluateDriftPolicy(policy, { overall: drifting }, history, new Date('2026-06-14T23:59:59.999Z'))).toMatchObject({ alert: false, cooldownUntil: '2026-06-15T00:00:00.000Z' });
  });

  test('when only some columns drift below the share rule, then it is a warning; with none, ok', () => {
    expect(evaluateDriftPolicy(policy, { overall: oneColumn }, { recent: ['drift'] }, now).verdict).toBe('warning');
    expect(evaluateDriftPolicy(policy, { overall: quiet }, { recent: [] }, now).verdict).toBe('ok');
  });

  test('when one segment drifts while the whole window does not, then the segment drives the verdict and is named', () => {
    const e = evaluateDriftPolicy(policy, { overall: quiet, segments: { 'region=north': drifting, 'region=south': quiet } }, { recent: ['drift'] }, now);
    expect(e.verdict).toBe('breach');
    expect(e.reasons.some((r) => r.segment === 'region=north' && r.column === 'x0')).toBe(true);
    const off = evaluateDriftPolicy({ ...policy, perSegment: false }, { overall: quiet, segments: { 'region=north': drifting } }, { recent: ['drift'] }, now);
    expect(off.verdict).toBe('ok');
  });

  test('when the window and its segments have too few rows, then the verdict is insufficient_data', () => {
    const e = evaluateDriftPolicy(policy, { overall: tiny, segments: { 'region=north': tiny } }, { recent: ['drift'] }, now);
    expect([e.verdict, e.windowVerdict, e.alert]).toEqual(['insufficient_data', 'insufficient_data', false]);
  });
});

describe('reference selection', () => {
  const day = (d: string) => ({ start: `${d}T00:00:00.000Z`, end: new Date(Date.parse(`${d}T00:00:00Z`) + 86400000).toISOString() });
  const stored = ['2025-06-14', '2025-06-15', '2025-06-16', '2026-03-15', '2026-06-12', '2026-06-13', '2026-06-14'].map(day);
  const current = day('2026-06-15');

  test('when the policy says training, then the training profile is the reference', () => {
    expect(selectReference({ kind: 'training' }, current, stored)).toEqual({ source: 'training' });
  });

  test('when the policy says rolling 2, then the two latest windows before the current one are chosen', () => {
    expect(selectReference({ kind: 'rolling', windows: 2 }, current, stored)).toEqual({
      source: 'windows',
      windows: [day('2026-06-13'), day('2026-06-14')],
      complete: true,
      wanted: 2,
    });
    expect(selectReference({ kind: 'rolling', windows: 30 }, current, stored)).toMatchObject({ complete: false, wanted: 30 });
  });

  test('when the policy says same period a year or a season earlier, then the lagged windows are chosen', () => {
    expect(selectReference({ kind: 'same_period', lag: 'year', windows: 2 }, current, stored)).toEqual({
      source: 'windows',
      windows: [day('2025-06-15'), day('2025-06-16')],
      complete: true,
      wanted: 2,
    });
    expect(selectReference({ kind: 'same_period', lag: 'season', windows: 1 }, current, stored)).toMatchObject({
      windows: [day('2026-03-15')],
      complete: true,
    });
  });

  test('when a policy names a duration too long to be a date (P999999Y), then the model is refused naming it; up to P1000Y is taken', () => {
    for (const timeout of ['P999999Y', 'PT99999999999999999999S', 'P1001Y']) {
      const parsed = modelPoliciesSchema.safeParse({ approval: { timeout }, drift: { cooldown: timeout }, retraining: { cooldown: timeout } });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['approval.timeout', 'a duration is at most P1000Y'],
        ['drift.cooldown', 'a duration is at most P1000Y'],
        ['retraining.cooldown', 'a duration is at most P1000Y'],
      ]);
    }
    const longest = modelPoliciesSchema.parse({ approval: { timeout: 'P1000Y' } });
    expect(addIsoDuration(new Date('2026-06-01T00:00:00Z'), longest.approval.timeout).toISOString()).toBe('3026-06-01T00:00:00.000Z');
    // A duration that is not one is still the pattern's issue, alone.
    expect(modelPoliciesSchema.safeParse({ approval: { timeout: '7 days' } }).error?.issues.map((i) => i.message)).toEqual(['an ISO 8601 duration like P7D or PT6H']);
  });

  test('when durations are added, then months follow the calendar', () => {
    expect(addIsoDuration(new Date('2026-01-31T10:00:00Z'), 'P1DT2H').toISOString()).toBe('2026-02-01T12:00:00.000Z');
    expect(addIsoDuration(new Date('2026-06-15T00:00:00Z'), 'P1Y', -1).toISOString()).toBe('2025-06-15T00:00:00.000Z');
  });

  test('when months land on a day the target month lacks, then it is that month\'s last day, not days into the next', () => {
    expect(addIsoDuration(new Date('2026-05-31T06:00:00Z'), 'P3M', -1).toISOString()).toBe('2026-02-28T06:00:00.000Z');
    expect(addIsoDuration(new Date('2028-05-31T00:00:00Z'), 'P3M', -1).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(addIsoDuration(new Date('2028-02-29T00:00:00Z'), 'P1Y', -1).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(addIsoDuration(new Date('2026-01-31T00:00:00Z'), 'P1MT1H').toISOString()).toBe('2026-02-28T01:00:00.000Z');
    expect(addIsoDuration(new Date('2026-03-31T00:00:00Z'), 'P1Y2M').toISOString()).toBe('2027-05-31T00:00:00.000Z');
  });

  test('when the reference is the same period a season earlier and the window is on the 31st, then the reference is in the season\'s month', () => {
    const may31 = { start: '2026-05-31T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' };
    const stored = ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-03'].map(day);
    expect(selectReference({ kind: 'same_period', lag: 'season', windows: 1 }, may31, stored)).toMatchObject({ windows: [day('2026-02-28')], complete: true });
  });
});

describe('performance policy', () => {
  const perf = performancePolicySchema.parse({ tolerance: 0.1, minLabelCoverage: 0.5 });

  test('when a higher-is-better metric drops beyond the tolerance, then it is a breach; within half of it, ok', () => {
    expect(evaluatePerformancePolicy(perf, { metric: 'roc_auc', value: 0.7, baseline: 0.8, labelCoverage: 0.9 })).toMatchObject({
      verdict: 'breach',
      degradation: expect.closeTo(0.125, 12),
    });
    expect(evaluatePerformancePolicy(perf, { metric: 'roc_auc', value: 0.78, baseline: 0.8, labelCoverage: 0.9 }).verdict).toBe('ok');
    // 0.76 is exactly half the tolerance (5%), which is not above it: see the boundary test below.
    expect(evaluatePerformancePolicy(perf, { metric: 'roc_auc', value: 0.75, baseline: 0.8, labelCoverage: 0.9 }).verdict).toBe('warning');
  });

  test('when a lower-is-better metric rises beyond the tolerance, then it is a breach', () => {
    expect(evaluatePerformancePolicy(perf, { metric: 'rmse', value: 11.5, baseline: 10, labelCoverage: 1 }).verdict).toBe('breach');
    expect(evaluatePerformancePolicy(perf, { metric: 'rmse', value: 9, baseline: 10, labelCoverage: 1 }).verdict).toBe('ok');
  });

  test('when label coverage is below the minimum, then the verdict is insufficient_data with a provisional result', () => {
    const e = evaluatePerformancePolicy(perf, { metric: 'accuracy', value: 0.5, baseline: 0.9, labelCoverage: 0.2 });
    expect(e.verdict).toBe('insufficient_data');
    expect(e.provisional).toMatchObject({ verdict: 'breach' });
    expect(evaluatePerformancePolicy(perf, { metric: 'accuracy', value: null, baseline: 0.9, labelCoverage: 0 }).provisional).toBeNull();
  });

  test('when the degradation is exactly the tolerance (accuracy 72 of 100 against 80 of 100, 10%), then it is not a breach; exactly half of it is not a warning', () => {
    // In floating point (0.8 - 0.72) / 0.8 is 0.10000000000000009 and (1.1 - 1) / 1 too.
    expect(evaluatePerformancePolicy(perf, { metric: 'accuracy', value: 0.72, baseline: 0.8, labelCoverage: 0.9 }).verdict).toBe('warning');
    expect(evaluatePerformancePolicy(perf, { metric: 'rmse', value: 1.1, baseline: 1, labelCoverage: 0.9 }).verdict).toBe('warning');
    expect(evaluatePerformancePolicy(perf, { metric: 'accuracy', value: 0.76, baseline: 0.8, labelCoverage: 0.9 }).verdict).toBe('ok');
    expect(evaluatePerformancePolicy(perf, { metric: 'accuracy', value: 0.7199, baseline: 0.8, labelCoverage: 0.9 }).verdict).toBe('breach');
    expect(evaluatePerformancePolicy(perf, { metric: 'rmse', value: 1.051, baseline: 1, labelCoverage: 0.9 }).verdict).toBe('warning');
  });

  test('when label coverage is exactly the minimum (30 of 100 labelled, minimum 0.3), then the window is judged, not provisional', () => {
    const atMinimum = performancePolicySchema.parse({ tolerance: 0.1, minLabelCoverage: 0.3 });
    expect(evaluatePerformancePolicy(atMinimum, { metric: 'accuracy', value: 0.5, baseline: 0.9, labelCoverage: 30 / 100 })).toMatchObject({ verdict: 'breach', provisional: null });
    expect(evaluatePerformancePolicy(atMinimum, { metric: 'accuracy', value: 0.5, baseline: 0.9, labelCoverage: 29 / 100 })).toMatchObject({ verdict: 'insufficient_data' });
  });

  test('when a segment breaches while the whole window is fine, then the segmented verdict is a breach', () => {
    const e = evaluatePerformanceBySegment(
      perf,
      { metric: 'mae', value: 1, baseline: 1, labelCoverage: 1 },
      { 'region=north': { metric: 'mae', value: 1.5, baseline: 1, labelCoverage: 1 }, 'region=south': { metric: 'mae', value: 9, baseline: 1, labelCoverage: 0.1 } },
    );
    expect(e.verdict).toBe('breach');
    expect(e.segments['region=south']!.verdict).toBe('insufficient_data');
  });
});

describe('segments and policy schema', () => {
  test('when only one region shifts, then the per-segment reports find it and an unknown segment is insufficient_data', () => {
    const regions = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'north' : 'south'));
    const refX = normals(4000, 1);
    const curX = normals(4000, 2);
    for (let i = 0; i < 4000; i += 2) curX[i]! += 1;
    const reference = aBatch({ x: refX }, { region: regions(4000) });
    const current = aBatch({ x: curX }, { region: [...regions(3998), 'east', 'east'] });
    const segments = compareSegments(reference, current, ['region'], policy);
    expect(Object.keys(segments)).toEqual(['region=east', 'region=north', 'region=south']);
    expect(segments['region=north']!.datasetDrift).toBe(true);
    expect(segments['region=south']!.datasetDrift).toBe(false);
    expect(segments['region=east']!.verdict).toBe('insufficient_data');
  });

  test('when a drift policy is parsed from the original fields only, then they keep working and new fields get defaults', () => {
    const parsed = aDriftPolicy({ method: 'psi', psiThreshold: 0.2, consecutiveWindows: 3 });
    expect(parsed).toMatchObject({
      method: 'psi',
      psiThreshold: 0.2,
      consecutiveWindows: 3,
      minSamples: 30,
      minEffectSize: 0.05,
      histogramBins: 10,
      hellingerThreshold: 0.15,
      lInfinityThreshold: 0.1,
      cooldown: 'P7D',
      reference: { kind: 'training' },
    });
  });
});

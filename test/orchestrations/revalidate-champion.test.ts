import '../../orchestrations/lifecycle/revalidation';

import { LIFECYCLE_ACTIVITIES as A, REVALIDATE_CHAMPION, revalidationInstanceId } from '../../orchestrations/lifecycle/names';
import { sha } from '../support/builders';
import { type EpisodeResult, orchestrationHarness } from '../support/orchestration-harness';

const START = new Date('2026-03-10T12:00:00Z');
const ok = (value: unknown) => ({ ok: true, value });
const input = { model: 'demand', version: 3, actualsId: 'a1', windows: ['20260302T0000Z'], newSegments: ['region=east'] };
const EVIDENCE = sha('evidence');
const outcome = { decision: 'pass', reasons: [], evidenceHash: EVIDENCE, evidencePath: `evidence/demand/3/${EVIDENCE}.json` };
const firstCall = (s: EpisodeResult) => s.newActions.find((a) => a.kind.startsWith('CallActivity'))!;

describe('revalidateChampion (replayed through the durable-functions SDK)', () => {
  it('when the input carries a traceparent (the actuals join trace), then every activity input carries it', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const h = orchestrationHarness(REVALIDATE_CHAMPION, { input: { ...input, traceparent }, startTime: START });
    let s = await h.start();
    s = await h.completeActivity(firstCall(s).taskId!, ok('datasets/demand/revalidation/a1.csv'));
    s = await h.completeActivity(firstCall(s).taskId!, ok(outcome));
    s = await h.completeActivity(firstCall(s).taskId!, ok({ recorded: true }));
    expect(s.isDone).toBe(true);
    expect(s.output).toEqual(outcome);
    const calls = s.actions.filter((a) => a.kind.startsWith('CallActivity'));
    expect(calls.map((a) => a.name)).toEqual([A.revalidationData, A.validate, A.recordRevalidation]);
    expect(calls.map((a) => (a.input as { traceparent?: string }).traceparent)).toEqual(calls.map(() => traceparent));
  });
});

describe('revalidationInstanceId', () => {
  it('when a late match asks, then the id names the version, the file and the run; one that would pass 256 characters ends in a digest, without the characters an instance id may not hold', () => {
    expect(revalidationInstanceId('demand', 3, 'a1')).toBe('revalidation:demand:3:a1');
    expect(revalidationInstanceId('demand', 3, 'a1', 'run-9')).toBe('revalidation:demand:3:a1~run-9');
    const [actualsId, runId] = ['a'.repeat(128), 'r'.repeat(128)];
    const long = revalidationInstanceId('demand', 3, actualsId, runId);
    expect(long).toHaveLength(256);
    expect(long).toMatch(/^revalidation:demand:3:a{128}~r{64}-[0-9a-f]{40}$/);
    expect(revalidationInstanceId('demand', 3, actualsId, runId)).toBe(long);
    expect(revalidationInstanceId('demand', 3, actualsId, `${'r'.repeat(127)}s`)).not.toBe(long);
  });
});

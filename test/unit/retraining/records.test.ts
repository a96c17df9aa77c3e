import { isDecided, parseRetrainingRequestId } from '../../../shared/domain/retraining';
import { retrainingRequestId } from '../../../shared/schemas/messages';
import type { RetrainingRecord } from '../../../shared/schemas/monitoring';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { closeRetrainingForVersion, listRetrainingRequests, recordTrainingResult } from '../../../shared/usecases/retraining-records';
import { aModelVersionInput, anActor, theSystem } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { aRegionalModel } from '../../support/model-kit';
import { RecordingPublisher } from '../../support/recording-publisher';

const clock = { now: () => new Date('2026-06-03T00:00:00Z') };

function aRecord(windowId: string, overrides: Partial<RetrainingRecord> = {}): RetrainingRecord {
  return {
    requestId: retrainingRequestId('regional', windowId),
    modelName: 'regional',
    version: 1,
    reason: 'drift',
    windowId,
    state: 'queued',
    requestedAt: `${windowId.slice(0, 4)}-${windowId.slice(4, 6)}-${windowId.slice(6, 8)}T06:00:00Z`,
    ...overrides,
  };
}

async function aWorld(policies: Record<string, unknown> = {}) {
  const store = new InMemoryModelRegistry();
  const publisher = new RecordingPublisher();
  const registry = new RegistryUseCases({ registry: store, clock });
  await registry.createModel(aRegionalModel('regional', policies), anActor());
  for (let i = 0; i < 2; i += 1) await registry.registerVersion('regional', aModelVersionInput(), anActor());
  const runs = inMemoryRunStore();
  return { deps: { runs, clock, events: publisher, registry: store }, registry, runs, publisher };
}

describe('retraining request ids and decisions', () => {
  it('when a request id is read back, then it gives its model and window; other text gives nothing', () => {
    expect(parseRetrainingRequestId(retrainingRequestId('regional', '20260601T0000Z'))).toEqual({ model: 'regional', windowId: '20260601T0000Z' });
    expect(parseRetrainingRequestId('regional:1:20260601T0000Z')).toBeUndefined();
    expect(parseRetrainingRequestId('retrain:Bad:20260601T0000Z')).toBeUndefined();
    expect(parseRetrainingRequestId(undefined)).toBeUndefined();
  });

  it.each([
    ['validation_failed', true, true],
    ['rejected', true, true],
    ['expired', true, true],
    ['production', true, true],
    ['retired', true, true],
    ['approved', true, false],
    ['approved', false, true],
    ['pending_approval', false, false],
    ['validating', true, false],
  ] as const)('when a version is %s (promoteOnApproval %s), then decided is %s', (state, promoteOnApproval, decided) => {
    expect(isDecided(state, promoteOnApproval)).toBe(decided);
  });
});

describe('closing a retraining request when its version is decided', () => {
  it('when the lifecycle of the version a request produced ends, then that request closes with the outcome and others stay as they are', async () => {
    const { deps, runs, publisher } = await aWorld();
    await runs.retraining.create('regional', aRecord('20260601T0000Z').requestId, aRecord('20260601T0000Z', { state: 'registered', trainer: 'builtin', resultVersion: 2 }));
    await runs.retraining.create('regional', aRecord('20260501T0000Z').requestId, aRecord('20260501T0000Z', { state: 'registered', trainer: 'builtin', resultVersion: 3 }));
    const closed = await closeRetrainingForVersion(deps, { model: 'regional', version: 2, outcome: 'production' });
    expect(closed.map((r) => r.requestId)).toEqual(['retrain:regional:20260601T0000Z']);
    expect((await runs.retraining.get('regional', 'retrain:regional:20260601T0000Z'))?.value).toMatchObject({ state: 'closed', outcome: 'production', closedAt: '2026-06-03T00:00:00.000Z' });
    expect((await runs.retraining.get('regional', 'retrain:regional:20260501T0000Z'))?.value.state).toBe('registered');
    expect(publisher.ofType('retraining.changed').map((e) => [e.eventId, e.data.outcome])).toEqual([['retrain:regional:20260601T0000Z:closed', 'production']]);
    // The lifecycle of a version no request produced closes nothing; closing twice changes nothing.
    expect(await closeRetrainingForVersion(deps, { model: 'regional', version: 1, outcome: 'production' })).toEqual([]);
    expect(await closeRetrainingForVersion(deps, { model: 'regional', version: 2, outcome: 'production' })).toEqual([]);
  });

  it('when a pipeline reports a version that is already decided, then the request closes at once; one still in its lifecycle stays registered', async () => {
    const { deps, runs, registry } = await aWorld();
    const id = aRecord('20260601T0000Z').requestId;
    await runs.retraining.create('regional', id, aRecord('20260601T0000Z', { state: 'training', trainer: 'webhook' }));
    expect(await recordTrainingResult(deps, 'regional', id, 2)).toMatchObject({ state: 'registered', resultVersion: 2 });

    await registry.applyCommand('regional', 2, { type: 'start_validation' }, theSystem());
    await registry.applyCommand('regional', 2, { type: 'fail_validation', reason: 'worse than the champion', evidenceHash: 'a'.repeat(64) }, theSystem());
    expect(await recordTrainingResult(deps, 'regional', id, 2)).toMatchObject({ state: 'closed', outcome: 'validation_failed' });
    await expect(recordTrainingResult(deps, 'regional', aRecord('20260601T0000Z').requestId, 2)).resolves.toMatchObject({ state: 'closed' });
  });

  it('when a request that registered one version is told of another, then ILLEGAL_TRANSITION', async () => {
    const { deps, runs } = await aWorld();
    const id = aRecord('20260601T0000Z').requestId;
    await runs.retraining.create('regional', id, aRecord('20260601T0000Z', { state: 'registered', resultVersion: 2 }));
    await expect(recordTrainingResult(deps, 'regional', id, 3)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
  });

  it('when the requests are listed, then the newest comes first', async () => {
    const { runs } = await aWorld();
    for (const w of ['20260501T0000Z', '20260601T0000Z', '20260515T0000Z']) await runs.retraining.create('regional', aRecord(w).requestId, aRecord(w));
    expect((await listRetrainingRequests({ runs }, 'regional')).map((r) => r.windowId)).toEqual(['20260601T0000Z', '20260515T0000Z', '20260501T0000Z']);
  });
});

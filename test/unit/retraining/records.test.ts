import { isDecided, parseRetrainingRequestId } from '../../../shared/domain/retraining';
import { retrainingRequestId } from '../../../shared/schemas/messages';
import type { RetrainingRecord } from '../../../shared/schemas/monitoring';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { acceptPipelineReport, closeRetrainingForVersion, listRetrainingRequests, recordLifecycleNotStarted, recordTrainingResult } from '../../../shared/usecases/retraining-records';
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

  it('when a request of the model no longer reads, then the readable requests of the version close and the call fails naming it', async () => {
    const { deps, runs } = await aWorld();
    const id = aRecord('20260601T0000Z').requestId;
    await runs.retraining.create('regional', id, aRecord('20260601T0000Z', { state: 'registered', trainer: 'builtin', resultVersion: 2 }));
    runs.retraining.storeUnchecked('regional', 'retrain:regional:20260501T0000Z', { modelName: 'regional', state: 'registered', resultVersion: 2 });
    await expect(closeRetrainingForVersion(deps, { model: 'regional', version: 2, outcome: 'production' })).rejects.toThrow(
      "the stored retraining document 'retrain:regional:20260501T0000Z' of 'regional' cannot be read: its stored retraining document is invalid",
    );
    expect((await runs.retraining.get('regional', id))?.value).toMatchObject({ state: 'closed', outcome: 'production' });
  });

  it('when a model has 200 requests of other versions, then closing reads the requests of the version only; one of another version that does not read is not in the way', async () => {
    const { deps, runs } = await aWorld();
    for (let d = 0; d < 200; d++) {
      const windowId = `2025${String(1 + Math.floor(d / 28)).padStart(2, '0')}${String(1 + (d % 28)).padStart(2, '0')}T0000Z`;
      await runs.retraining.create('regional', aRecord(windowId).requestId, aRecord(windowId, { state: 'closed', resultVersion: 100 + d, outcome: 'rejected' }));
    }
    runs.retraining.storeUnchecked('regional', 'retrain:regional:20250901T0000Z', { modelName: 'regional', state: 'registered', resultVersion: 3 });
    const id = aRecord('20260601T0000Z').requestId;
    await runs.retraining.create('regional', id, aRecord('20260601T0000Z', { state: 'registered', trainer: 'builtin', resultVersion: 2 }));
    const before = runs.retraining.listed;

    expect((await closeRetrainingForVersion(deps, { model: 'regional', version: 2, outcome: 'production' })).map((r) => r.requestId)).toEqual([id]);
    expect(runs.retraining.listed - before).toBe(1);
  });

  it('when a request failed because its version\'s lifecycle seemed not to start and that lifecycle ends after all, then the request closes with the outcome', async () => {
    const { deps, runs } = await aWorld();
    const id = aRecord('20260601T0000Z').requestId;
    await runs.retraining.create('regional', id, aRecord('20260601T0000Z', { state: 'registered', trainer: 'builtin', resultVersion: 2 }));
    expect(await recordLifecycleNotStarted(deps, 'regional', id, 'the task hub did not answer')).toMatchObject({
      state: 'failed',
      resultVersion: 2,
      error: 'v2 is registered, but its lifecycle was not started: the task hub did not answer',
    });
    // A request failed for another reason without a version is no request of the version.
    await runs.retraining.create('regional', aRecord('20260501T0000Z').requestId, aRecord('20260501T0000Z', { state: 'failed', error: 'no data' }));

    expect((await closeRetrainingForVersion(deps, { model: 'regional', version: 2, outcome: 'rejected' })).map((r) => r.requestId)).toEqual([id]);
    const closed = (await runs.retraining.get('regional', id))!.value;
    expect(closed).toMatchObject({ state: 'closed', outcome: 'rejected', resultVersion: 2 });
    expect(closed.error).toBeUndefined();
    expect((await runs.retraining.get('regional', aRecord('20260501T0000Z').requestId))?.value.state).toBe('failed');
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

  describe('a webhook pipeline reporting (POST .../retraining/{requestId}/complete)', () => {
    const WINDOW = '20260601T0000Z';
    const id = retrainingRequestId('regional', WINDOW);
    /** The request's orchestration, as the durable client sees it: what was delivered to it. */
    function aPipeline() {
      const delivered: unknown[] = [];
      return { delivered, for: (report: unknown) => ({ deliver: async () => void delivered.push(report) }) };
    }
    async function aWaitingRequest() {
      const world = await aWorld();
      // Versions 1 and 2 were registered (at the clock's time) after the request was made.
      await world.runs.retraining.create('regional', id, aRecord(WINDOW, { state: 'training', trainer: 'webhook', requestedAt: '2026-06-01T06:00:00Z' }));
      return world;
    }

    it('when two reports of different versions arrive at once, then exactly one is taken and reaches the orchestration; the other is 409', async () => {
      const { deps, runs } = await aWaitingRequest();
      const pipeline = aPipeline();
      // Both find the orchestration still running: the first report has not reached it yet.
      const waitingForBoth = { running: async () => true };
      const report = (version: number) => ({ outcome: 'registered' as const, version });
      const results = await Promise.allSettled(
        [1, 2].map((v) => acceptPipelineReport(deps, { model: 'regional', requestId: id, report: report(v) }, { ...pipeline.for(report(v)), ...waitingForBoth })),
      );
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'ILLEGAL_TRANSITION', message: expect.stringMatching(/is not waiting for a report: it is registered \(version [12] was reported\)/) });
      expect(pipeline.delivered).toHaveLength(1);
      const stored = (await runs.retraining.get('regional', id))?.value;
      expect(stored).toMatchObject({ state: 'registered', resultVersion: (pipeline.delivered[0] as { version: number }).version });
    });

    it('when the same report is sent twice while the orchestration is still taking the first, then the second is 409, not accepted and dropped', async () => {
      const { deps } = await aWaitingRequest();
      const pipeline = aPipeline();
      const report = { outcome: 'failed' as const, error: 'out of GPU quota' };
      const stillRunning = { running: async () => true };
      await expect(acceptPipelineReport(deps, { model: 'regional', requestId: id, report }, { ...pipeline.for(report), ...stillRunning })).resolves.toMatchObject({
        state: 'failed',
        error: 'the training pipeline failed: out of GPU quota',
      });
      await expect(acceptPipelineReport(deps, { model: 'regional', requestId: id, report: { outcome: 'registered', version: 2 } }, { ...pipeline.for(report), ...stillRunning })).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        message: expect.stringContaining("is not waiting for a report: it is failed (the training pipeline failed: out of GPU quota)"),
      });
      expect(pipeline.delivered).toEqual([report]);
    });

    it('when a report is sent again after the orchestration took the first and ended, then the 409 says what was taken, as one sent while it runs does', async () => {
      const { deps } = await aWaitingRequest();
      const pipeline = aPipeline();
      const failure = { outcome: 'failed' as const, error: 'out of GPU quota' };
      await acceptPipelineReport(deps, { model: 'regional', requestId: id, report: failure }, { ...pipeline.for(failure), running: async () => true });
      const ended = { running: async () => false };
      await expect(acceptPipelineReport(deps, { model: 'regional', requestId: id, report: failure }, { ...pipeline.for(failure), ...ended })).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        message: "retraining request 'retrain:regional:20260601T0000Z' is not waiting for a report (it is failed, trainer webhook): the training pipeline failed: out of GPU quota",
        details: { requestId: id, state: 'failed' },
      });

      const { deps: again } = await aWaitingRequest();
      const registered = { outcome: 'registered' as const, version: 2 };
      await acceptPipelineReport(again, { model: 'regional', requestId: id, report: registered }, { ...pipeline.for(registered), running: async () => true });
      await expect(acceptPipelineReport(again, { model: 'regional', requestId: id, report: registered }, { ...pipeline.for(registered), ...ended })).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        message: expect.stringMatching(/is not waiting for a report \(it is registered, trainer webhook\): version 2 was registered for it$/),
        details: { requestId: id, state: 'registered', resultVersion: 2 },
      });
    });

    it('when the report is wrong (unknown request, version or model, a version from before the request, no running orchestration), then it says so and nothing is taken', async () => {
      const { deps, runs, registry } = await aWaitingRequest();
      const pipeline = aPipeline();
      const report = { outcome: 'registered' as const, version: 2 };
      const accept = (input: Partial<{ model: string; requestId: string; report: typeof report }>, running = true) =>
        acceptPipelineReport(deps, { model: 'regional', requestId: id, report, ...input }, { ...pipeline.for(report), running: async () => running });
      await expect(accept({ model: 'nope' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
      await expect(accept({ requestId: retrainingRequestId('regional', '20260701T0000Z') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(accept({ report: { outcome: 'registered', version: 9 } })).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
      await runs.retraining.create('regional', retrainingRequestId('regional', '20260801T0000Z'), aRecord('20260801T0000Z', { state: 'training', trainer: 'webhook', requestedAt: '2026-08-01T06:00:00Z' }));
      await expect(accept({ requestId: retrainingRequestId('regional', '20260801T0000Z') })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('before retraining request') });
      await expect(accept({}, false)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION', message: expect.stringContaining('(it is training, trainer webhook)') });
      expect(pipeline.delivered).toEqual([]);
      expect((await runs.retraining.get('regional', id))?.value.state).toBe('training');
      // The version may be decided before the pipeline gets round to reporting it: the request closes at once.
      await registry.applyCommand('regional', 2, { type: 'retire' }, anActor());
      await expect(accept({})).resolves.toMatchObject({ state: 'closed', resultVersion: 2, outcome: 'retired' });
      expect(pipeline.delivered).toEqual([report]);
    });
  });

  it('when the requests are listed, then the newest comes first, a page at a time', async () => {
    const { runs } = await aWorld();
    for (const w of ['20260501T0000Z', '20260601T0000Z', '20260515T0000Z']) await runs.retraining.create('regional', aRecord(w).requestId, aRecord(w));
    const first = await listRetrainingRequests({ runs }, 'regional', { limit: 2 });
    expect(first.documents.map((r) => r.windowId)).toEqual(['20260601T0000Z', '20260515T0000Z']);
    const last = await listRetrainingRequests({ runs }, 'regional', { limit: 2, after: first.next! });
    expect(last).toMatchObject({ documents: [expect.objectContaining({ windowId: '20260501T0000Z' })], next: null });
  });
});

import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { MAX_APPROVAL_AGE_TO_PROMOTE_MS, MAX_LIFECYCLE_RESTARTS, STARTING_LIFECYCLE_GRACE_MS } from '../../../shared/domain/policies/lifecycle-restart';
import { COMPLETED_INSTANCE_GRACE_MS, type InstanceStatus } from '../../../shared/domain/policies/orchestration-outcome';
import type { OrchestrationInstances } from '../../../shared/ports/orchestration-instances';
import type { DocumentCollection } from '../../../shared/ports/run-store';
import type { ActorInput, LifecycleCommand } from '../../../shared/schemas/lifecycle';
import type { ActualsRecord, InferenceRun, RetrainingRecord } from '../../../shared/schemas/monitoring';
import { work } from '../../../shared/usecases/actuals/deps';
import { MAX_MODEL_UPDATES_READ_SINCE_APPROVAL, MODEL_NAMES_PER_PAGE, type ReconcileDeps, reconcileOrchestrations, STATUS_CALLS_AT_ONCE } from '../../../shared/usecases/reconcile-orchestrations';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { aDemandModel, DEFAULT_SETTINGS } from '../../support/actuals-kit';
import { aModelVersionInput, anActualsRecord, anInferenceRun, sha } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';
import { RecordingPublisher } from '../../support/recording-publisher';

const MODEL = 'demand';
const NOW = new Date('2026-03-10T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

/** The Durable client's answers, by instance id: an id it does not hold is an instance that does not exist. */
class FakeInstances implements OrchestrationInstances {
  readonly statuses = new Map<string, InstanceStatus>();
  readonly asked: string[] = [];
  /** Runs before each answer: what happens between the listing and the write. */
  beforeAnswer: (instanceId: string) => Promise<void> = async () => undefined;

  set(instanceId: string, runtimeStatus: string, lastUpdatedTime = minutesAgo(60)): void {
    this.statuses.set(instanceId, { runtimeStatus, lastUpdatedTime });
  }

  async status(instanceId: string): Promise<InstanceStatus | undefined> {
    this.asked.push(instanceId);
    await this.beforeAnswer(instanceId);
    return this.statuses.get(instanceId);
  }

  /** Lifecycles started again, in order. */
  readonly started: { model: string; version: number }[] = [];
  /** What a start does besides being recorded: by default the new instance runs. */
  onStart: (ref: { model: string; version: number }) => Promise<boolean> = async ({ model, version }) => {
    this.set(`lifecycle:${model}:${version}`, 'Running', NOW);
    return true;
  };

  async startLifecycle(ref: { model: string; version: number }): Promise<boolean> {
    this.started.push(ref);
    return this.onStart(ref);
  }
}

async function world(definition = aDemandModel()) {
  const registry = new InMemoryModelRegistry();
  await registry.createModel({ modelName: MODEL, definition, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', createdBy: 'alice@example.com', latestVersion: 1 });
  const runs = inMemoryRunStore();
  const lake = new MemoryLake();
  const events = new RecordingPublisher();
  const instances = new FakeInstances();
  const deps: ReconcileDeps = { registry, runs, lake, files: new LakeTabularFiles(lake), events, clock: { now: () => NOW }, settings: DEFAULT_SETTINGS, instances };
  return { deps, runs, lake, events, instances };
}

const aRun = (runId: string, overrides: Partial<InferenceRun> = {}) =>
  anInferenceRun(MODEL, runId, { instanceId: `batch:${MODEL}:${runId}`, startedAt: '2026-03-10T10:00:00.000Z', ...overrides });

/** A join of `actuals/{MODEL}/march.csv` still running (nothing counted yet). */
const aJoin = (actualsId: string, overrides: Partial<ActualsRecord> = {}): ActualsRecord =>
  anActualsRecord(MODEL, actualsId, '2026-03-10T09:00:00.000Z', {
    source: { path: `actuals/${MODEL}/march.csv`, etag: `"${actualsId}"`, size: 10, lastModified: '2026-03-10T09:00:00.000Z' },
    state: 'running',
    matched: 0,
    rows: 0,
    ...overrides,
  });

/**
 * Another writer completes the document just before `collection`'s first replace lands, so that
 * replace meets an ETag conflict. Answers whether that happened.
 */
function completedBeforeFirstReplace<T extends { state: string; completedAt?: string | undefined }>(collection: Pick<DocumentCollection<T>, 'get' | 'replace'>): () => boolean {
  const replace = collection.replace.bind(collection);
  let raced = false;
  collection.replace = async (model, id, doc, etag) => {
    if (!raced) {
      raced = true;
      const stored = (await collection.get(model, id))!;
      await replace(model, id, { ...stored.value, state: 'completed', completedAt: NOW.toISOString() }, stored.etag);
    }
    return replace(model, id, doc, etag);
  };
  return () => raced;
}

const stateOf = async (runs: ReturnType<typeof inMemoryRunStore>, runId: string) => (await runs.runs.get(MODEL, runId))!.value;

describe('reconciling runs whose orchestration instance is gone', () => {
  it('when a running run has no instance any more (purged), then it is failed with the reason and run.failed is published with the normal failure id', async () => {
    const { deps, runs, events } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));

    const report = await reconcileOrchestrations(deps);

    const run = await stateOf(runs, 'r1');
    const error = `the orchestration instance 'batch:${MODEL}:r1' no longer exists (purged, or its task hub was reset) and did not record the outcome; drop the file again to score it`;
    expect(run).toMatchObject({ state: 'failed', error, completedAt: NOW.toISOString(), durationMs: 2 * 3_600_000 });
    expect(report.models).toEqual([
      { model: MODEL, failed: [{ kind: 'run', id: 'r1', instanceId: `batch:${MODEL}:r1`, error }], followedUp: [], unreadable: [], restarted: [], leftForAPerson: [], notPromoted: [], retrainingClosed: [], errors: [], uncountedWindows: [] },
    ]);
    expect(events.events).toEqual([{ eventId: 'run:r1:failed', model: MODEL, occurredAt: NOW.toISOString(), type: 'run.failed', data: { runId: 'r1', error } }]);
  });

  it('when a model that is not registered has a run waiting for its champion whose instance is gone, then that run is failed too, and its running join', async () => {
    const { deps, runs, events, instances } = await world();
    const unregistered = 'pricing';
    expect(await deps.registry.getModel(unregistered)).toBeUndefined();
    await runs.runs.create(unregistered, 'w1', anInferenceRun(unregistered, 'w1', { instanceId: `batch:${unregistered}:w1`, state: 'waiting_for_champion', version: null, startedAt: '2026-03-10T10:00:00.000Z' }));
    await runs.runs.create(unregistered, 'w2', anInferenceRun(unregistered, 'w2', { instanceId: `batch:${unregistered}:w2`, state: 'waiting_for_champion', version: null, startedAt: '2026-03-10T10:00:00.000Z' }));
    instances.set(`batch:${unregistered}:w2`, 'Running');
    await runs.runs.create(MODEL, 'r1', aRun('r1', { state: 'completed' }));

    const report = await reconcileOrchestrations(deps);

    const error = `the orchestration instance 'batch:${unregistered}:w1' no longer exists (purged, or its task hub was reset) and did not record the outcome; drop the file again to score it`;
    // The registered model is checked too (its versions and retraining requests), with nothing to do.
    expect(report).toEqual({
      models: [
        { model: MODEL, failed: [], followedUp: [], unreadable: [], restarted: [], leftForAPerson: [], notPromoted: [], retrainingClosed: [], errors: [], uncountedWindows: [] },
        { model: unregistered, failed: [{ kind: 'run', id: 'w1', instanceId: `batch:${unregistered}:w1`, error }], followedUp: [], unreadable: [], restarted: [], leftForAPerson: [], notPromoted: [], retrainingClosed: [], errors: [], uncountedWindows: [] },
      ],
      failures: [],
    });
    expect((await runs.runs.get(unregistered, 'w1'))!.value).toMatchObject({ state: 'failed', error });
    expect((await runs.runs.get(unregistered, 'w2'))!.value).toMatchObject({ state: 'waiting_for_champion' });
    expect(events.events.map((e) => [e.model, e.eventId])).toEqual([[unregistered, 'run:w1:failed']]);
    // The registered model's runs ended: its instances are not asked about.
    expect(instances.asked).toEqual([`batch:${unregistered}:w1`, `batch:${unregistered}:w2`]);
  });

  it('when more models have documents to judge than a page of names holds, then every one of them is reconciled, in name order', async () => {
    const { deps, runs } = await world();
    const models = Array.from({ length: MODEL_NAMES_PER_PAGE + 5 }, (_, k) => `m${String(k).padStart(3, '0')}`);
    for (const [k, model] of models.entries()) {
      if (k % 2 === 0) await runs.runs.create(model, 'r', anInferenceRun(model, 'r', { instanceId: `batch:${model}:r`, startedAt: '2026-03-10T10:00:00.000Z' }));
      else await runs.actuals.create(model, 'a', anActualsRecord(model, 'a', '2026-03-10T09:00:00.000Z', { state: 'running', matched: 0, rows: 0, source: { path: `actuals/${model}/x.csv`, etag: '"a"', size: 1, lastModified: '2026-03-10T09:00:00.000Z' } }));
    }

    const report = await reconcileOrchestrations(deps);

    expect(report.failures).toEqual([]);
    // With the registered model, checked for its versions and retraining requests.
    expect(report.models.map((m) => m.model)).toEqual([MODEL, ...models].sort());
    expect(report.models.filter((m) => m.model !== MODEL).every((m) => m.failed.length === 1)).toBe(true);
  });

  it.each(['Terminated', 'Failed', 'Canceled'])('when the instance ended %s, then the run is failed at once, naming the status', async (status) => {
    const { deps, runs, events, instances } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    instances.set(`batch:${MODEL}:r1`, status, NOW);

    await reconcileOrchestrations(deps);

    expect(await stateOf(runs, 'r1')).toMatchObject({
      state: 'failed',
      error: `the orchestration instance 'batch:${MODEL}:r1' ended (${status}) without recording the outcome; drop the file again to score it`,
    });
    expect(events.ofType('run.failed').map((e) => e.eventId)).toEqual(['run:r1:failed']);
  });

  it('when the instance completed longer ago than the grace period, then the run is failed; completed within it, the run is left running (its last write may be landing)', async () => {
    const { deps, runs, events, instances } = await world();
    await runs.runs.create(MODEL, 'old', aRun('old'));
    await runs.runs.create(MODEL, 'recent', aRun('recent'));
    instances.set(`batch:${MODEL}:old`, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS - 1));
    instances.set(`batch:${MODEL}:recent`, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS + 1000));

    await reconcileOrchestrations(deps);

    expect(await stateOf(runs, 'old')).toMatchObject({ state: 'failed', error: expect.stringContaining('ended (Completed) without recording the outcome') });
    expect(await stateOf(runs, 'recent')).toEqual(aRun('recent'));
    expect(events.ofType('run.failed').map((e) => e.data.runId)).toEqual(['old']);
  });

  it.each(['Running', 'Pending', 'Suspended', 'ContinuedAsNew'])('when the instance is %s, however long since it last moved, then the run is left as it is', async (status) => {
    const { deps, runs, events, instances } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1', { startedAt: '2026-01-01T00:00:00.000Z' }));
    instances.set(`batch:${MODEL}:r1`, status, new Date('2026-01-01T00:00:00.000Z'));

    const report = await reconcileOrchestrations(deps);

    expect(await stateOf(runs, 'r1')).toEqual(aRun('r1', { startedAt: '2026-01-01T00:00:00.000Z' }));
    expect(report.models[0]!.failed).toEqual([]);
    expect(events.events).toEqual([]);
  });

  it('when a run waits for a champion and its instance was terminated, then it is failed too (nothing would ever wake it); a scheduled run is told to drop its files under the scheduled folder', async () => {
    const { deps, runs, instances } = await world();
    await runs.runs.create(MODEL, 'w1', aRun('w1', { state: 'waiting_for_champion', version: null }));
    await runs.runs.create(MODEL, 's1', aRun('s1', { kind: 'scheduled', scheduledFor: '2026-03-10T00:00:00.000Z' }));
    instances.set(`batch:${MODEL}:w1`, 'Terminated');
    instances.set(`batch:${MODEL}:s1`, 'Terminated');

    await reconcileOrchestrations(deps);

    expect(await stateOf(runs, 'w1')).toMatchObject({ state: 'failed', error: expect.stringMatching(/ended \(Terminated\).*; drop the file again to score it$/) });
    expect((await stateOf(runs, 's1')).error).toMatch(/; drop its files again under drops\/demand\/scheduled\/ to score them with the next scheduled run$/);
  });

  it('when runs ended already, then their instances are not even asked about', async () => {
    const { deps, runs, instances } = await world();
    await runs.runs.create(MODEL, 'done', aRun('done', { state: 'completed' }));
    await runs.runs.create(MODEL, 'broken', aRun('broken', { state: 'failed', error: 'a chunk failed' }));

    await reconcileOrchestrations(deps);

    expect(instances.asked).toEqual([]);
    expect(await stateOf(runs, 'broken')).toMatchObject({ state: 'failed', error: 'a chunk failed' });
  });

  it('when the run completes between the listing and the status answer, then it stays completed and nothing is published', async () => {
    const { deps, runs, events, instances } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    instances.beforeAnswer = async () => {
      const { value, etag } = (await runs.runs.get(MODEL, 'r1'))!;
      await runs.runs.replace(MODEL, 'r1', { ...value, state: 'completed', completedAt: NOW.toISOString() }, etag);
    };

    const report = await reconcileOrchestrations(deps);

    expect(await stateOf(runs, 'r1')).toMatchObject({ state: 'completed' });
    expect(report.models[0]!.failed).toEqual([]);
    expect(events.events).toEqual([]);
  });

  it('when the run completes after it was read for the write (an ETag conflict), then the completion wins and nothing is published', async () => {
    const { deps, runs, events } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    const raced = completedBeforeFirstReplace(runs.runs);

    const report = await reconcileOrchestrations(deps);

    expect(raced()).toBe(true);
    expect(report.models[0]).toMatchObject({ failed: [], errors: [] });
    expect(await stateOf(runs, 'r1')).toMatchObject({ state: 'completed' });
    expect((await stateOf(runs, 'r1')).error).toBeUndefined();
    expect(events.events).toEqual([]);
  });

  it('when a run document does not read, then it is reported apart and left alone, and the others are reconciled', async () => {
    const { deps, runs, instances } = await world();
    runs.runs.storeUnchecked(MODEL, 'damaged', { ...aRun('damaged'), rowsRead: -1 });
    runs.runs.storeUnchecked(MODEL, 'untold', { ...aRun('untold'), state: 7 });
    await runs.runs.create(MODEL, 'r1', aRun('r1'));

    const report = await reconcileOrchestrations(deps);

    // One whose state cannot be told is in every state's listing: reported once.
    expect(report.models[0]!.unreadable).toEqual([
      { kind: 'run', id: 'damaged', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) },
      { kind: 'run', id: 'untold', reason: expect.stringMatching(/^its stored run document is invalid: .*state/s) },
    ]);
    expect(report.models[0]!.failed.map((d) => d.id)).toEqual(['r1']);
    expect(instances.asked).toEqual([`batch:${MODEL}:r1`]);
  });

  it('when the status of one instance cannot be read (an outage), then that run is reported with the error and the others are still reconciled', async () => {
    const { deps, runs, instances } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    await runs.runs.create(MODEL, 'r2', aRun('r2'));
    instances.beforeAnswer = async (id) => {
      if (id.endsWith(':r1')) throw new Error('the task hub is unreachable');
    };

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.errors).toEqual([{ kind: 'run', id: 'r1', error: 'the task hub is unreachable' }]);
    expect(await stateOf(runs, 'r1')).toMatchObject({ state: 'running' });
    expect(await stateOf(runs, 'r2')).toMatchObject({ state: 'failed' });
  });
});

describe('reconciling many documents of a model', () => {
  it('when a model has many running runs and joins, then their statuses are asked several at a time but never more than STATUS_CALLS_AT_ONCE, and every one is judged', async () => {
    const { deps, runs, instances, events } = await world();
    for (let n = 0; n < 30; n++) await runs.runs.create(MODEL, `r${n}`, aRun(`r${n}`));
    for (let n = 0; n < 5; n++) await runs.actuals.create(MODEL, `j${n}`, aJoin(`j${n}`, { source: { path: `actuals/${MODEL}/f${n}.csv`, etag: `"j${n}"`, size: 10 } }));
    let [inFlight, most] = [0, 0];
    instances.beforeAnswer = async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
    };

    const report = await reconcileOrchestrations(deps);

    expect(most).toBe(STATUS_CALLS_AT_ONCE);
    expect(STATUS_CALLS_AT_ONCE).toBeGreaterThan(1);
    expect(report.models[0]!.failed).toHaveLength(35);
    expect(report.models[0]!.errors).toEqual([]);
    expect(events.ofType('run.failed')).toHaveLength(35);
    expect(new Set(instances.asked).size).toBe(35);
  });

  it('when the host never answers the status of one instance, then that run is reported once the call times out, its place is freed, and the others are judged', async () => {
    const { deps, runs, instances } = await world();
    for (let n = 0; n < 12; n++) await runs.runs.create(MODEL, `r${n}`, aRun(`r${n}`));
    instances.beforeAnswer = (id) => (id.endsWith(':r0') ? new Promise<void>(() => undefined) : Promise.resolve());

    const report = await reconcileOrchestrations({ ...deps, statusTimeoutMs: 50 });

    expect(report.models[0]!.errors).toEqual([{ kind: 'run', id: 'r0', error: `the status of instance 'batch:${MODEL}:r0' did not come within 50 ms` }]);
    expect(report.models[0]!.failed).toHaveLength(11);
    expect(await stateOf(runs, 'r0')).toMatchObject({ state: 'running' });
  });

  it('when status calls fail for some documents among many, then only those are reported, and no failure goes unhandled', async () => {
    const { deps, runs, instances } = await world();
    for (let n = 0; n < 20; n++) await runs.runs.create(MODEL, `r${n}`, aRun(`r${n}`));
    instances.beforeAnswer = async (id) => {
      if (/:r1\d$/.test(id)) throw new Error(`HTTP 503 for ${id}`);
    };

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.errors.map((e) => e.id).sort()).toEqual(Array.from({ length: 10 }, (_, n) => `r1${n}`).sort());
    expect(report.models[0]!.failed).toHaveLength(10);
    expect(await stateOf(runs, 'r15')).toMatchObject({ state: 'running' });
  });
});

describe('reconciling documents whose instanceId no instance can have', () => {
  it('when a running run names an empty id or one with ? (damaged, or written by hand), then the client is not asked (it would list the task hub, or ask for another instance) and the run is failed saying why', async () => {
    const { deps, runs, instances, events } = await world();
    await runs.runs.create(MODEL, 'empty', aRun('empty', { instanceId: '' }));
    await runs.runs.create(MODEL, 'query', aRun('query', { instanceId: `batch:${MODEL}:r1?showHistory=true` }));
    instances.set('', 'Running');
    instances.set(`batch:${MODEL}:r1`, 'Running');

    const report = await reconcileOrchestrations(deps);

    expect(instances.asked).toEqual([]);
    expect(report.models[0]!.failed.map((d) => d.id).sort()).toEqual(['empty', 'query']);
    expect(await stateOf(runs, 'empty')).toMatchObject({ state: 'failed', error: expect.stringMatching(/^the document names no orchestration instance that can exist \("": an empty id/) });
    expect(events.ofType('run.failed')).toHaveLength(2);
  });
});

describe('reconciling actuals joins whose orchestration instance is gone', () => {
  const joinOf = async (runs: ReturnType<typeof inMemoryRunStore>, id: string) => (await runs.actuals.get(MODEL, id))!.value;

  it('when a running join was terminated, then it is failed telling to upload the file again, run.failed is published with the join failure id, and its work folder is removed', async () => {
    const { deps, runs, lake, events, instances } = await world();
    await runs.actuals.create(MODEL, 'a1', aJoin('a1'));
    await runs.actuals.create(MODEL, 'a-done', aJoin('a-done', { state: 'completed' }));
    instances.set(`actuals:${MODEL}:a1`, 'Terminated');
    await lake.write(work.plan(MODEL, 'a1'), Buffer.from('{}'));

    const report = await reconcileOrchestrations(deps);

    const error = `the orchestration instance 'actuals:${MODEL}:a1' ended (Terminated) without recording the outcome; upload the file again`;
    expect(await joinOf(runs, 'a1')).toMatchObject({ state: 'failed', error, completedAt: NOW.toISOString() });
    expect(report.models[0]!.failed).toEqual([{ kind: 'actuals', id: 'a1', instanceId: `actuals:${MODEL}:a1`, error }]);
    expect(events.events).toEqual([{ eventId: 'actuals-join:a1:failed', model: MODEL, occurredAt: NOW.toISOString(), type: 'run.failed', data: { runId: 'a1', error } }]);
    expect([...lake.objects.keys()].filter((k) => k.startsWith(lakePaths.actualsWorkFolder(MODEL, 'a1')))).toEqual([]);
    expect(instances.asked).toEqual([`actuals:${MODEL}:a1`]);
  });

  it('when the stranded join is an older version of a file whose newer version completed, then failing it replaces it, as a join that fails normally does', async () => {
    const { deps, runs, lake } = await world();
    await lake.write(`actuals/${MODEL}/march.csv`, Buffer.from('id,sales\n'));
    const current = (await lake.stat(`actuals/${MODEL}/march.csv`))!.etag;
    await runs.actuals.create(MODEL, 'a-old', aJoin('a-old', { source: { path: `actuals/${MODEL}/march.csv`, etag: '"old"', size: 10, lastModified: '2026-03-10T08:00:00.000Z' } }));
    await runs.actuals.create(MODEL, 'a-new', aJoin('a-new', { state: 'completed', source: { path: `actuals/${MODEL}/march.csv`, etag: current, size: 10, lastModified: '2026-03-10T09:00:00.000Z' } }));

    await reconcileOrchestrations(deps);

    expect(await joinOf(runs, 'a-old')).toMatchObject({ state: 'failed', replacedBy: { actualsId: 'a-new', at: NOW.toISOString() } });
  });

  it('when the join completes after it was read for the write (an ETag conflict), then it stays completed, nothing is published, and its path is not settled', async () => {
    const { deps, runs, events, instances } = await world();
    await runs.actuals.create(MODEL, 'a1', aJoin('a1'));
    instances.set(`actuals:${MODEL}:a1`, 'Failed');
    const raced = completedBeforeFirstReplace(runs.actuals);

    const report = await reconcileOrchestrations(deps);

    expect(raced()).toBe(true);
    expect(await joinOf(runs, 'a1')).toMatchObject({ state: 'completed' });
    expect(report.models[0]).toMatchObject({ failed: [], errors: [] });
    expect(events.events).toEqual([]);
  });

  it('when a join record does not read, then it is reported apart and left alone', async () => {
    const { deps, runs, instances } = await world();
    runs.actuals.storeUnchecked(MODEL, 'a-damaged', { ...aJoin('a-damaged'), rows: -1 });

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.unreadable).toEqual([{ kind: 'actuals', id: 'a-damaged', reason: expect.stringMatching(/^its stored actuals document is invalid: .*rows/s) }]);
    expect(instances.asked).toEqual([]);
  });
});

describe('reconciled failures whose follow-ups an outage interrupted', () => {
  const joinOf = async (runs: ReturnType<typeof inMemoryRunStore>, id: string) => (await runs.actuals.get(MODEL, id))!.value;

  it('when run.failed cannot be published after the run was failed (the broker is down), then the run keeps the marker, and the next reconciliation publishes the same event and clears it without asking the client again', async () => {
    const { deps, runs, events, instances } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    events.failNext = true;

    const first = await reconcileOrchestrations(deps);

    expect(first.models[0]!.errors).toEqual([{ kind: 'run', id: 'r1', error: 'the broker is unreachable' }]);
    expect(await stateOf(runs, 'r1')).toMatchObject({ state: 'failed', followUpsPendingSince: NOW.toISOString() });
    expect(events.events).toEqual([]);

    const second = await reconcileOrchestrations(deps);

    const error = `the orchestration instance 'batch:${MODEL}:r1' no longer exists (purged, or its task hub was reset) and did not record the outcome; drop the file again to score it`;
    expect(second.models[0]).toMatchObject({ failed: [], followedUp: [{ kind: 'run', id: 'r1' }], errors: [] });
    expect(events.events).toEqual([{ eventId: 'run:r1:failed', model: MODEL, occurredAt: NOW.toISOString(), type: 'run.failed', data: { runId: 'r1', error } }]);
    const run = await stateOf(runs, 'r1');
    expect(run).toMatchObject({ state: 'failed', error });
    expect(run.followUpsPendingSince).toBeUndefined();
    expect(instances.asked).toEqual([`batch:${MODEL}:r1`]);
  });

  it('when the follow-ups succeeded the first time, then the marker is cleared at once and the next reconciliation neither reads nor publishes anything for the run', async () => {
    const { deps, runs, events } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));

    const first = await reconcileOrchestrations(deps);
    const stored = (await runs.runs.get(MODEL, 'r1'))!;
    const get = runs.runs.get.bind(runs.runs);
    const read: string[] = [];
    runs.runs.get = async (model, id) => {
      read.push(id);
      return get(model, id);
    };
    const second = await reconcileOrchestrations(deps);

    expect(first.models[0]).toMatchObject({ failed: [{ id: 'r1' }], followedUp: [], errors: [] });
    expect(stored.value.followUpsPendingSince).toBeUndefined();
    expect(second.models[0]).toMatchObject({ failed: [], followedUp: [], errors: [] });
    expect(read).toEqual([]);
    expect((await get(MODEL, 'r1'))!.etag).toBe(stored.etag);
    expect(events.attempts).toBe(1);
  });

  it('when documents were failed before the marker existed (none stored), then they are not picked up: no event, no write', async () => {
    const { deps, runs, lake, events } = await world();
    await runs.runs.create(MODEL, 'old-run', aRun('old-run', { state: 'failed', error: 'ended', completedAt: '2026-03-01T00:00:00.000Z' }));
    await runs.actuals.create(MODEL, 'old-join', aJoin('old-join', { state: 'failed', error: 'ended', completedAt: '2026-03-01T00:00:00.000Z' }));
    await lake.write(work.plan(MODEL, 'old-join'), Buffer.from('{}'));
    const before = [(await runs.runs.get(MODEL, 'old-run'))!.etag, (await runs.actuals.get(MODEL, 'old-join'))!.etag];

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]).toMatchObject({ failed: [], followedUp: [], errors: [] });
    expect([(await runs.runs.get(MODEL, 'old-run'))!.etag, (await runs.actuals.get(MODEL, 'old-join'))!.etag]).toEqual(before);
    expect(events.attempts).toBe(0);
    expect(await lake.stat(work.plan(MODEL, 'old-join'))).toBeDefined();
  });

  it('when a late completion landed over a reconciled failure whose follow-ups were pending, then the marker is cleared and no run.failed is published', async () => {
    const { deps, runs, events } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1', { state: 'completed', completedAt: NOW.toISOString(), followUpsPendingSince: minutesAgo(60).toISOString() }));

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]).toMatchObject({ followedUp: [{ kind: 'run', id: 'r1' }], errors: [] });
    expect(await stateOf(runs, 'r1')).toEqual(aRun('r1', { state: 'completed', completedAt: NOW.toISOString() }));
    expect(events.attempts).toBe(0);
  });

  /** An older running version of march.csv (with a labelled file in a window) and a newer completed one that is the blob now. */
  async function olderVersionOfACompletedFile(w: Awaited<ReturnType<typeof world>>) {
    const { runs, lake } = w;
    await lake.write(`actuals/${MODEL}/march.csv`, Buffer.from('id,sales\n'));
    const current = (await lake.stat(`actuals/${MODEL}/march.csv`))!.etag;
    await runs.actuals.create(MODEL, 'a-old', aJoin('a-old', { source: { path: `actuals/${MODEL}/march.csv`, etag: '"old"', size: 10, lastModified: '2026-03-10T08:00:00.000Z' } }));
    await runs.actuals.create(MODEL, 'a-new', aJoin('a-new', { state: 'completed', source: { path: `actuals/${MODEL}/march.csv`, etag: current, size: 10, lastModified: '2026-03-10T09:00:00.000Z' } }));
    await lake.write(work.plan(MODEL, 'a-old'), Buffer.from('{}'));
    await lake.write(lakePaths.labelled(MODEL, WINDOW, 'a-old'), Buffer.from('labelled rows'));
  }
  const WINDOW = '20260310T0000Z';
  const labelledOfOld = (lake: MemoryLake) => [...lake.objects.keys()].filter((k) => k.startsWith(lakePaths.labelledRoot(MODEL)) && k.includes('a-old'));

  it('when failing a stranded older join replaces it and a window it recomputes holds late files of an actuals record that does not read, then the report names that window and record, for the timer to warn about', async () => {
    const w = await world();
    await olderVersionOfACompletedFile(w);
    w.runs.actuals.storeUnchecked(MODEL, 'a-bad', { ...anActualsRecord(MODEL, 'a-bad', '2026-03-09T00:00:00.000Z', { state: 'completed' }), matched: 'many' });
    await w.lake.write(lakePaths.lateLabelled(MODEL, WINDOW, 'a-bad', 'run-x'), Buffer.from('PAR1'));

    const report = await reconcileOrchestrations(w.deps);

    expect(report.models[0]).toMatchObject({ failed: [{ kind: 'actuals', id: 'a-old' }], errors: [] });
    expect(report.models[0]!.uncountedWindows).toEqual([
      expect.objectContaining({ windowId: WINDOW, uncountedRecords: [{ actualsId: 'a-bad', reason: expect.stringMatching(/^its stored actuals document is invalid: [\s\S]*matched/), files: 1 }] }),
    ]);
    expect(labelledOfOld(w.lake)).toEqual([]);
  });

  it('when run.failed of a stranded older join cannot be published, then nothing else is done yet; the next reconciliation publishes it, removes its work folder, replaces it (its labelled rows leave the windows) and clears the marker', async () => {
    const w = await world();
    const { deps, runs, lake, events } = w;
    await olderVersionOfACompletedFile(w);
    events.failNext = true;

    const first = await reconcileOrchestrations(deps);

    expect(first.models[0]!.errors).toEqual([{ kind: 'actuals', id: 'a-old', error: 'the broker is unreachable' }]);
    expect(await joinOf(runs, 'a-old')).toMatchObject({ state: 'failed', followUpsPendingSince: NOW.toISOString() });
    expect((await joinOf(runs, 'a-old')).replacedBy).toBeUndefined();
    expect(labelledOfOld(lake)).toHaveLength(1);

    const second = await reconcileOrchestrations(deps);

    expect(second.models[0]).toMatchObject({ failed: [], followedUp: [{ kind: 'actuals', id: 'a-old' }], errors: [] });
    expect(events.events.map((e) => e.eventId)).toEqual(['actuals-join:a-old:failed']);
    const old = await joinOf(runs, 'a-old');
    expect(old).toMatchObject({ state: 'failed', replacedBy: { actualsId: 'a-new', at: NOW.toISOString() } });
    expect(old.followUpsPendingSince).toBeUndefined();
    expect(labelledOfOld(lake)).toEqual([]);
    expect([...lake.objects.keys()].filter((k) => k.startsWith(lakePaths.replacedLabelledFolder(MODEL, 'a-old')))).toHaveLength(1);
    expect([...lake.objects.keys()].filter((k) => k.startsWith(lakePaths.actualsWorkFolder(MODEL, 'a-old')))).toEqual([]);
  });

  it('when the replacement of a stranded older join fails (a storage error) after run.failed went out, then the next reconciliation replaces it; the event is sent again with its fixed id and the topic drops it', async () => {
    const w = await world();
    const { deps, runs, lake, events } = w;
    await olderVersionOfACompletedFile(w);
    const list = lake.list.bind(lake);
    let storageDown = true;
    lake.list = (prefix) => {
      if (storageDown && prefix.startsWith(lakePaths.labelledRoot(MODEL))) {
        storageDown = false;
        throw new Error('the storage account is unreachable');
      }
      return list(prefix);
    };

    const first = await reconcileOrchestrations(deps);

    expect(first.models[0]!.errors).toEqual([{ kind: 'actuals', id: 'a-old', error: 'the storage account is unreachable' }]);
    expect(await joinOf(runs, 'a-old')).toMatchObject({ state: 'failed', followUpsPendingSince: NOW.toISOString() });
    expect(labelledOfOld(lake)).toHaveLength(1);

    const second = await reconcileOrchestrations(deps);

    expect(second.models[0]).toMatchObject({ followedUp: [{ kind: 'actuals', id: 'a-old' }], errors: [] });
    expect(events.attempts).toBe(2);
    expect(events.events.map((e) => e.eventId)).toEqual(['actuals-join:a-old:failed']);
    const old = await joinOf(runs, 'a-old');
    expect(old).toMatchObject({ replacedBy: { actualsId: 'a-new' } });
    expect(old.followUpsPendingSince).toBeUndefined();
    expect(labelledOfOld(lake)).toEqual([]);

    const third = await reconcileOrchestrations(deps);

    expect(third.models[0]).toMatchObject({ failed: [], followedUp: [], errors: [] });
    expect(events.attempts).toBe(2);
  });
});

describe('reconciling versions whose lifecycle instance is gone while they validate', () => {
  const LIFECYCLE: ActorInput = { id: 'system:modelLifecycle', kind: 'system', roles: [] };
  const advice = 'once the cause is fixed, register the package again as a new version (a new Idempotency-Key, or a changed manifest) to validate it, and retire this one';

  /** Registers `count` versions (as alice) and moves each through `commands` as the lifecycle would. */
  async function versions(deps: ReconcileDeps, count: number, ...commands: LifecycleCommand[]): Promise<RegistryUseCases> {
    const registry = new RegistryUseCases({ registry: deps.registry, clock: deps.clock, events: deps.events });
    for (let n = 0; n < count; n++) {
      const { version } = await registry.register(MODEL, aModelVersionInput({ description: `v${n + 1}` }), { id: 'alice@example.com' });
      for (const command of commands) await registry.applyCommand(MODEL, version.version, command, LIFECYCLE);
    }
    return registry;
  }
  const validating = (deps: ReconcileDeps, count = 1) => versions(deps, count, { type: 'start_validation' });
  const stateOfVersion = async (deps: ReconcileDeps, version: number) => (await deps.registry.getVersion(MODEL, version))!.value;

  const aRetrainingRequest = (resultVersion: number, overrides: Partial<RetrainingRecord> = {}): RetrainingRecord => ({
    requestId: `retrain:${MODEL}:20260301T0000Z`,
    modelName: MODEL,
    version: 1,
    reason: 'drift',
    windowId: '20260301T0000Z',
    state: 'registered',
    requestedAt: '2026-03-01T00:00:00.000Z',
    trainer: 'builtin',
    resultVersion,
    ...overrides,
  });

  it.each(['Terminated', 'Failed', 'Canceled'])(
    'when its lifecycle instance ended %s, then the version fails validation by the state machine with the status and what to do: ledger, lifecycle.changed and the report say so',
    async (status) => {
      const { deps, events, instances } = await world();
      await validating(deps);
      instances.set(`lifecycle:${MODEL}:1`, status, NOW);

      const report = await reconcileOrchestrations(deps);

      const reason = `validation could not be completed: the orchestration instance 'lifecycle:${MODEL}:1' ended (${status}) without recording the outcome; ${advice}`;
      const version = await stateOfVersion(deps, 1);
      expect(version.state).toBe('validation_failed');
      expect(version.history.at(-1)).toMatchObject({ command: 'fail_validation', from: 'validating', to: 'validation_failed', reason, actor: { id: 'system:reconcileOrchestrations', kind: 'system' } });
      expect(await deps.registry.listAudit(MODEL, { kind: 'transition', version: 1 })).toEqual(version.history);
      expect(events.ofType('lifecycle.changed').at(-1)).toMatchObject({ version: 1, data: { from: 'validating', to: 'validation_failed', command: 'fail_validation', reason, actor: 'system:reconcileOrchestrations' } });
      expect(report.models).toEqual([
        { model: MODEL, failed: [{ kind: 'version', id: '1', instanceId: `lifecycle:${MODEL}:1`, error: reason }], followedUp: [], unreadable: [], restarted: [], leftForAPerson: [], notPromoted: [], retrainingClosed: [], errors: [], uncountedWindows: [] },
      ]);
    },
  );

  it('when its lifecycle instance no longer exists (purged), then the version fails validation saying so', async () => {
    const { deps } = await world();
    await validating(deps);

    await reconcileOrchestrations(deps);

    expect(await stateOfVersion(deps, 1)).toMatchObject({
      state: 'validation_failed',
      history: expect.arrayContaining([
        expect.objectContaining({ reason: `validation could not be completed: the orchestration instance 'lifecycle:${MODEL}:1' no longer exists (purged, or its task hub was reset) and did not record the outcome; ${advice}` }),
      ]),
    });
  });

  it('when its lifecycle completed longer ago than the grace period, then the version fails validation; completed within it, it is left validating', async () => {
    const { deps, instances } = await world();
    await validating(deps, 2);
    instances.set(`lifecycle:${MODEL}:1`, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS - 1));
    instances.set(`lifecycle:${MODEL}:2`, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS + 1000));

    const report = await reconcileOrchestrations(deps);

    expect((await stateOfVersion(deps, 1)).state).toBe('validation_failed');
    expect((await stateOfVersion(deps, 2)).state).toBe('validating');
    expect(report.models[0]!.failed.map((d) => d.id)).toEqual(['1']);
  });

  it.each(['Running', 'Pending', 'Suspended'])('when its lifecycle is %s, however long it has validated, then the version is left validating and nothing is published', async (status) => {
    const { deps, events, instances } = await world();
    await validating(deps);
    instances.set(`lifecycle:${MODEL}:1`, status, new Date('2026-01-01T00:00:00.000Z'));
    const published = events.events.length;

    const report = await reconcileOrchestrations(deps);

    expect((await stateOfVersion(deps, 1)).state).toBe('validating');
    expect(report.models[0]).toMatchObject({ failed: [], errors: [] });
    expect(events.events).toHaveLength(published);
  });

  it('when versions are decided, then their lifecycle instances are not even asked about', async () => {
    const { deps, instances } = await world();
    await versions(deps, 1, { type: 'start_validation' }, { type: 'fail_validation', reason: 'rmse too high' });
    await versions(deps, 1, { type: 'retire' });

    await reconcileOrchestrations(deps);

    expect(instances.asked).toEqual([]);
  });

  it('when a person retires the version between the listing and the status answer, then it stays retired and is not reported', async () => {
    const { deps, events, instances } = await world();
    const registry = await validating(deps);
    instances.set(`lifecycle:${MODEL}:1`, 'Terminated');
    instances.beforeAnswer = async () => {
      await registry.applyCommand(MODEL, 1, { type: 'retire', reason: 'not needed' }, { id: 'root@example.com', roles: ['MLOps.Admin'] });
    };

    const report = await reconcileOrchestrations(deps);

    expect((await stateOfVersion(deps, 1)).state).toBe('retired');
    expect(report.models[0]).toMatchObject({ failed: [], errors: [] });
    expect(events.ofType('lifecycle.changed').map((e) => e.data.to)).toEqual(['validating', 'retired']);
  });

  it('when the retraining request that produced the version waits for its lifecycle, then it is closed with validation_failed and the report names it', async () => {
    const { deps, runs, instances } = await world();
    await validating(deps);
    instances.set(`lifecycle:${MODEL}:1`, 'Failed');
    await runs.retraining.create(MODEL, aRetrainingRequest(1).requestId, aRetrainingRequest(1));

    const report = await reconcileOrchestrations(deps);

    expect((await runs.retraining.get(MODEL, aRetrainingRequest(1).requestId))!.value).toMatchObject({ state: 'closed', outcome: 'validation_failed', closedAt: NOW.toISOString() });
    expect(report.models[0]!.retrainingClosed).toEqual([{ requestId: aRetrainingRequest(1).requestId, version: 1, outcome: 'validation_failed' }]);
  });

  it('when a request is still registered for a version decided earlier (its close was interrupted), then it is closed with the version state; one whose version still validates stays', async () => {
    const { deps, runs, instances } = await world();
    await versions(deps, 1, { type: 'start_validation' }, { type: 'fail_validation', reason: 'rmse too high' });
    await validating(deps);
    instances.set(`lifecycle:${MODEL}:2`, 'Running');
    const decided = aRetrainingRequest(1);
    const waiting = aRetrainingRequest(2, { requestId: `retrain:${MODEL}:20260302T0000Z`, windowId: '20260302T0000Z' });
    await runs.retraining.create(MODEL, decided.requestId, decided);
    await runs.retraining.create(MODEL, waiting.requestId, waiting);

    const report = await reconcileOrchestrations(deps);

    expect((await runs.retraining.get(MODEL, decided.requestId))!.value).toMatchObject({ state: 'closed', outcome: 'validation_failed' });
    expect((await runs.retraining.get(MODEL, waiting.requestId))!.value).toEqual(waiting);
    expect(report.models[0]!.retrainingClosed).toEqual([{ requestId: decided.requestId, version: 1, outcome: 'validation_failed' }]);
  });

  it("when some of the model's versions do not read, then each is reported unreadable once, by number, and left alone, and the model's other stranded versions are still reconciled", async () => {
    const { deps, instances } = await world();
    await validating(deps, 3);
    const stored = await stateOfVersion(deps, 2);
    (deps.registry as InMemoryModelRegistry).storeUncheckedVersion(MODEL, 2, { ...stored, revision: -1 });
    // Its state cannot be told: every state's query lists it.
    (deps.registry as InMemoryModelRegistry).storeUncheckedVersion(MODEL, 4, { ...stored, version: 4, state: 7 });
    instances.set(`lifecycle:${MODEL}:3`, 'Terminated', NOW);

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.failed.map((d) => [d.kind, d.id])).toEqual([
      ['version', '1'],
      ['version', '3'],
    ]);
    expect(report.models[0]!.unreadable).toEqual([
      { kind: 'version', id: '2', reason: expect.stringMatching(/^its stored version document is invalid: .*revision/s) },
      { kind: 'version', id: '4', reason: expect.stringMatching(/^its stored version document is invalid: .*state/s) },
    ]);
    expect(report.models[0]!.errors).toEqual([]);
    expect(instances.asked).not.toContain(`lifecycle:${MODEL}:2`);
  });

  it('when the versions cannot be listed (an outage), then that is reported and the model\'s runs are still reconciled', async () => {
    const { deps, runs } = await world();
    await runs.runs.create(MODEL, 'r1', aRun('r1'));
    deps.registry.listReadableVersionsInState = () => Promise.reject(new Error('Cosmos DB unavailable'));

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.errors).toEqual(
      ['validating', 'registered', 'pending_approval', 'approved'].map((state) => ({ kind: 'version', id: state, error: `the versions in ${state} could not be listed: Cosmos DB unavailable` })),
    );
    expect(report.models[0]!.failed.map((d) => d.id)).toEqual(['r1']);
  });

  it('when a model has many validating versions and running runs, then they share the status calls (never more than STATUS_CALLS_AT_ONCE at once) and a version whose status never comes is reported after the timeout', async () => {
    const { deps, runs, instances } = await world();
    await validating(deps, 12);
    for (let n = 0; n < 12; n++) await runs.runs.create(MODEL, `r${n}`, aRun(`r${n}`));
    let [inFlight, most] = [0, 0];
    instances.beforeAnswer = async (id) => {
      most = Math.max(most, ++inFlight);
      // The host never answers this one: its place is held until the timeout frees it.
      if (id === `lifecycle:${MODEL}:5`) return new Promise<void>(() => setTimeout(() => inFlight--, 200));
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
    };

    const report = await reconcileOrchestrations({ ...deps, statusTimeoutMs: 200 });

    expect(most).toBe(STATUS_CALLS_AT_ONCE);
    expect(new Set(instances.asked).size).toBe(24);
    expect(report.models[0]!.errors).toEqual([{ kind: 'version', id: '5', error: `the status of instance 'lifecycle:${MODEL}:5' did not come within 200 ms` }]);
    expect(report.models[0]!.failed.filter((d) => d.kind === 'version').map((d) => d.id)).toEqual(['1', '2', '3', '4', '6', '7', '8', '9', '10', '11', '12']);
    expect((await stateOfVersion(deps, 5)).state).toBe('validating');
  });
});

describe('restarting the lifecycle of versions not yet decided whose instance is gone', () => {
  const LIFECYCLE: ActorInput = { id: 'system:modelLifecycle', kind: 'system', roles: [] };
  const BOB: ActorInput = { id: 'bob@example.com', roles: ['MLOps.Approver'] };
  const EVIDENCE = sha('evidence');
  const instanceId = `lifecycle:${MODEL}:1`;

  /** Registers version 1 (as alice, `registeredAt`) and, for `pending_approval`, validates it as the lifecycle would. */
  async function aVersion(deps: ReconcileDeps, state: 'registered' | 'pending_approval', registeredAt = minutesAgo(120)): Promise<RegistryUseCases> {
    const registry = new RegistryUseCases({ registry: deps.registry, clock: { now: () => registeredAt }, events: deps.events });
    await registry.register(MODEL, aModelVersionInput(), { id: 'alice@example.com' });
    if (state === 'pending_approval') {
      await registry.applyCommand(MODEL, 1, { type: 'start_validation' }, LIFECYCLE);
      await registry.applyCommand(MODEL, 1, { type: 'pass_validation', evidenceHash: EVIDENCE }, LIFECYCLE);
    }
    return new RegistryUseCases({ registry: deps.registry, clock: deps.clock, events: deps.events });
  }
  const stored = async (deps: ReconcileDeps) => (await deps.registry.getVersion(MODEL, 1))!.value;

  it.each(['Terminated', 'Failed', 'Canceled'])(
    'when a version waits for approval and its lifecycle ended %s, then the lifecycle is started again under its id, the restart is recorded on the version, and the version is not moved',
    async (status) => {
      const { deps, events, instances } = await world();
      await aVersion(deps, 'pending_approval');
      const before = await stored(deps);
      instances.set(instanceId, status, NOW);
      const published = events.events.length;

      const report = await reconcileOrchestrations(deps);

      const cause = `the orchestration instance '${instanceId}' ended (${status}) without recording the outcome`;
      expect(instances.started).toEqual([{ model: MODEL, version: 1 }]);
      expect(await stored(deps)).toEqual({ ...before, lifecycleRestarts: [{ at: NOW.toISOString(), state: 'pending_approval', cause }] });
      expect(report.models[0]).toMatchObject({ failed: [], leftForAPerson: [], errors: [], restarted: [{ version: 1, instanceId, state: 'pending_approval', cause, restarts: 1 }] });
      expect(events.events).toHaveLength(published);
    },
  );

  it('when a registered version has no instance (its start was lost) and was registered longer ago than the grace period, then its lifecycle is started; registered within it, it is left for its registration', async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'registered', new Date(NOW.getTime() - STARTING_LIFECYCLE_GRACE_MS - 1));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([{ model: MODEL, version: 1 }]);
    expect(report.models[0]!.restarted).toEqual([
      { version: 1, instanceId, state: 'registered', cause: `the orchestration instance '${instanceId}' no longer exists (purged, or its task hub was reset) and did not record the outcome`, restarts: 1 },
    ]);

    const recent = await world();
    await aVersion(recent.deps, 'registered', new Date(NOW.getTime() - STARTING_LIFECYCLE_GRACE_MS + 1000));
    const untouched = await stored(recent.deps);
    await reconcileOrchestrations(recent.deps);
    expect(recent.instances.started).toEqual([]);
    expect(await stored(recent.deps)).toEqual(untouched);
  });

  it('when a registered version was registered a moment ago but its instance already ended (terminated), then the lifecycle is started again at once', async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'registered', minutesAgo(1));
    instances.set(instanceId, 'Terminated', NOW);

    await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([{ model: MODEL, version: 1 }]);
  });

  it.each(['Running', 'Pending', 'Suspended'])('when the lifecycle of a waiting version is %s, however long it has waited, then nothing is started or written', async (status) => {
    const { deps, instances } = await world();
    await aVersion(deps, 'pending_approval');
    const before = await stored(deps);
    instances.set(instanceId, status, new Date('2026-01-01T00:00:00.000Z'));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(await stored(deps)).toEqual(before);
    expect(report.models[0]).toMatchObject({ restarted: [], leftForAPerson: [], errors: [] });
  });

  it('when the lifecycle of a waiting version completed longer ago than the grace period (anomalous), then it is started again; completed within it, it is left', async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'pending_approval');
    instances.set(instanceId, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS + 1000));
    await reconcileOrchestrations(deps);
    expect(instances.started).toEqual([]);

    instances.set(instanceId, 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS - 1));
    await reconcileOrchestrations(deps);
    expect(instances.started).toEqual([{ model: MODEL, version: 1 }]);
  });

  it(`when the restarted lifecycle fails the same way every time, then it is started ${MAX_LIFECYCLE_RESTARTS} times and after that left for a person, each reconciliation saying why and what to do`, async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'pending_approval');
    // Each restarted instance fails again before the next reconciliation.
    instances.onStart = async () => {
      instances.set(instanceId, 'Failed', NOW);
      return true;
    };
    instances.set(instanceId, 'Failed', NOW);

    const reports = [];
    for (let run = 0; run < MAX_LIFECYCLE_RESTARTS + 2; run++) reports.push(await reconcileOrchestrations(deps));

    expect(instances.started).toHaveLength(MAX_LIFECYCLE_RESTARTS);
    expect(reports.map((r) => r.models[0]!.restarted.map((x) => x.restarts))).toEqual([[1], [2], [3], [], []]);
    expect((await stored(deps)).lifecycleRestarts).toHaveLength(MAX_LIFECYCLE_RESTARTS);
    expect((await stored(deps)).state).toBe('pending_approval');
    for (const report of reports.slice(MAX_LIFECYCLE_RESTARTS)) {
      expect(report.models[0]!.leftForAPerson).toEqual([
        {
          version: 1,
          instanceId,
          state: 'pending_approval',
          reason: `its lifecycle was started again 3 times already (the last at ${NOW.toISOString()}), and ended again, so it is left for a person: read why in the history of '${instanceId}' (GET /runtime/webhooks/durabletask/instances/{instanceId}?showHistory=true), then approve, reject or retire the version (no lifecycle promotes an approved one: promote it with POST /models/${MODEL}/promote)`,
        },
      ]);
    }
  });

  /** What a person's decision, landed while the timer looked, leaves: the version as decided, no lifecycle started, no restart recorded or reported. */
  async function expectNotRestarted(deps: Awaited<ReturnType<typeof world>>['deps'], instances: Awaited<ReturnType<typeof world>>['instances'], report: Awaited<ReturnType<typeof reconcileOrchestrations>>, state: string) {
    expect(instances.started).toEqual([]);
    expect(await stored(deps)).toMatchObject({ state });
    expect((await stored(deps)).lifecycleRestarts).toBeUndefined();
    expect(report.models[0]).toMatchObject({ restarted: [], errors: [] });
  }

  it('when a person approves the version between its listing and the status answer, then its lifecycle is not started again and nothing is recorded', async () => {
    const { deps, instances } = await world();
    const registry = await aVersion(deps, 'pending_approval');
    instances.set(instanceId, 'Terminated', NOW);
    instances.beforeAnswer = async () => {
      await registry.applyCommand(MODEL, 1, { type: 'approve', evidenceHash: EVIDENCE }, BOB);
    };

    const report = await reconcileOrchestrations(deps);

    await expectNotRestarted(deps, instances, report, 'approved');
  });

  it('when the version changes between its read and the recorded restart (a person decides, or another host restarts it), then the ETag-guarded write loses and no lifecycle is started', async () => {
    const { deps, instances } = await world();
    const registry = await aVersion(deps, 'pending_approval');
    instances.set(instanceId, 'Terminated', NOW);
    const replace = deps.registry.replaceVersion.bind(deps.registry);
    let first = true;
    deps.registry.replaceVersion = async (version, etag) => {
      if (first) {
        first = false;
        await registry.applyCommand(MODEL, 1, { type: 'reject', evidenceHash: EVIDENCE, reason: 'worse on the north' }, BOB);
      }
      return replace(version, etag);
    };

    const report = await reconcileOrchestrations(deps);

    await expectNotRestarted(deps, instances, report, 'rejected');
  });

  it('when another start wins (an instance runs under the id when this one starts), then the restart stays recorded but is not reported as this run\'s', async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'pending_approval');
    instances.set(instanceId, 'Terminated', NOW);
    instances.onStart = async () => false;

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toHaveLength(1);
    expect((await stored(deps)).lifecycleRestarts).toHaveLength(1);
    expect(report.models[0]).toMatchObject({ restarted: [], errors: [] });
  });

  it('when the start fails (the host is down), then that is reported as the version\'s error, and the restart counts (it was recorded first, so two hosts never both start it)', async () => {
    const { deps, instances } = await world();
    await aVersion(deps, 'pending_approval');
    instances.set(instanceId, 'Terminated', NOW);
    instances.onStart = () => Promise.reject(new Error('the host did not answer'));

    const report = await reconcileOrchestrations(deps);

    expect(report.models[0]!.errors).toEqual([{ kind: 'version', id: '1', error: 'the host did not answer' }]);
    expect((await stored(deps)).lifecycleRestarts).toHaveLength(1);
  });
});

describe('restarting the lifecycle of approved versions whose lifecycle ended before promoting them', () => {
  const LIFECYCLE: ActorInput = { id: 'system:modelLifecycle', kind: 'system', roles: [] };
  const BOB: ActorInput = { id: 'bob@example.com', roles: ['MLOps.Approver'] };
  const CAROL: ActorInput = { id: 'carol@example.com', roles: ['MLOps.Admin'] };
  const EVIDENCE = sha('evidence');
  const instanceOf = (version: number) => `lifecycle:${MODEL}:${version}`;
  const leaveToAdmin = () => aDemandModel({ policies: { performance: { minLabelCoverage: 0.5 }, approval: { promoteOnApproval: false } } });
  const byHand = `promote it with POST /models/${MODEL}/promote, or retire it`;

  /** Registers a version (as alice, two hours before `approvedAt`), validates it as the lifecycle would, and has bob approve it at `approvedAt`; its number. */
  async function anApprovedVersion(deps: ReconcileDeps, approvedAt = minutesAgo(60)): Promise<number> {
    const at = (time: Date) => new RegistryUseCases({ registry: deps.registry, clock: { now: () => time }, events: deps.events });
    const registeredAt = new Date(approvedAt.getTime() - 120 * 60_000);
    const { version } = await at(registeredAt).register(MODEL, aModelVersionInput({ description: `approved at ${approvedAt.toISOString()}` }), { id: 'alice@example.com' });
    await at(registeredAt).applyCommand(MODEL, version.version, { type: 'start_validation' }, LIFECYCLE);
    await at(registeredAt).applyCommand(MODEL, version.version, { type: 'pass_validation', evidenceHash: EVIDENCE }, LIFECYCLE);
    await at(approvedAt).applyCommand(MODEL, version.version, { type: 'approve', evidenceHash: EVIDENCE }, BOB);
    return version.version;
  }
  const stored = async (deps: ReconcileDeps, version: number) => (await deps.registry.getVersion(MODEL, version))!.value;
  const promoteAt = (deps: ReconcileDeps, version: number, time: Date) =>
    new RegistryUseCases({ registry: deps.registry, clock: { now: () => time }, events: deps.events }).applyCommand(MODEL, version, { type: 'promote', reason: 'by hand' }, CAROL);

  it.each([
    ['ended Terminated', 'Terminated', `the orchestration instance 'lifecycle:${MODEL}:1' ended (Terminated) without recording the outcome`],
    ['ended Failed', 'Failed', `the orchestration instance 'lifecycle:${MODEL}:1' ended (Failed) without recording the outcome`],
    ['is gone (it was gone when the approval came: lifecycleNotified false)', undefined, `the orchestration instance 'lifecycle:${MODEL}:1' no longer exists (purged, or its task hub was reset) and did not record the outcome`],
  ])('when the policy promotes on approval and the lifecycle of an approved version %s, then it is started again to promote it, the restart is recorded, and the report says when it was approved', async (_, status, cause) => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps, minutesAgo(90));
    const before = await stored(deps, version);
    if (status) instances.set(instanceOf(version), status, NOW);

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([{ model: MODEL, version }]);
    expect(await stored(deps, version)).toEqual({ ...before, lifecycleRestarts: [{ at: NOW.toISOString(), state: 'approved', cause }] });
    expect(report.models[0]).toMatchObject({
      failed: [],
      leftForAPerson: [],
      notPromoted: [],
      errors: [],
      restarted: [{ version, instanceId: instanceOf(version), state: 'approved', cause, restarts: 1, approvedAt: minutesAgo(90).toISOString() }],
    });
  });

  it('when the policy leaves promotion to an admin (promoteOnApproval false), then an approved version whose lifecycle is gone is left alone: its instance is not asked about, nothing is started, written or reported', async () => {
    const { deps, instances } = await world(leaveToAdmin());
    const version = await anApprovedVersion(deps);
    const before = await stored(deps, version);
    instances.set(instanceOf(version), 'Terminated', NOW);

    const report = await reconcileOrchestrations(deps);

    expect(instances.asked).toEqual([]);
    expect(instances.started).toEqual([]);
    expect(await stored(deps, version)).toEqual(before);
    expect(report.models[0]).toMatchObject({ restarted: [], leftForAPerson: [], errors: [] });
  });

  it('when the lifecycle of an approved version completed (it lost the race to another champion change, or the policy then left promotion to an admin), then it is not started again, however long ago; running, it is left too', async () => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps);
    const before = await stored(deps, version);

    instances.set(instanceOf(version), 'Completed', new Date(NOW.getTime() - COMPLETED_INSTANCE_GRACE_MS - 60_000));
    const completed = await reconcileOrchestrations(deps);
    instances.set(instanceOf(version), 'Running', minutesAgo(600));
    const running = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(await stored(deps, version)).toEqual(before);
    for (const report of [completed, running]) expect(report.models[0]).toMatchObject({ restarted: [], leftForAPerson: [], errors: [] });
  });

  it('when the lifecycle completed before the approval (anomalously, while the version still waited), then it never saw the approval, and it is started again to promote it', async () => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps, minutesAgo(60));
    instances.set(instanceOf(version), 'Completed', minutesAgo(61));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([{ model: MODEL, version }]);
    expect(report.models[0]!.restarted).toEqual([
      { version, instanceId: instanceOf(version), state: 'approved', cause: `the orchestration instance '${instanceOf(version)}' ended (Completed) without recording the outcome`, restarts: 1, approvedAt: minutesAgo(60).toISOString() },
    ]);
  });

  it('when the champion changed after the approval (an admin promoted another version since), then the version rests approved (notPromoted, logged at debug level) saying which change it would undo; changed before the approval, it is started again', async () => {
    const { deps, instances } = await world();
    const champion = await anApprovedVersion(deps, minutesAgo(300));
    const version = await anApprovedVersion(deps, minutesAgo(90));
    await promoteAt(deps, champion, minutesAgo(30));
    instances.set(instanceOf(champion), 'Completed', minutesAgo(290));
    instances.set(instanceOf(version), 'Terminated', minutesAgo(80));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect((await stored(deps, version)).lifecycleRestarts).toBeUndefined();
    expect(report.models[0]!.leftForAPerson).toEqual([]);
    expect(report.models[0]!.notPromoted).toEqual([
      {
        version,
        instanceId: instanceOf(version),
        reason: `the champion changed at ${minutesAgo(30).toISOString()} (promote to version ${champion} by carol@example.com), after its approval at ${minutesAgo(90).toISOString()}: promoting it now would undo that change, so it is left for a person: ${byHand}`,
      },
    ]);

    const earlier = await world();
    const first = await anApprovedVersion(earlier.deps, minutesAgo(300));
    await promoteAt(earlier.deps, first, minutesAgo(290));
    const second = await anApprovedVersion(earlier.deps, minutesAgo(90));
    earlier.instances.set(instanceOf(second), 'Terminated', minutesAgo(80));
    const restarted = await reconcileOrchestrations(earlier.deps);
    expect(earlier.instances.started).toEqual([{ model: MODEL, version: second }]);
    expect(restarted.models[0]!.notPromoted).toEqual([]);
  });

  it('when two approved versions lost their lifecycle, then only the one approved last is promoted by a restart; the earlier rests approved (notPromoted), as its promotion would be undone at once', async () => {
    const { deps, instances } = await world();
    const earlier = await anApprovedVersion(deps, minutesAgo(120));
    const later = await anApprovedVersion(deps, minutesAgo(90));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([{ model: MODEL, version: later }]);
    expect(report.models[0]!.restarted.map((r) => r.version)).toEqual([later]);
    expect(report.models[0]!.notPromoted).toEqual([
      {
        version: earlier,
        instanceId: instanceOf(earlier),
        reason: `version ${later} was approved after it (at ${minutesAgo(90).toISOString()}, this one at ${minutesAgo(120).toISOString()}), and its promotion is the later instruction, so it is left for a person: ${byHand}`,
      },
    ]);
  });

  it('when the approval is older than MAX_APPROVAL_AGE_TO_PROMOTE_MS, then the version rests approved (notPromoted) saying so; just within it, it is started again', async () => {
    const { deps, instances } = await world();
    const old = new Date(NOW.getTime() - MAX_APPROVAL_AGE_TO_PROMOTE_MS - 60_000);
    const version = await anApprovedVersion(deps, old);

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(report.models[0]!.notPromoted).toEqual([
      {
        version,
        instanceId: instanceOf(version),
        reason: `it was approved at ${old.toISOString()}, more than 7 days ago, and an approval so old is not acted on without a person, so it is left for a person: ${byHand}`,
      },
    ]);

    const recent = await world();
    await anApprovedVersion(recent.deps, new Date(NOW.getTime() - MAX_APPROVAL_AGE_TO_PROMOTE_MS + 60_000));
    await reconcileOrchestrations(recent.deps);
    expect(recent.instances.started).toHaveLength(1);
  });

  const updateAt = (deps: ReconcileDeps, time: Date, patch: Record<string, unknown>) =>
    new RegistryUseCases({ registry: deps.registry, clock: { now: () => time }, events: deps.events }).updateModel(MODEL, patch, CAROL);
  const promoteOnApproval = (on: boolean) => ({ policies: { approval: { promoteOnApproval: on } } });

  it('when an admin turned promoteOnApproval on after the approval, then the version, approved to rest until an admin promotes it, rests approved (notPromoted) naming the update; nothing is started or written', async () => {
    const { deps, instances } = await world(leaveToAdmin());
    const version = await anApprovedVersion(deps, minutesAgo(90));
    await updateAt(deps, minutesAgo(80), { description: 'unrelated first' });
    await updateAt(deps, minutesAgo(60), promoteOnApproval(true));
    const before = await stored(deps, version);
    instances.set(instanceOf(version), 'Terminated', minutesAgo(85));

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(await stored(deps, version)).toEqual(before);
    expect(report.models[0]).toMatchObject({ restarted: [], leftForAPerson: [], errors: [] });
    expect(report.models[0]!.notPromoted).toEqual([
      {
        version,
        instanceId: instanceOf(version),
        reason: `it was approved at ${minutesAgo(90).toISOString()} while the model's approval policy left promotion to an admin (promoteOnApproval was turned on at ${minutesAgo(60).toISOString()}, revision 2), so it is left for a person: ${byHand}`,
      },
    ]);
  });

  it('when promoteOnApproval was on at the approval (unchanged since, or turned off and on again since), or turned on before it, then the lifecycle is started again to promote it', async () => {
    const unchanged = await world();
    await anApprovedVersion(unchanged.deps, minutesAgo(90));
    await updateAt(unchanged.deps, minutesAgo(60), { description: 'changed after the approval, the policy not' });

    const offAndOnAgain = await world();
    await anApprovedVersion(offAndOnAgain.deps, minutesAgo(90));
    await updateAt(offAndOnAgain.deps, minutesAgo(60), promoteOnApproval(false));
    await updateAt(offAndOnAgain.deps, minutesAgo(30), promoteOnApproval(true));

    const onBefore = await world(leaveToAdmin());
    await updateAt(onBefore.deps, minutesAgo(100), promoteOnApproval(true));
    await anApprovedVersion(onBefore.deps, minutesAgo(90));

    for (const { deps, instances } of [unchanged, offAndOnAgain, onBefore]) {
      const report = await reconcileOrchestrations(deps);
      expect(instances.started).toEqual([{ model: MODEL, version: 1 }]);
      expect(report.models[0]).toMatchObject({ notPromoted: [], restarted: [{ version: 1, state: 'approved', approvedAt: minutesAgo(90).toISOString() }] });
    }
  });

  it('when the model was updated more often since the approval than reconciliation reads, none of it changing the policy, then the version rests approved (notPromoted) saying so', async () => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps, minutesAgo(90));
    for (let revision = 1; revision <= MAX_MODEL_UPDATES_READ_SINCE_APPROVAL + 1; revision++) {
      const at = new Date(minutesAgo(80).getTime() + revision).toISOString();
      await deps.registry.appendAudit({ id: `${MODEL}:updated:${revision}`, kind: 'model_updated', modelName: MODEL, revision, actor: { id: 'carol@example.com', kind: 'user', roles: [] }, at, changes: [{ path: 'description', from: '', to: `#${revision}` }] });
    }

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(report.models[0]!.notPromoted).toEqual([
      {
        version,
        instanceId: instanceOf(version),
        reason: `the model was updated more than ${MAX_MODEL_UPDATES_READ_SINCE_APPROVAL} times since its approval at ${minutesAgo(90).toISOString()}, too often to read whether its approval policy had promoteOnApproval then, so it is left for a person: ${byHand}`,
      },
    ]);
  });

  it(`when the version's lifecycle was started again ${MAX_LIFECYCLE_RESTARTS} times already (before its approval, too), then it is left for a person with what to do about an approved version`, async () => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps);
    const { value, etag } = (await deps.registry.getVersion(MODEL, version))!;
    const restarts = Array.from({ length: MAX_LIFECYCLE_RESTARTS }, (_, i) => ({ at: minutesAgo(200 - i).toISOString(), state: 'pending_approval' as const, cause: 'ended (Failed)' }));
    await deps.registry.replaceVersion({ ...value, lifecycleRestarts: restarts }, etag);
    instances.set(instanceOf(version), 'Failed', NOW);

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(report.models[0]!.leftForAPerson).toEqual([
      {
        version,
        instanceId: instanceOf(version),
        state: 'approved',
        reason: `its lifecycle was started again ${MAX_LIFECYCLE_RESTARTS} times already (the last at ${restarts.at(-1)!.at}), and ended again, so it is left for a person: read why in the history of '${instanceOf(version)}' (GET /runtime/webhooks/durabletask/instances/{instanceId}?showHistory=true), then ${byHand}`,
      },
    ]);
  });

  it('when the model cannot be read (an outage), then that is reported as an error of its approved versions and the others are still reconciled', async () => {
    const { deps, instances } = await world();
    const version = await anApprovedVersion(deps);
    deps.registry.getModel = () => Promise.reject(new Error('503 from the store'));
    instances.set(instanceOf(version), 'Terminated', NOW);

    const report = await reconcileOrchestrations(deps);

    expect(instances.started).toEqual([]);
    expect(report.models[0]!.errors).toEqual([{ kind: 'version', id: 'approved', error: "the model's approval policy could not be read: 503 from the store" }]);
  });
});

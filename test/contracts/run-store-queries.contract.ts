import { randomBytes } from 'node:crypto';

import type { DocumentListing, RunStore } from '../../shared/ports/run-store';
import { retrainingRequestId } from '../../shared/schemas/messages';
import type { ActualsRecord, InferenceRun, RetrainingRecord } from '../../shared/schemas/monitoring';
import { anActualsRecord, anInferenceRun } from '../support/builders';

/**
 * Puts a document of one kind into the store as it is, unchecked (damaged in the store, or written
 * under rules that have since tightened): what the implementation's own writes refuse.
 */
export type StoreUnchecked<S extends RunStore = RunStore> = (
  store: S,
  kind: 'runs' | 'actuals' | 'retraining',
  model: string,
  id: string,
  raw: Record<string, unknown>,
) => Promise<void>;

const aRetrainingRecord = (model: string, windowId: string, overrides: Partial<RetrainingRecord> = {}): RetrainingRecord => ({
  requestId: retrainingRequestId(model, windowId),
  modelName: model,
  version: 1,
  reason: 'drift',
  windowId,
  state: 'queued',
  requestedAt: '2026-03-01T00:00:00.000Z',
  ...overrides,
});

/**
 * The RunStore port's queries that read a handful of a model's documents instead of its history
 * (shared/ports/run-store.ts), run against every implementation. Each query lists apart the
 * documents that do not read and may be what it looks for: those whose queried fields match, or
 * cannot be told; one whose fields say it is not is not read. Each test uses models of its own.
 */
export function describeRunStoreQueriesContract<S extends RunStore>(name: string, makeStore: () => S, storeUnchecked: StoreUnchecked<S>): void {
  describe(`RunStore queries contract: ${name}`, () => {
    let store: S;
    let model: string;
    let other: string;
    beforeEach(() => {
      store = makeStore();
      model = `rq-${randomBytes(5).toString('hex')}`;
      other = `${model}-x`;
    });
    const ids = <T>(listing: DocumentListing<T>, idOf: (doc: T) => string) => ({ documents: listing.documents.map(idOf), unreadable: listing.unreadable.map((u) => u.id) });
    const runIds = (listing: DocumentListing<InferenceRun>) => ids(listing, (r) => r.runId);
    const requestIds = (listing: DocumentListing<RetrainingRecord>) => ids(listing, (r) => r.requestId);

    describe('runs in a state', () => {
      it("when runs of several states and models exist, then listReadableInState gives the model's runs in that state, by id, and apart those that do not read and may be in it", async () => {
        await store.runs.create(model, 'w2', anInferenceRun(model, 'w2', { state: 'waiting_for_champion', version: null }));
        await store.runs.create(model, 'w1', anInferenceRun(model, 'w1', { state: 'waiting_for_champion', version: null }));
        await store.runs.create(model, 'c1', anInferenceRun(model, 'c1', { state: 'completed' }));
        await store.runs.create(model, 'r1', anInferenceRun(model, 'r1', { state: 'running' }));
        await store.runs.create(other, 'w3', anInferenceRun(other, 'w3', { state: 'waiting_for_champion', version: null }));
        await storeUnchecked(store, 'runs', model, 'w-damaged', { ...anInferenceRun(model, 'w-damaged', { state: 'waiting_for_champion' }), rowsRead: -1 });
        await storeUnchecked(store, 'runs', model, 'c-damaged', { ...anInferenceRun(model, 'c-damaged', { state: 'completed' }), rowsRead: -1 });
        await storeUnchecked(store, 'runs', model, 'untold', { ...anInferenceRun(model, 'untold'), state: 7 });
        await storeUnchecked(store, 'runs', model, 'odd', { ...anInferenceRun(model, 'odd'), state: 'Waiting' });

        const waiting = await store.runs.listReadableInState(model, 'waiting_for_champion');

        expect(runIds(waiting)).toEqual({ documents: ['w1', 'w2'], unreadable: ['odd', 'untold', 'w-damaged'] });
        expect(waiting.documents[0]).toEqual(anInferenceRun(model, 'w1', { state: 'waiting_for_champion', version: null }));
        expect(waiting.unreadable[2]).toEqual({ id: 'w-damaged', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) });
        expect(runIds(await store.runs.listReadableInState(model, 'running'))).toEqual({ documents: ['r1'], unreadable: ['odd', 'untold'] });
        expect(runIds(await store.runs.listReadableInState(model, 'failed'))).toEqual({ documents: [], unreadable: ['odd', 'untold'] });
      });
    });

    describe('runs whose follow-ups are pending', () => {
      it("when some runs carry followUpsPendingSince, then listReadableFollowUpsPending gives the model's marked runs, by id, and apart the marked ones that do not read; runs without it (as stored before it existed) are not listed", async () => {
        const pending = (m: string, id: string) => anInferenceRun(m, id, { state: 'failed', error: 'gone', followUpsPendingSince: '2026-03-10T12:00:00.000Z' });
        await store.runs.create(model, 'p2', pending(model, 'p2'));
        await store.runs.create(model, 'p1', pending(model, 'p1'));
        await store.runs.create(model, 'failed-before', anInferenceRun(model, 'failed-before', { state: 'failed', error: 'gone' }));
        await store.runs.create(model, 'running', anInferenceRun(model, 'running', { state: 'running' }));
        await store.runs.create(other, 'p3', pending(other, 'p3'));
        await storeUnchecked(store, 'runs', model, 'p-damaged', { ...pending(model, 'p-damaged'), rowsRead: -1 });
        await storeUnchecked(store, 'runs', model, 'p-null', { ...pending(model, 'p-null'), followUpsPendingSince: null });
        await storeUnchecked(store, 'runs', model, 'damaged-unmarked', { ...anInferenceRun(model, 'damaged-unmarked'), rowsRead: -1 });

        const listed = await store.runs.listReadableFollowUpsPending(model);

        expect(runIds(listed)).toEqual({ documents: ['p1', 'p2'], unreadable: ['p-damaged', 'p-null'] });
        expect(listed.documents[0]).toEqual(pending(model, 'p1'));
      });
    });

    describe('the latest scheduled run', () => {
      const scheduled = (m: string, id: string, scheduledFor: string) => anInferenceRun(m, id, { kind: 'scheduled', scheduledFor });

      it('when a model has scheduled runs, then listReadableLatestScheduled gives the one with the latest scheduledFor and those whose scheduledFor is written otherwise, not batch runs or other models', async () => {
        expect(await store.runs.listReadableLatestScheduled(model)).toEqual({ documents: [], unreadable: [] });
        await store.runs.create(model, 'sched-1', scheduled(model, 'sched-1', '2026-03-01T02:00:00.000Z'));
        await store.runs.create(model, 'sched-3', scheduled(model, 'sched-3', '2026-03-03T02:00:00.000Z'));
        await store.runs.create(model, 'sched-2', scheduled(model, 'sched-2', '2026-03-02T02:00:00.000Z'));
        await store.runs.create(model, 'batch', anInferenceRun(model, 'batch', { scheduledFor: '2026-04-01T00:00:00.000Z' }));
        await store.runs.create(model, 'no-occurrence', anInferenceRun(model, 'no-occurrence', { kind: 'scheduled' }));
        await store.runs.create(other, 'sched-9', scheduled(other, 'sched-9', '2026-05-01T00:00:00.000Z'));

        expect(await store.runs.listReadableLatestScheduled(model)).toEqual({ documents: [scheduled(model, 'sched-3', '2026-03-03T02:00:00.000Z')], unreadable: [] });

        // Written with an offset: its text does not sort with the others, so it is listed whatever its time.
        await store.runs.create(model, 'sched-offset', scheduled(model, 'sched-offset', '2026-02-01T02:00:00+01:00'));
        expect(runIds(await store.runs.listReadableLatestScheduled(model))).toEqual({ documents: ['sched-3', 'sched-offset'], unreadable: [] });
      });

      it('when the latest scheduled run does not read (or its kind cannot be told), then it is listed apart instead of an earlier one; an earlier one that does not read is not read', async () => {
        await store.runs.create(model, 'sched-1', scheduled(model, 'sched-1', '2026-03-01T02:00:00.000Z'));
        await storeUnchecked(store, 'runs', model, 'sched-0', { ...scheduled(model, 'sched-0', '2026-02-01T02:00:00.000Z'), rowsRead: -1 });
        expect(runIds(await store.runs.listReadableLatestScheduled(model))).toEqual({ documents: ['sched-1'], unreadable: [] });

        await storeUnchecked(store, 'runs', model, 'sched-2', { ...scheduled(model, 'sched-2', '2026-03-02T02:00:00.000Z'), rowsRead: -1 });
        expect(runIds(await store.runs.listReadableLatestScheduled(model))).toEqual({ documents: [], unreadable: ['sched-2'] });

        await storeUnchecked(store, 'runs', model, 'sched-4', { ...scheduled(model, 'sched-4', '2026-03-04T02:00:00.000Z'), kind: undefined });
        await storeUnchecked(store, 'runs', model, 'sched-garbled', { ...scheduled(model, 'sched-garbled', ''), scheduledFor: 20260305 });
        await storeUnchecked(store, 'runs', model, 'sched-nightly', { ...scheduled(model, 'sched-nightly', '2026-03-05T02:00:00+00:00'), kind: 'nightly' });
        expect(runIds(await store.runs.listReadableLatestScheduled(model))).toEqual({ documents: [], unreadable: ['sched-4', 'sched-garbled', 'sched-nightly'] });
      });
    });

    describe('actuals records created since a time', () => {
      it('when records were created before and after a time, then listReadableCreatedSince gives the later ones and those written otherwise, and apart only the later ones that do not read', async () => {
        await store.actuals.create(model, 'a-old', anActualsRecord(model, 'a-old', '2026-02-28T23:59:59.999Z'));
        await store.actuals.create(model, 'a-at', anActualsRecord(model, 'a-at', '2026-03-01T00:00:00.000Z'));
        await store.actuals.create(model, 'a-new', anActualsRecord(model, 'a-new', '2026-03-05T00:00:00.000Z'));
        await store.actuals.create(model, 'a-offset', anActualsRecord(model, 'a-offset', '2026-02-01T00:00:00+01:00'));
        await store.actuals.create(other, 'a-other', anActualsRecord(other, 'a-other', '2026-03-05T00:00:00.000Z'));
        await storeUnchecked(store, 'actuals', model, 'a-old-damaged', { ...anActualsRecord(model, 'a-old-damaged', '2026-01-01T00:00:00.000Z'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'a-new-damaged', { ...anActualsRecord(model, 'a-new-damaged', '2026-03-02T00:00:00.000Z'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'a-untold', { ...anActualsRecord(model, 'a-untold', ''), createdAt: null });

        const listing = await store.actuals.listReadableCreatedSince(model, new Date('2026-03-01T00:00:00.000Z'));

        expect(ids(listing, (r) => r.actualsId)).toEqual({ documents: ['a-at', 'a-new', 'a-offset'], unreadable: ['a-new-damaged', 'a-untold'] });
        expect(listing.documents[1]).toEqual(anActualsRecord(model, 'a-new', '2026-03-05T00:00:00.000Z'));
      });
    });

    describe('actuals records of one path', () => {
      it('when versions of a path are stored beside damaged ones, then listReadableByPath gives that path\'s, and apart those that do not read and are of that path or whose path cannot be told', async () => {
        const path = `actuals/${model}/daily.csv`;
        const atPath = (id: string) => ({ ...anActualsRecord(model, id, '2026-03-01T00:00:00.000Z'), source: { path, etag: `"${id}"`, size: 10 } });
        await store.actuals.create(model, 'v1', atPath('v1'));
        await store.actuals.create(model, 'elsewhere', anActualsRecord(model, 'elsewhere', '2026-03-01T00:00:00.000Z'));
        await storeUnchecked(store, 'actuals', model, 'v2-damaged', { ...atPath('v2-damaged'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'elsewhere-damaged', { ...anActualsRecord(model, 'elsewhere-damaged', '2026-03-01T00:00:00.000Z'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'no-source', { ...atPath('no-source'), source: null });
        await storeUnchecked(store, 'actuals', model, 'path-not-text', { ...atPath('path-not-text'), source: { path: 7, etag: '"x"', size: 10 } });

        expect(ids(await store.actuals.listReadableByPath(model, path), (r) => r.actualsId)).toEqual({ documents: ['v1'], unreadable: ['no-source', 'path-not-text', 'v2-damaged'] });
      });
    });

    describe('actuals records in a state', () => {
      it("when records of several states and models exist, then listReadableInState gives the model's records in that state, by id, and apart those that do not read and may be in it", async () => {
        const inState = (actualsId: string, state: ActualsRecord['state'], m = model) => ({ ...anActualsRecord(m, actualsId, '2026-03-01T00:00:00.000Z'), state });
        await store.actuals.create(model, 'a-run-2', inState('a-run-2', 'running'));
        await store.actuals.create(model, 'a-run-1', inState('a-run-1', 'running'));
        await store.actuals.create(model, 'a-done', inState('a-done', 'completed'));
        await store.actuals.create(model, 'a-failed', inState('a-failed', 'failed'));
        await store.actuals.create(other, 'a-other', inState('a-other', 'running', other));
        await storeUnchecked(store, 'actuals', model, 'a-run-damaged', { ...inState('a-run-damaged', 'running'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'a-done-damaged', { ...inState('a-done-damaged', 'completed'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'a-untold', { ...inState('a-untold', 'running'), state: null });
        await storeUnchecked(store, 'actuals', model, 'a-odd', { ...inState('a-odd', 'running'), state: 'Running' });

        const running = await store.actuals.listReadableInState(model, 'running');

        expect(ids(running, (r) => r.actualsId)).toEqual({ documents: ['a-run-1', 'a-run-2'], unreadable: ['a-odd', 'a-run-damaged', 'a-untold'] });
        expect(running.documents[0]).toEqual(inState('a-run-1', 'running'));
        expect(ids(await store.actuals.listReadableInState(model, 'failed'), (r) => r.actualsId)).toEqual({ documents: ['a-failed'], unreadable: ['a-odd', 'a-untold'] });
      });

      it("when some records carry followUpsPendingSince, then listReadableFollowUpsPending gives the model's marked records, by id, and apart the marked ones that do not read; records without it are not listed", async () => {
        const failed = (actualsId: string, m = model): ActualsRecord => ({ ...anActualsRecord(m, actualsId, '2026-03-01T00:00:00.000Z'), state: 'failed', error: 'gone' });
        const pending = (actualsId: string, m = model): ActualsRecord => ({ ...failed(actualsId, m), followUpsPendingSince: '2026-03-10T12:00:00.000Z' });
        await store.actuals.create(model, 'a-p2', pending('a-p2'));
        await store.actuals.create(model, 'a-p1', pending('a-p1'));
        await store.actuals.create(model, 'a-failed-before', failed('a-failed-before'));
        await store.actuals.create(other, 'a-p3', pending('a-p3', other));
        await storeUnchecked(store, 'actuals', model, 'a-p-damaged', { ...pending('a-p-damaged'), rows: -1 });
        await storeUnchecked(store, 'actuals', model, 'a-damaged-unmarked', { ...failed('a-damaged-unmarked'), rows: -1 });

        const listed = await store.actuals.listReadableFollowUpsPending(model);

        expect(ids(listed, (r) => r.actualsId)).toEqual({ documents: ['a-p1', 'a-p2'], unreadable: ['a-p-damaged'] });
        expect(listed.documents[0]).toEqual(pending('a-p1'));
      });
    });

    describe('models with documents to reconcile, across models', () => {
      // Other tests' models share the store: each model here is named after this test's `model`, and
      // nothing but names that start with it sorts between `model` and them (names are [a-z0-9-]);
      // a page longer than this test's names may go on with other models, which are left out.
      const named = (suffix: string) => `${model}-${suffix}`;
      const after = () => model;
      const ours = (names: string[]) => names.filter((name) => name.startsWith(`${model}-`));

      it('when models have runs in several states, then listModelsToReconcile names each model with a run in the states asked, whose state cannot be told, or marked, once, in name order, a page at a time', async () => {
        await store.runs.create(named('a'), 'r1', anInferenceRun(named('a'), 'r1', { state: 'running' }));
        await store.runs.create(named('a'), 'r2', anInferenceRun(named('a'), 'r2', { state: 'waiting_for_champion', version: null }));
        await store.runs.create(named('b'), 'c1', anInferenceRun(named('b'), 'c1', { state: 'completed' }));
        await store.runs.create(named('c'), 'w1', anInferenceRun(named('c'), 'w1', { state: 'waiting_for_champion', version: null }));
        await store.runs.create(named('d'), 'p1', anInferenceRun(named('d'), 'p1', { state: 'failed', error: 'gone', followUpsPendingSince: '2026-03-10T12:00:00.000Z' }));
        await storeUnchecked(store, 'runs', named('e'), 'untold', { ...anInferenceRun(named('e'), 'untold'), state: 7 });
        await storeUnchecked(store, 'runs', named('f'), 'odd', { ...anInferenceRun(named('f'), 'odd'), state: 'Waiting' });
        await storeUnchecked(store, 'runs', named('g'), 'damaged', { ...anInferenceRun(named('g'), 'damaged', { state: 'running' }), rowsRead: -1 });
        await storeUnchecked(store, 'runs', named('h'), 'damaged-done', { ...anInferenceRun(named('h'), 'damaged-done', { state: 'completed' }), rowsRead: -1 });
        await store.actuals.create(named('i'), 'a1', { ...anActualsRecord(named('i'), 'a1', '2026-03-01T00:00:00.000Z'), state: 'running' });

        const expected = ['a', 'c', 'd', 'e', 'f', 'g'].map(named);
        expect(await store.runs.listModelsToReconcile(['running', 'waiting_for_champion'], { after: after(), limit: 6 })).toEqual(expected);
        expect(await store.runs.listModelsToReconcile(['running', 'waiting_for_champion'], { after: after(), limit: 2 })).toEqual(expected.slice(0, 2));
        expect(await store.runs.listModelsToReconcile(['running', 'waiting_for_champion'], { after: named('c'), limit: 4 })).toEqual(expected.slice(2));
        expect(ours(await store.runs.listModelsToReconcile(['waiting_for_champion'], { after: after(), limit: 6 }))).toEqual(['a', 'c', 'd', 'e', 'f'].map(named));
        expect(await store.runs.listModelsToReconcile([], { after: after(), limit: 3 })).toEqual(['d', 'e', 'f'].map(named));
        await expect(store.runs.listModelsToReconcile(['running'], { limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      });

      it('when one model has more runs to judge than one query reads (100), then the models after it are still named, each once', async () => {
        for (let k = 0; k < 130; k += 1) await store.runs.create(named('a'), `r${k}`, anInferenceRun(named('a'), `r${k}`, { state: 'running' }));
        await store.runs.create(named('b'), 'r1', anInferenceRun(named('b'), 'r1', { state: 'running' }));

        expect(await store.runs.listModelsToReconcile(['running'], { after: after(), limit: 2 })).toEqual(['a', 'b'].map(named));
      });

      it('when models have actuals records in several states, then listModelsToReconcile names those with a record in the states asked, untold, or marked', async () => {
        const record = (m: string, actualsId: string, over: Partial<ActualsRecord>): ActualsRecord => ({ ...anActualsRecord(m, actualsId, '2026-03-01T00:00:00.000Z'), ...over });
        await store.actuals.create(named('a'), 'a1', record(named('a'), 'a1', { state: 'running' }));
        await store.actuals.create(named('a'), 'a2', record(named('a'), 'a2', { state: 'running' }));
        await store.actuals.create(named('b'), 'a1', record(named('b'), 'a1', { state: 'completed' }));
        await store.actuals.create(named('c'), 'a1', record(named('c'), 'a1', { state: 'failed', error: 'gone', followUpsPendingSince: '2026-03-10T12:00:00.000Z' }));
        await storeUnchecked(store, 'actuals', named('d'), 'untold', { ...record(named('d'), 'untold', {}), state: null });
        await store.runs.create(named('e'), 'r1', anInferenceRun(named('e'), 'r1', { state: 'running' }));

        expect(ours(await store.actuals.listModelsToReconcile(['running'], { after: after(), limit: 5 }))).toEqual(['a', 'c', 'd'].map(named));
      });
    });

    describe('retraining records', () => {
      const record = (windowId: string, overrides: Partial<RetrainingRecord> = {}) => aRetrainingRecord(model, windowId, overrides);
      const put = (r: RetrainingRecord) => store.retraining.create(r.modelName, r.requestId, r);
      const id = (windowId: string) => retrainingRequestId(model, windowId);

      it('when requests of every state exist, then listReadableOpen gives the open ones, and apart those that do not read and are open or whose state cannot be told', async () => {
        await put(record('20260301T0000Z', { state: 'queued' }));
        await put(record('20260302T0000Z', { state: 'training', trainer: 'builtin' }));
        await put(record('20260303T0000Z', { state: 'registered', resultVersion: 2 }));
        await put(record('20260304T0000Z', { state: 'closed', resultVersion: 3, outcome: 'production' }));
        await put(record('20260305T0000Z', { state: 'failed', error: 'no data' }));
        await put(aRetrainingRecord(other, '20260301T0000Z'));
        await storeUnchecked(store, 'retraining', model, id('20260306T0000Z'), { requestId: id('20260306T0000Z'), modelName: model, state: 'queued' });
        await storeUnchecked(store, 'retraining', model, id('20260307T0000Z'), { requestId: id('20260307T0000Z'), modelName: model, state: 'closed' });
        await storeUnchecked(store, 'retraining', model, id('20260308T0000Z'), { requestId: id('20260308T0000Z'), modelName: model });

        const open = await store.retraining.listReadableOpen(model);

        expect(requestIds(open)).toEqual({ documents: ['20260301T0000Z', '20260302T0000Z', '20260303T0000Z'].map(id), unreadable: ['20260306T0000Z', '20260308T0000Z'].map(id) });
        expect(open.documents[2]).toEqual(record('20260303T0000Z', { state: 'registered', resultVersion: 2 }));
        expect(open.unreadable[0]).toEqual({ id: id('20260306T0000Z'), reason: expect.stringMatching(/^its stored retraining document is invalid: /) });
      });

      it('when requests were made before and after a time, then listReadableOpenOrRequestedSince gives the open ones and those made since (or whose time is written otherwise), and apart those that do not read and may be either', async () => {
        const since = new Date('2026-03-10T00:00:00.000Z');
        await put(record('20260301T0000Z', { state: 'closed', requestedAt: '2026-03-01T00:00:00.000Z' })); // closed before
        await put(record('20260302T0000Z', { state: 'queued', requestedAt: '2026-03-02T00:00:00.000Z' })); // open, made before
        await put(record('20260310T0000Z', { state: 'failed', requestedAt: '2026-03-10T00:00:00.000Z' })); // failed at the time
        await put(record('20260311T0000Z', { state: 'closed', requestedAt: '2026-03-11T00:00:00.000Z' })); // closed since
        await put(record('20260303T0000Z', { state: 'failed', requestedAt: '2026-03-03T00:00:00-01:00' })); // written otherwise
        await put(aRetrainingRecord(other, '20260312T0000Z', { state: 'closed', requestedAt: '2026-03-12T00:00:00.000Z' }));
        const damaged = (windowId: string, fields: Record<string, unknown>) =>
          storeUnchecked(store, 'retraining', model, id(windowId), { ...record(windowId), ...fields, version: 0 });
        await damaged('20260304T0000Z', { state: 'closed', requestedAt: '2026-03-04T00:00:00.000Z' }); // closed before: not read
        await damaged('20260312T0000Z', { state: 'closed', requestedAt: '2026-03-12T00:00:00.000Z' }); // closed since
        await damaged('20260305T0000Z', { state: 'closed', requestedAt: 5 }); // its time cannot be told
        await damaged('20260306T0000Z', { state: 'training', requestedAt: '2026-03-06T00:00:00.000Z' }); // open

        const listing = await store.retraining.listReadableOpenOrRequestedSince(model, since);

        expect(requestIds(listing)).toEqual({
          documents: ['20260302T0000Z', '20260303T0000Z', '20260310T0000Z', '20260311T0000Z'].map(id),
          unreadable: ['20260305T0000Z', '20260306T0000Z', '20260312T0000Z'].map(id),
        });
      });

      it('when requests produced several versions, then listReadableWithResultVersion gives those that produced the version, and apart those that do not read and did, or whose result cannot be told', async () => {
        await put(record('20260301T0000Z', { state: 'registered', resultVersion: 2 }));
        await put(record('20260302T0000Z', { state: 'registered', resultVersion: 3 }));
        await put(record('20260303T0000Z', { state: 'closed', resultVersion: 2, outcome: 'rejected' }));
        await put(record('20260304T0000Z', { state: 'failed', error: 'no data' }));
        await put(aRetrainingRecord(other, '20260301T0000Z', { state: 'registered', resultVersion: 2 }));
        await storeUnchecked(store, 'retraining', model, id('20260305T0000Z'), { modelName: model, state: 'registered', resultVersion: 2 });
        await storeUnchecked(store, 'retraining', model, id('20260306T0000Z'), { modelName: model, state: 'registered', resultVersion: 3 });
        await storeUnchecked(store, 'retraining', model, id('20260307T0000Z'), { modelName: model, state: 'registered', resultVersion: '2' });
        await storeUnchecked(store, 'retraining', model, id('20260308T0000Z'), { modelName: model, state: 'registered' });

        const listing = await store.retraining.listReadableWithResultVersion(model, 2);

        expect(requestIds(listing)).toEqual({ documents: ['20260301T0000Z', '20260303T0000Z'].map(id), unreadable: ['20260305T0000Z', '20260307T0000Z'].map(id) });
        expect(requestIds(await store.retraining.listReadableWithResultVersion(model, 4))).toEqual({ documents: [], unreadable: [id('20260307T0000Z')] });
      });
    });
  });
}

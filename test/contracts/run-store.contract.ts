import { randomBytes } from 'node:crypto';

import { MAX_DOCUMENT_BYTES } from '../../shared/domain/document-size';
import { windowFromId } from '../../shared/domain/windows';
import type { RunStore } from '../../shared/ports/run-store';
import type { ActualsRecord, MonitoringWindow } from '../../shared/schemas/monitoring';
import { anActualsRecord, anInferenceRun } from '../support/builders';

const T0 = '2026-03-01T00:00:00.000Z';
const HOUR = 3_600_000;

/** An hourly window document with realised performance stamped `updatedAt` (none without it), judged as `judged` says. */
function aWindow(model: string, id: string, updatedAt?: string, judged?: Partial<NonNullable<MonitoringWindow['performanceEvaluation']>>): MonitoringWindow {
  const metrics = { overall: { task: 'regression' as const, rows: 10, metrics: { rmse: { value: 1, rows: 10, ci: null } } }, segments: [] };
  return {
    modelName: model,
    window: windowFromId(id, HOUR),
    version: 1,
    predictions: 10,
    labelled: updatedAt ? 10 : 0,
    labelCoverage: updatedAt ? 1 : 0,
    performance: updatedAt ? { metrics, provisional: false, updatedAt } : null,
    drift: null,
    ...(judged ? { performanceEvaluation: { metric: 'rmse', value: 1, baseline: 1, degradation: 0, reason: 'ok', segments: {}, evaluatedAt: T0, ...judged } } : {}),
  };
}


/** A completed join's record of the file at `path`. */
const anActualsRecordAt = (model: string, actualsId: string, path: string): ActualsRecord =>
  anActualsRecord(model, actualsId, T0, { source: { path, etag: `"${actualsId}"`, size: 10, lastModified: T0 }, windows: ['20260301T0000Z'] });

/**
 * Puts a run document into the store as it is, unchecked (a document damaged in the store, or
 * written under rules that have since tightened): what the implementation's own writes refuse.
 */
export type StoreUncheckedRun<S extends RunStore = RunStore> = (store: S, model: string, id: string, raw: Record<string, unknown>) => Promise<void>;

/**
 * The documented semantics of the RunStore port's collections (shared/ports/run-store.ts), run
 * against every implementation. Each test uses models of its own, so it also runs on a shared
 * database.
 */
export function describeRunStoreContract<S extends RunStore>(name: string, makeStore: () => S, storeUncheckedRun: StoreUncheckedRun<S>): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: S;
    let model: string;
    beforeEach(() => {
      store = makeStore();
      model = `rs-${randomBytes(5).toString('hex')}`;
    });

    it('when a document is created, then it reads back; creating the id again returns the stored one, not created', async () => {
      const first = await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      expect(first).toMatchObject({ created: true, value: anInferenceRun(model, 'r1'), etag: expect.any(String) });
      expect(await store.runs.get(model, 'r1')).toEqual({ value: anInferenceRun(model, 'r1'), etag: first.etag });
      const again = await store.runs.create(model, 'r1', anInferenceRun(model, 'r1', { state: 'failed' }));
      expect(again).toMatchObject({ created: false, value: { state: 'running' }, etag: first.etag });
      expect(await store.runs.get(model, 'missing')).toBeUndefined();
    });

    it('when replaced with the current ETag, then it changes; with a stale one, CONCURRENCY_CONFLICT; a missing one is NOT_FOUND', async () => {
      const { etag } = await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      const replaced = await store.runs.replace(model, 'r1', anInferenceRun(model, 'r1', { state: 'completed', rowsRead: 5 }), etag);
      expect(replaced.etag).not.toBe(etag);
      await expect(store.runs.replace(model, 'r1', anInferenceRun(model, 'r1', { state: 'failed' }), etag)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
      expect((await store.runs.get(model, 'r1'))?.value).toMatchObject({ state: 'completed', rowsRead: 5 });
      await expect(store.runs.replace(model, 'nope', anInferenceRun(model, 'nope'), etag)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('when 5 writers replace with the same ETag at once, then exactly one wins', async () => {
      const { etag } = await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      const results = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((n) => store.runs.replace(model, 'r1', anInferenceRun(model, 'r1', { rowsRead: n }), etag)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('when documents of several kinds and models exist, then list gives one kind of one model, by id', async () => {
      const other = `${model}-x`;
      await store.runs.create(model, 'r2', anInferenceRun(model, 'r2'));
      await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      await store.runs.create(other, 'r3', anInferenceRun(other, 'r3'));
      await store.monitors.create(model, 'monitor', { modelName: model, evaluatedUntil: null, recent: [], lastAlertAt: null, updatedAt: T0 });
      expect((await store.runs.list(model)).map((r) => r.runId)).toEqual(['r1', 'r2']);
      expect((await store.monitors.list(model)).map((m) => m.modelName)).toEqual([model]);
      expect(await store.windows.list(model)).toEqual([]);
    });

    it('when a stored document no longer reads, then listReadable gives the others and it apart by id with the reason; list and get fail naming it', async () => {
      await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      await store.runs.create(model, 'r3', anInferenceRun(model, 'r3'));
      await storeUncheckedRun(store, model, 'r2', { ...anInferenceRun(model, 'r2'), rowsRead: -1 });
      const listing = await store.runs.listReadable(model);
      expect(listing.documents.map((r) => r.runId)).toEqual(['r1', 'r3']);
      expect(listing.unreadable).toEqual([{ id: 'r2', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) }]);
      const naming = new RegExp(`^the stored run document 'r2' of '${model}' cannot be read: its stored run document is invalid: .*rowsRead`, 's');
      await expect(store.runs.list(model)).rejects.toThrow(naming);
      await expect(store.runs.get(model, 'r2')).rejects.toThrow(naming);
      expect((await store.runs.get(model, 'r1'))?.value).toEqual(anInferenceRun(model, 'r1'));
      expect(await store.windows.listReadable(model)).toEqual({ documents: [], unreadable: [] });
    });

    it('when listed in an id range, then only the ids in [from, before) come, by id, at most limit; a window id range is a span of time', async () => {
      const ids = ['20260301T0000Z', '20260301T0100Z', '20260301T0200Z', '20260301T0300Z', '20260302T0000Z'];
      for (const id of [...ids].reverse()) await store.windows.create(model, id, aWindow(model, id));
      await store.windows.create(`${model}-x`, ids[1]!, aWindow(`${model}-x`, ids[1]!));
      const listed = async (range: Parameters<RunStore['windows']['listReadableInRange']>[1]) =>
        (await store.windows.listReadableInRange(model, range)).documents.map((w) => w.window.id);
      expect(await listed({ from: ids[1], before: ids[3] })).toEqual([ids[1], ids[2]]);
      expect(await listed({ from: ids[2] })).toEqual(ids.slice(2));
      expect(await listed({ before: ids[1] })).toEqual([ids[0]]);
      expect(await listed({ from: ids[1], limit: 2 })).toEqual([ids[1], ids[2]]);
      expect(await listed({})).toEqual(ids);
      expect(await listed({ from: '20260303T0000Z' })).toEqual([]);
      await expect(store.windows.listReadableInRange(model, { limit: 1.5 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    });

    it('when a document in the range no longer reads, then it is listed apart with the reason; one outside the range is not read', async () => {
      await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      await storeUncheckedRun(store, model, 'r2', { ...anInferenceRun(model, 'r2'), rowsRead: -1 });
      await storeUncheckedRun(store, model, 'r4', { ...anInferenceRun(model, 'r4'), rowsRead: -1 });
      await store.runs.create(model, 'r3', anInferenceRun(model, 'r3'));
      const listing = await store.runs.listReadableInRange(model, { from: 'r1', before: 'r4' });
      expect(listing.documents.map((r) => r.runId)).toEqual(['r1', 'r3']);
      expect(listing.unreadable).toEqual([{ id: 'r2', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) }]);
    });

    it('when windows got actuals after they were judged, then listReadablePerformanceUnjudged gives them and no window judged on its current actuals', async () => {
      const at = '2026-03-02T00:00:00.000Z';
      const later = '2026-03-03T00:00:00.000Z';
      const windows: Record<string, MonitoringWindow> = {
        '20260301T0000Z': aWindow(model, '20260301T0000Z'), // no actuals
        '20260301T0100Z': aWindow(model, '20260301T0100Z', at), // actuals, never judged
        '20260301T0200Z': aWindow(model, '20260301T0200Z', at, { judgedUpdatedAt: at }), // judged on them
        '20260301T0300Z': aWindow(model, '20260301T0300Z', later, { judgedUpdatedAt: at }), // late actuals
        '20260301T0400Z': aWindow(model, '20260301T0400Z', at, { judgedUpdatedAt: null }), // judged before any actuals
        '20260301T0500Z': aWindow(model, '20260301T0500Z', at, {}), // judged before judgedUpdatedAt was kept
        '20260301T0600Z': aWindow(model, '20260301T0600Z', undefined, { judgedUpdatedAt: null }), // judged, still no actuals
        '20260301T0700Z': aWindow(model, '20260301T0700Z', undefined, { judgedUpdatedAt: at }), // judged, its actuals taken out since
      };
      for (const [id, w] of Object.entries(windows)) await store.windows.create(model, id, w);
      const listing = await store.windows.listReadablePerformanceUnjudged(model);
      expect(listing).toEqual({ documents: ['20260301T0100Z', '20260301T0300Z', '20260301T0400Z', '20260301T0500Z', '20260301T0700Z'].map((id) => windows[id]), unreadable: [] });
      expect((await store.windows.listReadablePerformanceUnjudged(model, '20260301T0400Z')).documents.map((w) => w.window.id)).toEqual(['20260301T0100Z', '20260301T0300Z']);
    });

    it('when windows overlapping a span are paged, then those whose [start, end) meets [from, to) come, whatever the offset the bounds are written in', async () => {
      const ids = ['20260301T0000Z', '20260301T0100Z', '20260301T0200Z', '20260301T0300Z'];
      for (const id of ids) await store.windows.create(model, id, aWindow(model, id));
      // Pages are newest first: reversed here to read as ids in order.
      const listed = async (span: { from?: string; to?: string }) => (await store.windows.listReadablePage(model, { limit: 100, ...span })).documents.map((w) => w.window.id).reverse();
      expect(await listed({ from: '2026-03-01T01:30:00.000Z', to: '2026-03-01T03:00:00.000Z' })).toEqual([ids[1], ids[2]]);
      expect(await listed({ from: '2026-03-01T02:30:00+01:00', to: '2026-03-01T03:00:01Z' })).toEqual([ids[1], ids[2], ids[3]]);
      expect(await listed({ from: '2026-03-01T01:00:00Z' })).toEqual([ids[1], ids[2], ids[3]]);
      expect(await listed({ to: '2026-03-01T01:00:00Z' })).toEqual([ids[0]]);
      expect(await listed({})).toEqual(ids);
    });

    it('when runs created since a time are listed, then the older ones are not; one whose createdAt is written otherwise comes too; one that does not read fails naming it', async () => {
      await store.runs.create(model, 'r-old', anInferenceRun(model, 'r-old', { createdAt: '2026-02-28T23:59:59.999Z' }));
      await store.runs.create(model, 'r-at', anInferenceRun(model, 'r-at', { createdAt: '2026-03-01T00:00:00.000Z' }));
      await store.runs.create(model, 'r-new', anInferenceRun(model, 'r-new', { createdAt: '2026-03-05T00:00:00.000Z' }));
      await store.runs.create(model, 'r-offset', anInferenceRun(model, 'r-offset', { createdAt: '2026-02-01T00:00:00+01:00' }));
      const since = new Date('2026-03-01T00:00:00.000Z');
      expect((await store.runs.listCreatedSince(model, since)).map((r) => r.runId)).toEqual(['r-at', 'r-new', 'r-offset']);
      await storeUncheckedRun(store, model, 'r-old-damaged', { ...anInferenceRun(model, 'r-old-damaged', { createdAt: '2026-01-01T00:00:00.000Z' }), rowsRead: -1 });
      expect((await store.runs.listCreatedSince(model, since)).map((r) => r.runId)).toEqual(['r-at', 'r-new', 'r-offset']);
      await storeUncheckedRun(store, model, 'r-damaged', { ...anInferenceRun(model, 'r-damaged'), createdAt: 'yesterday' });
      await expect(store.runs.listCreatedSince(model, since)).rejects.toThrow(`the stored run document 'r-damaged' of '${model}' cannot be read`);
    });

    it('when actuals records of several paths and models exist, then listReadableByPath gives the records of one path of one model, by id', async () => {
      const other = `${model}-x`;
      const path = `actuals/${model}/daily/sales.csv`;
      await store.actuals.create(model, 'v2', anActualsRecordAt(model, 'v2', path));
      await store.actuals.create(model, 'v1', anActualsRecordAt(model, 'v1', path));
      await store.actuals.create(
        model,
        'b1',
        anActualsRecordAt(model, 'b1', `actuals/${model}/daily/sales.csv.gz`),
      );
      await store.actuals.create(other, 'o1', anActualsRecordAt(other, 'o1', path));

      const listing = await store.actuals.listReadableByPath(model, path);

      expect(listing).toEqual({
        documents: [anActualsRecordAt(model, 'v1', path), anActualsRecordAt(model, 'v2', path)],
        unreadable: [],
      });
      expect(await store.actuals.listReadableByPath(model, `actuals/${model}/none.csv`)).toEqual({
        documents: [],
        unreadable: [],
      });
    });

    it('when a document is too large to store (a run over thousands of files), then PAYLOAD_TOO_LARGE and nothing is stored or replaced', async () => {
      const sources = Array.from({ length: Math.ceil(MAX_DOCUMENT_BYTES / 60) }, (_, i) => ({ path: `drops/${model}/scheduled/f${i}.csv`, etag: '"0x1"', size: 10 }));
      await expect(store.runs.create(model, 'big', anInferenceRun(model, 'big', { sources }))).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining("'big'"),
      });
      expect(await store.runs.get(model, 'big')).toBeUndefined();
      const { etag } = await store.runs.create(model, 'r1', anInferenceRun(model, 'r1'));
      await expect(store.runs.replace(model, 'r1', anInferenceRun(model, 'r1', { sources }), etag)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(await store.runs.get(model, 'r1')).toEqual({ value: anInferenceRun(model, 'r1'), etag });
    });

    it('when a document is invalid or for another model, then VALIDATION_ERROR and nothing is stored', async () => {
      await expect(store.runs.create(model, 'r1', { ...anInferenceRun(model, 'r1'), rowsRead: -1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(store.runs.create(model, 'r1', anInferenceRun('someone-else', 'r1'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(await store.runs.get(model, 'r1')).toBeUndefined();
    });
  });
}

import { randomBytes } from 'node:crypto';

import { MAX_DOCUMENT_BYTES } from '../../shared/domain/document-size';
import type { RunStore } from '../../shared/ports/run-store';
import { anInferenceRun } from '../support/builders';

const T0 = '2026-03-01T00:00:00.000Z';


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

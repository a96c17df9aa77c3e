import { randomBytes } from 'node:crypto';

import { windowFromId } from '../../shared/domain/windows';
import { type DocumentPage, MAX_PAGE_TIME_LENGTH, type PageRequest, type RunStore } from '../../shared/ports/run-store';
import type { MonitoringWindow, RetrainingRecord } from '../../shared/schemas/monitoring';
import { jsonBytes } from '../../shared/schemas/paging';
import { anActualsRecord, anInferenceRun } from '../support/builders';

const DAY = 86_400_000;

/** The docTypes a paging test damages: the Cosmos adapter's prefix of each stored id. */
export type PagedKind = 'run' | 'window' | 'retraining';

/**
 * Puts a document of `kind` into the store as it is, unchecked (a document damaged in the store):
 * what the implementation's own writes refuse.
 */
export type StoreUnchecked<S extends RunStore = RunStore> = (store: S, kind: PagedKind, model: string, id: string, raw: Record<string, unknown>) => Promise<void>;

const aRetrainingRecord = (model: string, requestId: string, requestedAt: string): RetrainingRecord => ({
  requestId,
  modelName: model,
  version: 1,
  reason: 'drift',
  windowId: '20260301T0000Z',
  state: 'queued',
  requestedAt,
});

const aDailyWindow = (model: string, id: string): MonitoringWindow => ({
  modelName: model,
  window: windowFromId(id, DAY),
  version: 1,
  predictions: 1,
  labelled: 0,
  labelCoverage: 0,
  performance: null,
  drift: null,
});

/** Every page from the first, following `next`: each page's entries by id (readable or not), and the pages' sizes. */
async function walk<T>(read: (page: PageRequest) => Promise<DocumentPage<T>>, limit: number, idOf: (doc: T) => string) {
  const pages: Array<{ documents: string[]; unreadable: string[] }> = [];
  let after: PageRequest['after'];
  do {
    const page = await read({ limit, ...(after ? { after } : {}) });
    pages.push({ documents: page.documents.map(idOf), unreadable: page.unreadable.map((u) => u.id) });
    after = page.next ?? undefined;
    expect(pages.length).toBeLessThan(100);
  } while (after);
  return { pages, sizes: pages.map((p) => p.documents.length + p.unreadable.length), documents: pages.flatMap((p) => p.documents), unreadable: pages.flatMap((p) => p.unreadable) };
}

/**
 * The paged newest-first listings of the RunStore port (NewestFirstPages in shared/ports/run-store.ts),
 * run against every implementation. Each test uses models of its own.
 */
export function describeRunStorePagingContract<S extends RunStore>(name: string, makeStore: () => S, storeUnchecked: StoreUnchecked<S>): void {
  describe(`RunStore paging contract: ${name}`, () => {
    let store: S;
    let model: string;
    beforeEach(() => {
      store = makeStore();
      model = `rp-${randomBytes(5).toString('hex')}`;
    });

    it('when runs are paged, then every run comes once, newest first by createdAt then runId, in full pages but the last; runs of one time across page ends included', async () => {
      const times = ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'];
      // Eight runs share one time: a page ends inside them whatever the page size below.
      const runs = [
        ...['a', 'h', 'c', 'f', 'b', 'g', 'e', 'd'].map((id) => ({ id: `tie-${id}`, at: times[1]! })),
        { id: 'old-1', at: times[0]! },
        { id: 'old-2', at: times[0]! },
        { id: 'new-1', at: times[2]! },
        { id: 'newest', at: '2026-03-04T00:00:00.000Z' },
      ];
      for (const r of runs) await store.runs.create(model, r.id, anInferenceRun(model, r.id, { createdAt: r.at }));
      await store.runs.create(`${model}-x`, 'other', anInferenceRun(`${model}-x`, 'other'));
      const expected = ['newest', 'new-1', ...['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a'].map((id) => `tie-${id}`), 'old-2', 'old-1'];

      for (const limit of [1, 3, 5, 12, 100]) {
        const walked = await walk((page) => store.runs.listReadablePage(model, page), limit, (r) => r.runId);
        expect(walked.documents).toEqual(expected);
        expect(walked.sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
        expect(walked.pages).toHaveLength(Math.max(1, Math.ceil(expected.length / limit)));
      }
      expect(await store.runs.listReadablePage(`${model}-none`, { limit: 10 })).toEqual({ documents: [], unreadable: [], next: null });
    });

    it('when a page is read, then it starts after the key it is given, also a key inside a run of one time', async () => {
      for (const id of ['a', 'b', 'c', 'd']) await store.runs.create(model, id, anInferenceRun(model, id, { createdAt: '2026-03-02T00:00:00.000Z' }));
      await store.runs.create(model, 'old', anInferenceRun(model, 'old', { createdAt: '2026-03-01T00:00:00.000Z' }));
      const first = await store.runs.listReadablePage(model, { limit: 2 });
      expect(first.documents.map((r) => r.runId)).toEqual(['d', 'c']);
      expect(first.next).toEqual({ at: '2026-03-02T00:00:00.000Z', id: 'c' });
      const second = await store.runs.listReadablePage(model, { limit: 2, after: first.next! });
      expect(second.documents.map((r) => r.runId)).toEqual(['b', 'a']);
      expect(second.next).toEqual({ at: '2026-03-02T00:00:00.000Z', id: 'a' });
      // A run created between pages, newer than the page read: not listed again, the rest unchanged.
      await store.runs.create(model, 'newer', anInferenceRun(model, 'newer', { createdAt: '2026-03-09T00:00:00.000Z' }));
      expect(await store.runs.listReadablePage(model, { limit: 2, after: second.next! })).toMatchObject({ documents: [expect.objectContaining({ runId: 'old' })], next: null });
    });

    it('when runs are paged with a state, then only runs of that state come, in full pages but the last', async () => {
      for (let n = 0; n < 9; n++) {
        const state = n % 3 === 0 ? 'failed' : 'completed';
        await store.runs.create(model, `r${n}`, anInferenceRun(model, `r${n}`, { state, createdAt: new Date(Date.parse('2026-03-01T00:00:00.000Z') + n * DAY).toISOString() }));
      }
      const completed = await walk((page) => store.runs.listReadablePage(model, { ...page, state: 'completed' }), 2, (r) => r.runId);
      expect(completed.documents).toEqual(['r8', 'r7', 'r5', 'r4', 'r2', 'r1']);
      expect(completed.sizes).toEqual([2, 2, 2]);
      expect((await walk((page) => store.runs.listReadablePage(model, { ...page, state: 'failed' }), 2, (r) => r.runId)).documents).toEqual(['r6', 'r3', 'r0']);
      expect(await store.runs.listReadablePage(model, { limit: 5, state: 'waiting_for_champion' })).toEqual({ documents: [], unreadable: [], next: null });
    });

    it('when runs that do not read are paged with a state, then one whose stored state is another is left out; one whose state cannot be told comes under every state', async () => {
      await store.runs.create(model, 'ok', anInferenceRun(model, 'ok', { state: 'completed', createdAt: '2026-03-05T00:00:00.000Z' }));
      await storeUnchecked(store, 'run', model, 'bad-failed', { ...anInferenceRun(model, 'bad-failed', { state: 'failed', createdAt: '2026-03-04T00:00:00.000Z' }), rowsRead: -1 });
      await storeUnchecked(store, 'run', model, 'bad-completed', { ...anInferenceRun(model, 'bad-completed', { state: 'completed', createdAt: '2026-03-03T00:00:00.000Z' }), rowsRead: -1 });
      await storeUnchecked(store, 'run', model, 'bad-state', { ...anInferenceRun(model, 'bad-state', { createdAt: '2026-03-02T00:00:00.000Z' }), state: 'lost' });
      const { state: _dropped, ...noState } = anInferenceRun(model, 'no-state', { createdAt: '2026-03-01T00:00:00.000Z' });
      await storeUnchecked(store, 'run', model, 'no-state', noState);
      const completed = await walk((page) => store.runs.listReadablePage(model, { ...page, state: 'completed' }), 2, (r) => r.runId);
      expect(completed).toMatchObject({ documents: ['ok'], unreadable: ['bad-completed', 'bad-state', 'no-state'], sizes: [2, 2] });
      expect((await store.runs.listReadablePage(model, { limit: 10, state: 'running' })).unreadable.map((u) => u.id)).toEqual(['bad-state', 'no-state']);
    });

    it('when some runs do not read, then they take their place on a page, apart with the reason; those without a time come last, by id; every run comes once', async () => {
      const at = (day: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + day * DAY).toISOString();
      for (const n of [0, 1, 3, 5]) await store.runs.create(model, `r${n}`, anInferenceRun(model, `r${n}`, { createdAt: at(n) }));
      await storeUnchecked(store, 'run', model, 'bad-2', { ...anInferenceRun(model, 'bad-2', { createdAt: at(2) }), rowsRead: -1 });
      await storeUnchecked(store, 'run', model, 'bad-4', { ...anInferenceRun(model, 'bad-4', { createdAt: at(4) }), createdAt: 'yesterday' });
      const { createdAt: _dropped, ...noTime } = anInferenceRun(model, 'bad-none');
      await storeUnchecked(store, 'run', model, 'bad-none', noTime);
      await storeUnchecked(store, 'run', model, 'bad-number', { ...anInferenceRun(model, 'bad-number'), createdAt: 20260301 });
      // Too long to carry in a page's key: among those without a time.
      await storeUnchecked(store, 'run', model, 'bad-long', { ...anInferenceRun(model, 'bad-long'), createdAt: `2026-03-09T00:00:00.000Z${'!'.repeat(MAX_PAGE_TIME_LENGTH)}` });

      for (const limit of [1, 2, 3, 8]) {
        const walked = await walk((page) => store.runs.listReadablePage(model, page), limit, (r) => r.runId);
        expect(walked.documents).toEqual(['r5', 'r3', 'r1', 'r0']);
        // 'yesterday' sorts after every digit, as text: it is the newest.
        expect(walked.unreadable).toEqual(['bad-4', 'bad-2', 'bad-number', 'bad-none', 'bad-long']);
        expect(walked.pages.flatMap((p) => [...p.documents, ...p.unreadable])).toHaveLength(9);
        expect(walked.sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
      }
      const page = await store.runs.listReadablePage(model, { limit: 2, after: { at: '2026-03-03T00:00:00.000Z', id: 'bad-2' } });
      expect(page.documents.map((r) => r.runId)).toEqual(['r1', 'r0']);
      expect(page.next).toEqual({ at: at(0), id: 'r0' });
      const untimed = await store.runs.listReadablePage(model, { limit: 5, after: page.next! });
      const invalidTime = expect.stringContaining('createdAt');
      expect(untimed).toEqual({ documents: [], unreadable: ['bad-number', 'bad-none', 'bad-long'].map((id) => ({ id, reason: invalidTime })), next: null });
      expect(await store.runs.listReadablePage(model, { limit: 1, after: { at: null, id: 'bad-number' } })).toMatchObject({ unreadable: [{ id: 'bad-none' }], next: { at: null, id: 'bad-none' } });
      expect(await store.runs.listReadablePage(model, { limit: 1, after: { at: null, id: 'bad-none' } })).toMatchObject({ unreadable: [{ id: 'bad-long' }], next: null });
    });

    it('when actuals records and retraining requests are paged, then each comes once, newest first by its time then id', async () => {
      const days = [3, 1, 4, 1, 5, 9, 2, 6];
      for (const [i, d] of days.entries()) {
        const at = new Date(Date.parse('2026-03-01T00:00:00.000Z') + d * DAY).toISOString();
        await store.actuals.create(model, `a${i}`, anActualsRecord(model, `a${i}`, at));
        await store.retraining.create(model, `retrain:${model}:${i}`, aRetrainingRecord(model, `retrain:${model}:${i}`, at));
      }
      const newestFirst = ['5', '7', '4', '2', '0', '6', '3', '1'];
      expect((await walk((page) => store.actuals.listReadablePage(model, page), 3, (a) => a.actualsId)).documents).toEqual(newestFirst.map((i) => `a${i}`));
      await storeUnchecked(store, 'retraining', model, 'damaged', { modelName: model, state: 'lost' });
      const requests = await walk((page) => store.retraining.listReadablePage(model, page), 3, (r) => r.requestId);
      expect(requests.documents).toEqual(newestFirst.map((i) => `retrain:${model}:${i}`));
      expect(requests.unreadable).toEqual(['damaged']);
      expect(requests.sizes).toEqual([3, 3, 3]);
    });

    it('when windows are paged, then newest first by id (their start), only those overlapping from/to; a window that does not read takes its place', async () => {
      const ids = ['20260301T0000Z', '20260302T0000Z', '20260303T0000Z', '20260304T0000Z', '20260305T0000Z', '20260306T0000Z'];
      for (const id of ids) await store.windows.create(model, id, aDailyWindow(model, id));
      await storeUnchecked(store, 'window', model, '20260303T1200Z', { modelName: model, window: 'not a window' });
      const all = await walk((page) => store.windows.listReadablePage(model, page), 2, (w) => w.window.id);
      expect(all.documents).toEqual([...ids].reverse());
      expect(all.unreadable).toEqual(['20260303T1200Z']);
      expect(all.sizes).toEqual([2, 2, 2, 1]);
      const span = { from: '2026-03-02T12:00:00Z', to: '2026-03-05T00:00:00+01:00' };
      const spanned = await walk((page) => store.windows.listReadablePage(model, { ...page, ...span }), 2, (w) => w.window.id);
      expect(spanned.documents).toEqual(['20260304T0000Z', '20260303T0000Z', '20260302T0000Z']);
      expect(spanned.sizes).toEqual([2, 1]);
    });

    it('when runs carry times as older code wrote them (no milliseconds, an offset) among times of one instant, then each comes exactly once at every page size, in stored-text order', async () => {
      const times: Record<string, string> = {
        ms: '2026-03-02T00:00:00.000Z',
        noMs: '2026-03-02T00:00:00Z',
        offset: '2026-03-02T01:00:00+01:00',
        micro: '2026-03-02T00:00:00.000000Z',
        'ms-2': '2026-03-02T00:00:00.000Z',
        later: '2026-03-02T00:00:00.001Z',
      };
      for (const [id, at] of Object.entries(times)) await store.runs.create(model, id, anInferenceRun(model, id, { createdAt: at }));
      const byText = Object.keys(times).sort((a, b) => (times[a] === times[b] ? (a < b ? 1 : -1) : times[a]! < times[b]! ? 1 : -1));
      for (const limit of [1, 2, 4, 6]) {
        const walked = await walk((page) => store.runs.listReadablePage(model, page), limit, (r) => r.runId);
        expect(walked.documents).toEqual(byText);
      }
    });

    it('when runs are paged by bytes as well as entries, then a page stops before the entry that would pass maxBytes (never empty), across runs of one time and unreadable runs, and every run comes once in order', async () => {
      const at = (day: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + day * DAY).toISOString();
      // Sizes vary by the error text; five runs share one time, so byte cuts land inside it.
      const specs = [
        { id: 'big-alone', at: at(9), error: 'x'.repeat(5000) },
        ...['e', 'a', 'd', 'b', 'c'].map((id, i) => ({ id: `tie-${id}`, at: at(5), error: 'y'.repeat(300 + i * 400) })),
        { id: 'r2', at: at(2), error: 'z'.repeat(1200) },
        { id: 'r1', at: at(1), error: 'w' },
      ];
      for (const r of specs) await store.runs.create(model, r.id, anInferenceRun(model, r.id, { createdAt: r.at, error: r.error }));
      await storeUnchecked(store, 'run', model, 'bad-3', { ...anInferenceRun(model, 'bad-3', { createdAt: at(3) }), rowsRead: -1 });
      const { createdAt: _dropped, ...noTime } = anInferenceRun(model, 'bad-none');
      await storeUnchecked(store, 'run', model, 'bad-none', noTime);

      // The reference: the whole list on one page, each entry's bytes as the page holds it.
      const whole = await store.runs.listReadablePage(model, { limit: 100 });
      const bytesOf = new Map<string, number>([...whole.documents.map((r) => [r.runId, jsonBytes(r)] as const), ...whole.unreadable.map((u) => [u.id, jsonBytes(u)] as const)]);
      const order = ['big-alone', 'tie-e', 'tie-d', 'tie-c', 'tie-b', 'tie-a', 'bad-3', 'r2', 'r1', 'bad-none'];
      for (const maxBytes of [1, 3000, 4000, 6000, 20_000]) {
        for (const limit of [2, 4, 100]) {
          const pages: string[][] = [];
          let after: PageRequest['after'];
          do {
            const page = await store.runs.listReadablePage(model, { limit, maxBytes, ...(after ? { after } : {}) });
            const held = new Set([...page.documents.map((r) => r.runId), ...page.unreadable.map((u) => u.id)]);
            pages.push(order.filter((id) => held.has(id)));
            after = page.next ?? undefined;
            expect(pages.length).toBeLessThan(20);
          } while (after);
          expect(pages.flat()).toEqual(order);
          // Greedy over the order: a page takes entries while it has room in entries and in bytes, always the first.
          const expected: string[][] = [];
          for (const id of order) {
            const current = expected.at(-1);
            const bytes = (current ?? []).reduce((n, e) => n + bytesOf.get(e)!, 0) + bytesOf.get(id)!;
            if (current && current.length < limit && bytes <= maxBytes) current.push(id);
            else expected.push([id]);
          }
          expect(pages).toEqual(expected);
        }
      }
      expect(bytesOf.get('big-alone')).toBeGreaterThan(5000);
      // An entry past the budget on its own still makes a page, alone.
      const alone = await store.runs.listReadablePage(model, { limit: 100, maxBytes: 1000 });
      expect(alone.documents.map((r) => r.runId)).toEqual(['big-alone']);
      expect(alone.next).toEqual({ at: at(9), id: 'big-alone' });
    });

    it('when windows and actuals records are paged by bytes, then a page stops before the entry that would pass maxBytes and the next page starts right after it', async () => {
      const ids = ['20260301T0000Z', '20260302T0000Z', '20260303T0000Z'];
      for (const id of ids) await store.windows.create(model, id, aDailyWindow(model, id));
      const windowBytes = jsonBytes((await store.windows.listReadablePage(model, { limit: 1 })).documents[0]);
      const first = await store.windows.listReadablePage(model, { limit: 10, maxBytes: 2 * windowBytes + 1 });
      expect(first.documents.map((w) => w.window.id)).toEqual(['20260303T0000Z', '20260302T0000Z']);
      expect(first.next).toEqual({ at: '20260302T0000Z', id: '20260302T0000Z' });
      expect(await store.windows.listReadablePage(model, { limit: 10, maxBytes: 2 * windowBytes + 1, after: first.next! })).toMatchObject({ documents: [{ window: { id: '20260301T0000Z' } }], next: null });

      for (const [i, d] of [2, 1, 0].entries()) await store.actuals.create(model, `a${i}`, anActualsRecord(model, `a${i}`, new Date(Date.parse('2026-03-01T00:00:00.000Z') + d * DAY).toISOString()));
      const actuals = await walk((page) => store.actuals.listReadablePage(model, { ...page, maxBytes: 1 }), 10, (a) => a.actualsId);
      expect(actuals.pages.map((p) => p.documents)).toEqual([['a0'], ['a1'], ['a2']]);
    });

    it('when a page size (entries or bytes) is not a whole number of at least 1, then VALIDATION_ERROR', async () => {
      for (const maxBytes of [0, -1, 1.5, Number.NaN]) await expect(store.runs.listReadablePage(model, { limit: 1, maxBytes })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      for (const limit of [0, -1, 1.5, Number.NaN]) await expect(store.runs.listReadablePage(model, { limit })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      await expect(store.windows.listReadablePage(model, { limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    });
  });
}

/**
 * GET .../runs, .../actuals, .../retraining and .../monitoring a page at a time: ?limit= and
 * ?continuationToken=, continuationToken and nextLink in the answer, filters applied before paging.
 */
import { errors } from '../../../shared/domain/errors';
import { windowFromId } from '../../../shared/domain/windows';
import type { MonitoringWindow, RetrainingRecord } from '../../../shared/schemas/monitoring';
import { continuationTokenOf, DEFAULT_PAGE_SIZE } from '../../../shared/schemas/paging';
import { callRoute } from '../../support/api-route';
import { anActualsRecord, anInferenceRun } from '../../support/builders';
import { inMemoryRunStore } from '../../support/in-memory-run-store';

const mockStore = inMemoryRunStore();
const KNOWN = new Set(['demand', 'busy']);
jest.mock('../../../shared/composition', () => ({
  batch: () => ({ runs: mockStore }),
  runStore: () => mockStore,
  registry: () => ({ getModel: (m: string) => (KNOWN.has(m) ? Promise.resolve({ modelName: m }) : Promise.reject(errors.modelNotFound(m))) }),
  registryStore: () => ({ getModel: (m: string) => Promise.resolve(KNOWN.has(m) ? { value: { modelName: m } } : undefined) }),
}));
import '../../../functions/http/runs';
import '../../../functions/http/actuals';
import '../../../functions/http/monitoring';
import '../../../functions/http/retraining';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const dayAt = (n: number) => new Date(T0 + n * DAY).toISOString();
const windowId = (n: number) => dayAt(n).replace(/[-:]/g, '').replace(/\d\d\.\d{3}Z$/, 'Z');

const ROUTES = { runs: 'listRuns', actuals: 'listActuals', retraining: 'listRetraining', monitoring: 'getMonitoring' } as const;
const LISTS = { runs: 'runs', actuals: 'actuals', retraining: 'requests', monitoring: 'windows' } as const;
type Kind = keyof typeof ROUTES;

async function get(kind: Kind, model: string, search = '') {
  return callRoute(ROUTES[kind], `/api/models/${model}/${kind}${search}`, { model });
}

interface Page {
  entries: Array<Record<string, unknown>>;
  unreadable: Array<{ id: string }>;
  continuationToken: string | null;
  nextLink: string | null;
  body: Record<string, unknown>;
}

/** Every page from `search`, following nextLink as a client would. */
async function walk(kind: Kind, model: string, search = ''): Promise<Page[]> {
  const pages: Page[] = [];
  let path: string | null = `/api/models/${model}/${kind}${search}`;
  while (path !== null) {
    const answer = await callRoute(ROUTES[kind], path, { model });
    expect(answer.status).toBe(200);
    const body = answer.body as Omit<Page, 'entries' | 'body'>;
    pages.push({ entries: answer.body[LISTS[kind]] as Page['entries'], unreadable: body.unreadable, continuationToken: body.continuationToken, nextLink: body.nextLink, body: answer.body });
    path = body.nextLink;
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

const aRetrainingRecord = (model: string, n: number): RetrainingRecord => ({
  requestId: `retrain:${model}:${windowId(n)}`,
  modelName: model,
  version: 1,
  reason: 'drift',
  windowId: windowId(n),
  state: 'queued',
  requestedAt: dayAt(n),
});

const aWindow = (model: string, n: number): MonitoringWindow => ({
  modelName: model,
  window: windowFromId(windowId(n), DAY),
  version: 1,
  predictions: n,
  labelled: 0,
  labelCoverage: 0,
  performance: null,
  drift: null,
});

describe('GET list routes a page at a time', () => {
  beforeAll(async () => {
    // demand: 7 runs (two share a time), every third failed; 5 actuals records, 5 requests, 10 windows.
    for (let n = 0; n < 7; n++) {
      const runId = `run-${n}`;
      await mockStore.runs.create('demand', runId, anInferenceRun('demand', runId, { createdAt: dayAt(Math.min(n, 5)), state: n % 3 === 0 ? 'failed' : 'completed' }));
    }
    for (let n = 0; n < 5; n++) {
      await mockStore.actuals.create('demand', `a${n}`, anActualsRecord('demand', `a${n}`, dayAt(n)));
      await mockStore.retraining.create('demand', aRetrainingRecord('demand', n).requestId, aRetrainingRecord('demand', n));
    }
    for (let n = 0; n < 10; n++) await mockStore.windows.create('demand', windowId(n), aWindow('demand', n));
    await mockStore.monitors.create('demand', 'monitor', { modelName: 'demand', evaluatedUntil: dayAt(10), recent: [], lastAlertAt: null, updatedAt: dayAt(10) });
    // busy: more records than a default page holds.
    for (let n = 0; n < DEFAULT_PAGE_SIZE + 5; n++) await mockStore.actuals.create('busy', `b${String(n).padStart(3, '0')}`, anActualsRecord('busy', `b${String(n).padStart(3, '0')}`, dayAt(n)));
  });

  it('when runs are walked with ?limit=3, then every run comes once, newest first (createdAt, then runId), in pages of 3 but the last, whose token and link are null', async () => {
    const pages = await walk('runs', 'demand', '?limit=3');
    expect(pages.map((p) => p.entries.map((r) => r.runId))).toEqual([['run-6', 'run-5', 'run-4'], ['run-3', 'run-2', 'run-1'], ['run-0']]);
    expect(pages.at(-1)).toMatchObject({ continuationToken: null, nextLink: null });
    for (const page of pages.slice(0, -1)) {
      expect(page.continuationToken).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+$/));
      expect(page.nextLink).toBe(`/api/models/demand/runs?limit=3&continuationToken=${page.continuationToken}`);
    }
  });

  it('when a filter is given, then it applies before paging: pages are full but the last, and the next link keeps the filter', async () => {
    const pages = await walk('runs', 'demand', '?state=completed&limit=2');
    expect(pages.map((p) => p.entries.map((r) => r.runId))).toEqual([['run-5', 'run-4'], ['run-2', 'run-1']]);
    expect(pages[0]!.nextLink).toBe(`/api/models/demand/runs?state=completed&limit=2&continuationToken=${pages[0]!.continuationToken}`);
    expect((await walk('runs', 'demand', '?state=failed&limit=1')).map((p) => p.entries.map((r) => r.runId))).toEqual([['run-6'], ['run-3'], ['run-0']]);
  });

  it('when no limit is given, then a page holds 100 entries; a lone page of a short list has no next page', async () => {
    const first = (await get('actuals', 'busy')).body;
    expect(first.actuals).toHaveLength(DEFAULT_PAGE_SIZE);
    expect(first.nextLink).toBe(`/api/models/busy/actuals?continuationToken=${first.continuationToken as string}`);
    const pages = await walk('actuals', 'busy');
    expect(pages.map((p) => p.entries.length)).toEqual([DEFAULT_PAGE_SIZE, 5]);
    expect(new Set(pages.flatMap((p) => p.entries.map((a) => a.actualsId))).size).toBe(DEFAULT_PAGE_SIZE + 5);
    expect((await get('runs', 'demand')).body).toMatchObject({ runs: expect.any(Array), continuationToken: null, nextLink: null });
    expect((await get('runs', 'demand')).body.runs).toHaveLength(7);
  });

  it('when actuals and retraining requests are walked, then each comes once, newest first', async () => {
    expect((await walk('actuals', 'demand', '?limit=2')).map((p) => p.entries.map((a) => a.actualsId))).toEqual([['a4', 'a3'], ['a2', 'a1'], ['a0']]);
    const requests = await walk('retraining', 'demand', '?limit=4');
    expect(requests.flatMap((p) => p.entries.map((r) => r.windowId))).toEqual([4, 3, 2, 1, 0].map(windowId));
    expect(requests.map((p) => p.body.model)).toEqual(['demand', 'demand']);
  });

  it('when monitoring windows are walked within from/to, then each page holds windows of the range only, newest first, and the monitor state on every page', async () => {
    const pages = await walk('monitoring', 'demand', `?from=${encodeURIComponent(dayAt(2))}&to=${encodeURIComponent(dayAt(8))}&limit=4`);
    expect(pages.map((p) => p.entries.map((w) => (w.window as { id: string }).id))).toEqual([[7, 6, 5, 4].map(windowId), [3, 2].map(windowId)]);
    for (const page of pages) expect(page.body.monitor).toMatchObject({ modelName: 'demand', evaluatedUntil: dayAt(10) });
    expect(pages[0]!.nextLink).toContain(`from=${encodeURIComponent(dayAt(2))}`);
    expect((await walk('monitoring', 'demand', '?limit=3')).flatMap((p) => p.entries.map((w) => w.predictions))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('when the limit is not a whole number from 1 to 1000, then 400 naming limit; 1 and 1000 are taken', async () => {
    for (const limit of ['0', '1001', '-1', '1.5', 'ten', '', '01', '1e2']) {
      for (const kind of ['runs', 'actuals', 'retraining', 'monitoring'] as const) {
        const answer = await get(kind, 'demand', `?limit=${limit}`);
        expect(answer).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR', detail: expect.stringMatching(/a page size is a whole number from 1 to 1000\n\s*→ at limit$/) } });
      }
    }
    expect((await get('runs', 'demand', '?limit=1000')).body.runs).toHaveLength(7);
    expect((await get('runs', 'demand', '?limit=1')).body.runs).toHaveLength(1);
  });

  it('when the continuation token is not one the API answered (garbled, not JSON, another shape), then 400 naming continuationToken, not a 500', async () => {
    const tokens = [
      '',
      'not a token!',
      Buffer.from('{"at":').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from(JSON.stringify({ at: 5, id: 'run-1' })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: dayAt(1), id: 'run-1', extra: true })).toString('base64url'),
      Buffer.from(JSON.stringify({ at: dayAt(1), id: '' })).toString('base64url'),
      'x'.repeat(5000),
    ];
    for (const token of tokens) {
      for (const kind of ['runs', 'actuals', 'retraining', 'monitoring'] as const) {
        const answer = await get(kind, 'demand', `?continuationToken=${encodeURIComponent(token)}`);
        expect(answer).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR', detail: expect.stringMatching(/(not a continuation token this API answered|Too big).*\n\s*→ at continuationToken$/) } });
      }
    }
  });

  it('when a well-formed token names a place of its own choosing, then the page starts after it (a token is a place, not a permission)', async () => {
    const token = continuationTokenOf({ at: dayAt(3), id: 'run-3' });
    expect((await get('runs', 'demand', `?limit=10&continuationToken=${token}`)).body).toMatchObject({ runs: [{ runId: 'run-2' }, { runId: 'run-1' }, { runId: 'run-0' }], nextLink: null });
  });

  it('when documents do not read, some without a time at all, then paging goes on: each is listed once on a page, after the readable ones when its time cannot be read', async () => {
    const model = 'busy';
    for (let n = 0; n < 4; n++) await mockStore.runs.create(model, `ok-${n}`, anInferenceRun(model, `ok-${n}`, { createdAt: dayAt(n) }));
    mockStore.runs.storeUnchecked(model, 'bad-mid', { ...anInferenceRun(model, 'bad-mid', { createdAt: dayAt(1) }), rowsRead: -1 });
    mockStore.runs.storeUnchecked(model, 'bad-timeless', { modelName: model });
    mockStore.runs.storeUnchecked(model, 'bad-null', { modelName: model, createdAt: null });
    // A time far too long for a token: with those without a time, so each page's token still reads.
    mockStore.runs.storeUnchecked(model, 'bad-long', { modelName: model, createdAt: `${dayAt(9)}${'9'.repeat(5000)}` });
    for (const limit of [1, 2, 3, 8]) {
      const pages = await walk('runs', model, `?limit=${limit}`);
      expect(pages.flatMap((p) => p.entries.map((r) => r.runId))).toEqual(['ok-3', 'ok-2', 'ok-1', 'ok-0']);
      expect(pages.flatMap((p) => p.unreadable.map((u) => u.id))).toEqual(['bad-mid', 'bad-timeless', 'bad-null', 'bad-long']);
      expect(pages.slice(0, -1).every((p) => p.entries.length + p.unreadable.length === limit)).toBe(true);
    }
    const [first] = await walk('runs', model, '?limit=3');
    expect(first).toMatchObject({ entries: [{ runId: 'ok-3' }, { runId: 'ok-2' }, { runId: 'ok-1' }], unreadable: [] });
  });

  it('when the model has neither records nor a registration, then 404 as before; a registered model with none answers an empty last page', async () => {
    for (const kind of ['runs', 'actuals', 'retraining', 'monitoring'] as const) {
      expect((await get(kind, 'nobody')).status).toBe(404);
    }
    expect((await get('retraining', 'busy')).body).toMatchObject({ requests: [], unreadable: [], continuationToken: null, nextLink: null });
  });

  it('when a model not registered yet has waiting runs, then a state filter none of them is in, or a token past the last, answers an empty last page, not a 404 that says the model does not exist', async () => {
    await mockStore.runs.create('early', 'run-w', anInferenceRun('early', 'run-w', { createdAt: dayAt(1), state: 'waiting_for_champion' }));
    expect((await get('runs', 'early')).body).toMatchObject({ runs: [{ runId: 'run-w' }] });
    for (const search of ['?state=completed', `?continuationToken=${continuationTokenOf({ at: dayAt(1), id: 'run-w' })}`]) {
      const answer = await get('runs', 'early', search);
      expect([answer.status, answer.body]).toEqual([200, expect.objectContaining({ runs: [], unreadable: [], continuationToken: null, nextLink: null })]);
    }
    expect((await get('runs', 'nobody', '?state=completed')).status).toBe(404);
  });

  it('when a file was sent for a model not registered (its record failed), then a token past the last record answers an empty last page, not a 404', async () => {
    await mockStore.actuals.create('early-a', 'a-f', { ...anActualsRecord('early-a', 'a-f', dayAt(1)), state: 'failed', error: "model 'early-a' is not registered" });
    expect((await get('actuals', 'early-a')).body).toMatchObject({ actuals: [{ actualsId: 'a-f' }] });
    const answer = await get('actuals', 'early-a', `?continuationToken=${continuationTokenOf({ at: dayAt(1), id: 'a-f' })}`);
    expect([answer.status, answer.body]).toEqual([200, expect.objectContaining({ actuals: [], unreadable: [], continuationToken: null, nextLink: null })]);
  });
});

/** GET .../monitoring?from=&to= reads the windows of the range, not every window of the model. */
import { windowFromId, windowIdOf } from '../../../shared/domain/windows';
import type { DocumentListing } from '../../../shared/ports/run-store';
import type { MonitoringWindow } from '../../../shared/schemas/monitoring';
import { callRoute } from '../../support/api-route';
import { inMemoryRunStore } from '../../support/in-memory-run-store';

const mockStore = inMemoryRunStore();
jest.mock('../../../shared/composition', () => ({
  runStore: () => mockStore,
  registry: () => ({ getModel: () => Promise.resolve({ modelName: 'demand' }) }),
}));
import '../../../functions/http/monitoring';

const DAY = 86_400_000;
const day = (n: number) => windowIdOf(Date.parse('2026-01-01T00:00:00Z') + n * DAY);

async function getMonitoring(query: Record<string, string>) {
  const answer = await callRoute('getMonitoring', `/api/models/demand/monitoring?${new URLSearchParams(query).toString()}`, { model: 'demand' });
  expect(answer.status).toBe(200);
  return answer.body as { windows: MonitoringWindow[]; unreadable: unknown[]; nextLink: string | null };
}

describe('GET /models/{model}/monitoring over a long history', () => {
  let documentsRead = 0;
  beforeAll(async () => {
    for (let n = 0; n < 300; n++) {
      const id = day(n);
      await mockStore.windows.create('demand', id, { modelName: 'demand', window: windowFromId(id, DAY), version: 1, predictions: 1, labelled: 0, labelCoverage: 0, performance: null, drift: null });
    }
    const windows = mockStore.windows;
    const counted =
      <A extends unknown[], L extends DocumentListing<MonitoringWindow>>(list: (...args: A) => Promise<L>) =>
      async (...args: A) => {
        const listing = await list(...args);
        documentsRead += listing.documents.length + listing.unreadable.length;
        return listing;
      };
    windows.listReadable = counted(windows.listReadable.bind(windows));
    windows.listReadablePage = counted(windows.listReadablePage.bind(windows));
  });
  beforeEach(() => (documentsRead = 0));

  it('when from and to are given, then only the windows overlapping [from, to) are read, newest first', async () => {
    const body = await getMonitoring({ from: '2026-03-01T12:00:00Z', to: '2026-03-04T00:00:00Z' });
    expect(body.windows.map((w) => w.window.id)).toEqual(['20260303T0000Z', '20260302T0000Z', '20260301T0000Z']);
    expect(documentsRead).toBe(3);
  });

  it('when neither is given, then the newest page of 100 windows is read, and the pages after it list every window once', async () => {
    const body = await getMonitoring({});
    expect(body.windows).toHaveLength(100);
    expect(body.windows[0]!.window.id).toBe(day(299));
    expect(documentsRead).toBe(100);
    const ids = body.windows.map((w) => w.window.id);
    for (let next = body.nextLink; next !== null; ) {
      const page = (await callRoute('getMonitoring', next, { model: 'demand' })).body as { windows: MonitoringWindow[]; nextLink: string | null };
      ids.push(...page.windows.map((w) => w.window.id));
      next = page.nextLink;
    }
    expect(ids).toEqual(Array.from({ length: 300 }, (_, n) => day(299 - n)));
  });
});

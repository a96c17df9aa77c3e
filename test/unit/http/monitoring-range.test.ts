/** GET .../monitoring?from=&to= reads the windows of the range, not every window of the model. */
import { z } from 'zod';

import { apiRoutes } from '../../../functions/http/api';
import { windowFromId, windowIdOf } from '../../../shared/domain/windows';
import type { DocumentListing } from '../../../shared/ports/run-store';
import type { MonitoringWindow } from '../../../shared/schemas/monitoring';
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
  const spec = apiRoutes.find((r) => r.name === 'getMonitoring')!;
  const answer = await spec.handler({ params: { model: 'demand' }, query, body: undefined, actor: undefined, request: undefined as never, client: undefined as never, context: undefined as never });
  expect(answer.status).toBe(200);
  return (spec.responses[200]!.schema as z.ZodType).parse(answer.body) as { windows: MonitoringWindow[]; unreadable: unknown[] };
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
      <A extends unknown[]>(list: (...args: A) => Promise<DocumentListing<MonitoringWindow>>) =>
      async (...args: A) => {
        const listing = await list(...args);
        documentsRead += listing.documents.length + listing.unreadable.length;
        return listing;
      };
    windows.listReadable = counted(windows.listReadable.bind(windows));
    windows.listReadableOverlapping = counted(windows.listReadableOverlapping.bind(windows));
  });
  beforeEach(() => (documentsRead = 0));

  it('when from and to are given, then only the windows overlapping [from, to) are read, newest first', async () => {
    const body = await getMonitoring({ from: '2026-03-01T12:00:00Z', to: '2026-03-04T00:00:00Z' });
    expect(body.windows.map((w) => w.window.id)).toEqual(['20260303T0000Z', '20260302T0000Z', '20260301T0000Z']);
    expect(documentsRead).toBe(3);
  });

  it('when neither is given, then every window is listed, as before', async () => {
    const body = await getMonitoring({});
    expect(body.windows).toHaveLength(300);
    expect(body.windows[0]!.window.id).toBe(day(299));
  });
});

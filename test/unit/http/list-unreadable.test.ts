/**
 * The list routes of a model's production records: one stored document that no longer reads
 * (damaged, or stored under rules that have since tightened) is listed apart with the reason, not a
 * 500 for every record of the model.
 */
import { callRoute } from '../../support/api-route';
import { anInferenceRun } from '../../support/builders';
import { inMemoryRunStore } from '../../support/in-memory-run-store';

const mockStore = inMemoryRunStore();
jest.mock('../../../shared/composition', () => ({
  batch: () => ({ runs: mockStore }),
  runStore: () => mockStore,
  registry: () => ({ getModel: () => Promise.resolve({ modelName: 'demand' }) }),
  registryStore: () => ({ getModel: () => Promise.resolve({ modelName: 'demand' }) }),
}));
import '../../../functions/http/runs';
import '../../../functions/http/actuals';
import '../../../functions/http/monitoring';
import '../../../functions/http/retraining';

const PATHS: Record<string, string> = { listRuns: 'runs', getMonitoring: 'monitoring', listActuals: 'actuals', listRetraining: 'retraining' };

/** The route called as its trigger calls it, the answer checked against the route's documented 200 schema. */
async function get(name: string) {
  const answer = await callRoute(name, `/api/models/demand/${PATHS[name]}`, { model: 'demand' });
  expect(answer.status).toBe(200);
  return answer.body;
}

describe('GET list routes of a model with an unreadable stored document', () => {
  beforeAll(async () => {
    await mockStore.runs.create('demand', 'r1', anInferenceRun('demand', 'r1'));
    mockStore.runs.storeUnchecked('demand', 'r2', { ...anInferenceRun('demand', 'r2'), rowsRead: -1 });
    mockStore.windows.storeUnchecked('demand', '20260301T0000Z', { modelName: 'demand', window: 'not a window' });
    mockStore.actuals.storeUnchecked('demand', 'a1', { modelName: 'demand' });
    mockStore.retraining.storeUnchecked('demand', 'retrain:demand:1', { modelName: 'demand', state: 'lost' });
  });

  afterEach(() => mockStore.monitors.docs.clear());

  it('when the runs are listed, then 200 with the readable runs and the unreadable one by id with the reason', async () => {
    const body = await get('listRuns');
    expect((body.runs as Array<{ runId: string }>).map((r) => r.runId)).toEqual(['r1']);
    expect(body.unreadable).toEqual([{ id: 'r2', reason: expect.stringMatching(/^its stored run document is invalid: .*rowsRead/s) }]);
  });

  it('when the windows, actuals and retraining requests are listed, then each answers 200 with its unreadable document apart', async () => {
    expect(await get('getMonitoring')).toMatchObject({ windows: [], unreadable: [{ id: '20260301T0000Z', reason: expect.stringContaining('window document is invalid') }] });
    expect(await get('listActuals')).toMatchObject({ actuals: [], unreadable: [{ id: 'a1', reason: expect.stringContaining('actuals document is invalid') }] });
    expect(await get('listRetraining')).toMatchObject({ requests: [], unreadable: [{ id: 'retrain:demand:1', reason: expect.stringContaining('retraining document is invalid') }] });
  });

  it("when the drift monitor's state no longer reads, then the monitoring route answers 200 with monitor null and the state listed apart by its id", async () => {
    mockStore.monitors.storeUnchecked('demand', 'monitor', { modelName: 'demand', evaluatedUntil: 'yesterday' });

    expect(await get('getMonitoring')).toEqual({
      model: 'demand',
      monitor: null,
      windows: [],
      unreadable: [
        { id: 'monitor', reason: expect.stringMatching(/^its stored monitor document is invalid: .*evaluatedUntil/s) },
        { id: '20260301T0000Z', reason: expect.stringContaining('window document is invalid') },
      ],
      continuationToken: null,
      nextLink: null,
    });
  });

  it('when reading the monitor state fails with an outage, then the monitoring route fails with it (a 500, retried), not an unreadable document', async () => {
    const get = mockStore.monitors.get.bind(mockStore.monitors);
    mockStore.monitors.get = () => Promise.reject(new Error('ECONNRESET'));
    try {
      await expect(callRoute('getMonitoring', '/api/models/demand/monitoring', { model: 'demand' })).rejects.toThrow('ECONNRESET');
    } finally {
      mockStore.monitors.get = get;
    }
  });
});

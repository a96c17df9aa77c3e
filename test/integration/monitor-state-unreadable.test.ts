/**
 * The drift monitor's state document on the Cosmos DB adapter when it no longer reads: told apart
 * from an outage by its id (`monitor`, the adapter's `monitor:monitor` without its docType), so the
 * monitor leaves that model alone and the monitoring route lists it apart.
 */
import { randomBytes } from 'node:crypto';

import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { MONITOR_STATE_ID, readMonitorState } from '../../shared/usecases/drift-monitor';

const store = cosmosRunStore();

describe('a monitor state that no longer reads, on Cosmos DB', () => {
  it('when it is read, then it is named by its id with the reason; a readable one and a missing one read as before', async () => {
    const model = `ms-${randomBytes(5).toString('hex')}`;
    expect(await readMonitorState(store, model)).toEqual({ state: undefined });

    const { runs } = await cosmosContainers();
    await runs.items.upsert({ id: `monitor:${MONITOR_STATE_ID}`, docType: 'monitor', modelName: model, evaluatedUntil: 'yesterday', recent: [] });

    expect(await readMonitorState(store, model)).toEqual({
      unreadable: { id: MONITOR_STATE_ID, reason: expect.stringMatching(/^its stored monitor document is invalid: .*evaluatedUntil/s) },
    });

    const other = `ms-${randomBytes(5).toString('hex')}`;
    const state = { modelName: other, evaluatedUntil: null, recent: [], lastAlertAt: null, updatedAt: '2026-06-01T00:00:00.000Z' };
    await store.monitors.create(other, MONITOR_STATE_ID, state);
    expect(await readMonitorState(store, other)).toEqual({ state: { value: state, etag: expect.any(String) } });
  });
});

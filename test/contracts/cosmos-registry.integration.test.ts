import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { versionDocId } from '../../shared/adapters/cosmos/documents';
import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { aModelVersion } from '../support/builders';
import { describeModelRegistryContract } from './model-registry.contract';
import { describeModelRegistryPagingContract } from './model-registry-paging.contract';

const registry = new CosmosModelRegistry();
// Written through the SDK as the adapter lays a version out (id `version-NNNNNNNN`, docType, modelName), unchecked.
describeModelRegistryContract('Cosmos DB adapter (local server)', () => registry, async (_registry, model, version, raw) => {
  const { models } = await cosmosContainers();
  await models.items.upsert({ ...raw, id: versionDocId(version), docType: 'version', modelName: model });
});
describeModelRegistryPagingContract('Cosmos DB adapter (local server)', () => registry);

describe('Cosmos DB adapter: the versions in a state during an outage', () => {
  it('when the query fails (an outage), then listReadableVersionsInState fails with the error, not a listing that calls something damaged', async () => {
    const outage = Object.assign(new Error('Service Unavailable; ActivityId: 0f1e'), { code: 503 });
    const unanswered = new CosmosModelRegistry(async () => {
      const containers = await cosmosContainers();
      const models = { items: { query: () => ({ fetchAll: () => Promise.reject(outage) }) } } as unknown as typeof containers.models;
      return { ...containers, models };
    });
    await expect(unanswered.listReadableVersionsInState('any-model', 'pending_approval')).rejects.toBe(outage);
  });
});

describe('Cosmos DB adapter: a version document that does not read under a key the app does not write', () => {
  it('when its id is not `version-NNNNNNNN`, then it is listed by its stored number, or with none and its id in the reason when that does not tell one either', async () => {
    const model = `cv-${Date.now().toString(36)}`;
    const { models } = await cosmosContainers();
    await models.items.upsert({ ...aModelVersion({ modelName: model, version: 7, state: 'pending_approval' }), revision: -1, id: 'version-odd', docType: 'version' });
    await models.items.upsert({ ...aModelVersion({ modelName: model, version: 8, state: 'pending_approval' }), version: 'eight', id: 'version-worse', docType: 'version' });

    const { versions, unreadable } = await registry.listReadableVersionsInState(model, 'pending_approval');

    expect(versions).toEqual([]);
    expect(unreadable).toEqual([
      { version: 7, reason: expect.stringMatching(/^its stored version document is invalid: .*revision/s) },
      { version: null, reason: expect.stringMatching(/^its stored version document 'version-worse' \(its number cannot be told\) is invalid: .*version/s) },
    ]);
  });
});

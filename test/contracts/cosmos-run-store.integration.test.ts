import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { describeRunStoreContract } from './run-store.contract';
import { describeRunStorePagingContract } from './run-store-paging.contract';
import { describeRunStoreQueriesContract } from './run-store-queries.contract';

const store = cosmosRunStore();
// Written through the SDK as the adapter lays items out (id `run:{id}`, docType, modelName), unchecked.
describeRunStoreContract('Cosmos DB adapter (local server)', () => store, async (_store, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `run:${id}`, docType: 'run', modelName: model });
});
const docTypes = { runs: 'run', actuals: 'actuals', retraining: 'retraining' } as const;
describeRunStoreQueriesContract('Cosmos DB adapter (local server)', () => store, async (_store, kind, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `${docTypes[kind]}:${id}`, docType: docTypes[kind], modelName: model });
});

describeRunStorePagingContract('Cosmos DB adapter (local server)', () => store, async (_store, kind, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `${kind}:${id}`, docType: kind, modelName: model });
});

import { inMemoryRunStore } from '../support/in-memory-run-store';
import { describeRunStoreContract } from './run-store.contract';
import { describeRunStoreQueriesContract } from './run-store-queries.contract';

describeRunStoreContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, model, id, raw) => {
  store.runs.storeUnchecked(model, id, raw);
});
describeRunStoreQueriesContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, kind, model, id, raw) => {
  store[kind].storeUnchecked(model, id, raw);
});

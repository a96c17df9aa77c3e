import { inMemoryRunStore } from '../support/in-memory-run-store';
import { describeRunStoreContract } from './run-store.contract';
import { describeRunStorePagingContract } from './run-store-paging.contract';
import { describeRunStoreQueriesContract } from './run-store-queries.contract';

describeRunStoreContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, model, id, raw) => {
  store.runs.storeUnchecked(model, id, raw);
});
describeRunStoreQueriesContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, kind, model, id, raw) => {
  store[kind].storeUnchecked(model, id, raw);
});

describeRunStorePagingContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, kind, model, id, raw) => {
  ({ run: store.runs, window: store.windows, retraining: store.retraining })[kind].storeUnchecked(model, id, raw);
});

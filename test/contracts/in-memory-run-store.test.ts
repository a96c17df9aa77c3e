import { inMemoryRunStore } from '../support/in-memory-run-store';
import { describeRunStoreContract } from './run-store.contract';

describeRunStoreContract('in-memory fake (test/support)', () => inMemoryRunStore(), async (store, model, id, raw) => {
  store.runs.storeUnchecked(model, id, raw);
});

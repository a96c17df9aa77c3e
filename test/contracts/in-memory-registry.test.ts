import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { describeModelRegistryContract } from './model-registry.contract';
import { describeModelRegistryPagingContract } from './model-registry-paging.contract';

describeModelRegistryContract('in-memory fake (test/support)', () => new InMemoryModelRegistry(), async (registry, model, version, raw) => registry.storeUncheckedVersion(model, version, raw));
describeModelRegistryPagingContract('in-memory fake (test/support)', () => new InMemoryModelRegistry());

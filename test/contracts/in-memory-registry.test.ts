import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { describeModelRegistryContract } from './model-registry.contract';
import { describeModelRegistryPagingContract } from './model-registry-paging.contract';

describeModelRegistryContract('in-memory fake (test/support)', () => new InMemoryModelRegistry());
describeModelRegistryPagingContract('in-memory fake (test/support)', () => new InMemoryModelRegistry());

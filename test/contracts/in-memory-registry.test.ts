import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { describeModelRegistryContract } from './model-registry.contract';

describeModelRegistryContract('in-memory fake (test/support)', () => new InMemoryModelRegistry());

import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { describeModelRegistryContract } from './model-registry.contract';
import { describeModelRegistryPagingContract } from './model-registry-paging.contract';

const registry = new CosmosModelRegistry();
describeModelRegistryContract('Cosmos DB adapter (local server)', () => registry);
describeModelRegistryPagingContract('Cosmos DB adapter (local server)', () => registry);

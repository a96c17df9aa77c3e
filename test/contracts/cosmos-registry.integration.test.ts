import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { describeModelRegistryContract } from './model-registry.contract';

const registry = new CosmosModelRegistry();
describeModelRegistryContract('Cosmos DB adapter (local server)', () => registry);

import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { describeRunStoreContract } from './run-store.contract';

const store = cosmosRunStore();
describeRunStoreContract('Cosmos DB adapter (local server)', () => store);

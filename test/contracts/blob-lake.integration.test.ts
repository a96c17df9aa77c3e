import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { describeDataLakeContract } from './data-lake.contract';

const lake = new BlobDataLake();
describeDataLakeContract('Blob Storage adapter (Azurite)', () => ({ lake }));

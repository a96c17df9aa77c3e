import { MemoryLake } from '../support/memory-lake';
import { describeDataLakeContract } from './data-lake.contract';

describeDataLakeContract('in-memory fake (test/support)', () => ({ lake: new MemoryLake() }));

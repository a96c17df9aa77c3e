import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FileLake } from '../../shared/adapters/local/file-lake';
import { describeDataLakeContract } from './data-lake.contract';

describeDataLakeContract('local folder (shared/adapters/local)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-lake-contract-'));
  return { lake: new FileLake(dir), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
});

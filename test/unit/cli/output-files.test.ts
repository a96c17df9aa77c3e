import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { writeStreamInPlace } from '../../../cli/output-files';

describe('mlops outputs written in place', () => {
  it('when a download fails before its first byte, then no hidden partial file is left beside the output (the file was still being opened when the stream failed)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-out-'));
    try {
      const target = path.join(dir, 'back.csv');
      fs.writeFileSync(target, 'the earlier download');
      // One failure leaves the file behind only sometimes (the open races the removal): many do.
      for (let i = 0; i < 50; i++) {
        const failing = Readable.from(
          (async function* () {
            yield* [];
            throw new Error('read ECONNRESET');
          })(),
        );
        await expect(writeStreamInPlace(target, failing)).rejects.toThrow(/cannot write .*back\.csv: read ECONNRESET/);
      }
      expect(fs.readdirSync(dir)).toEqual(['back.csv']);
      expect(fs.readFileSync(target, 'utf8')).toBe('the earlier download');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

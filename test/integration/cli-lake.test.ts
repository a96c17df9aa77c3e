import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { lake } from '../../cli/lake';
import { BlobDataLake } from '../../shared/adapters/blob/data-lake';

describe('mlops lake (against Azurite)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-lake-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a file is put, listed and got back, then the bytes round-trip and the listing names it', async () => {
    const file = path.join(dir, 'validation.csv');
    fs.writeFileSync(file, 'id,x\n1,2\n');
    const lines: string[] = [];
    const prefix = `datasets/cli-${Date.now()}/`;
    expect(await lake(['put', file, `${prefix}validation.csv`], (l) => lines.push(l))).toBe(0);
    expect(await lake(['ls', prefix], (l) => lines.push(l))).toBe(0);
    const back = path.join(dir, 'back.csv');
    expect(await lake(['get', `${prefix}validation.csv`, back], (l) => lines.push(l))).toBe(0);
    expect(fs.readFileSync(back, 'utf8')).toBe('id,x\n1,2\n');
    expect(lines[0]).toBe(`uploaded ${file} -> ${prefix}validation.csv (9 bytes)`);
    expect(lines[1]).toMatch(new RegExp(`^${prefix}validation.csv\\t9\\t`));
  });

  it('when arguments are wrong or a path escapes, then usage (2) or a clear error', async () => {
    expect(await lake(['put', 'only-one'])).toBe(2);
    await expect(lake(['put', path.join(dir, 'missing.csv'), 'datasets/x/y.csv'])).rejects.toThrow(/<local-file>: .* does not exist/);
    await expect(lake(['put', dir, 'datasets/x/y.csv'])).rejects.toThrow(`<local-file>: ${dir} is a folder: put uploads one file`);
    fs.writeFileSync(path.join(dir, 'a.csv'), 'a');
    await expect(lake(['put', path.join(dir, 'a.csv'), '../etc/passwd'])).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    const help: string[] = [];
    expect(await lake(['--help'], (l) => help.push(l))).toBe(0);
    expect(help[0]).toMatch(/^usage:/);
  });
  it('when a download breaks off, then the local file keeps its earlier bytes and no partial file is left', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'get-'));
    const source = path.join(sub, 'big.csv');
    fs.writeFileSync(source, `id,x\n${'1,2\n'.repeat(50_000)}`);
    const lakePath = `datasets/cli-${Date.now()}/big.csv`;
    expect(await lake(['put', source, lakePath], () => undefined)).toBe(0);
    const target = path.join(sub, 'back.csv');
    fs.writeFileSync(target, 'the earlier download');
    const read = BlobDataLake.prototype.read;
    // The first chunk arrives, then the connection drops.
    const broken = jest.spyOn(BlobDataLake.prototype, 'read').mockImplementation(async function (this: BlobDataLake, p, range) {
      const body = await read.call(this, p, range);
      return Readable.from(
        (async function* () {
          for await (const chunk of body) {
            yield chunk as Buffer;
            body.destroy();
            throw new Error('read ECONNRESET');
          }
        })(),
      );
    });
    try {
      await expect(lake(['get', lakePath, target], () => undefined)).rejects.toThrow('read ECONNRESET');
    } finally {
      broken.mockRestore();
    }
    expect(fs.readFileSync(target, 'utf8')).toBe('the earlier download');
    expect(fs.readdirSync(sub).sort()).toEqual(['back.csv', 'big.csv']);
    expect(await lake(['get', lakePath, path.join(sub, 'new', 'back.csv')], () => undefined)).toBe(0);
    expect(fs.readFileSync(path.join(sub, 'new', 'back.csv'))).toEqual(fs.readFileSync(source));
  });
});

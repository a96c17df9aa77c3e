import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { lake } from '../../cli/lake';

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
    fs.writeFileSync(path.join(dir, 'a.csv'), 'a');
    await expect(lake(['put', path.join(dir, 'a.csv'), '../etc/passwd'])).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    const help: string[] = [];
    expect(await lake(['--help'], (l) => help.push(l))).toBe(0);
    expect(help[0]).toMatch(/^usage:/);
  });
});

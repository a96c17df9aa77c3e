import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { FileLake } from '../../../shared/adapters/local/file-lake';

describe('FileLake', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-lake-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when objects are written, then ranges, stat and listing read them back', async () => {
    const lake = new FileLake(dir);
    await lake.write('a/b/one.txt', Buffer.from('0123456789'));
    await lake.write('a/two.txt', Readable.from([Buffer.from('xy')]));
    expect((await lake.readBuffer('a/b/one.txt', { offset: 2, length: 3 })).toString()).toBe('234');
    expect((await lake.readBuffer('a/b/one.txt', { offset: 8, length: 10 })).toString()).toBe('89');
    const chunks: Buffer[] = [];
    for await (const c of await lake.read('a/b/one.txt', { offset: 5 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('56789');
    expect(await lake.stat('a/b/one.txt')).toMatchObject({ path: 'a/b/one.txt', size: 10 });
    expect(await lake.stat('nope')).toBeUndefined();
    const listed: string[] = [];
    for await (const o of lake.list('a/')) listed.push(o.path);
    expect(listed).toEqual(['a/b/one.txt', 'a/two.txt']);
  });

  it('when a path leaves the folder or a write-once object exists, then it is refused', async () => {
    const lake = new FileLake(dir);
    await expect(lake.write('../escape.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await lake.write('once.txt', Buffer.from('1'), { ifNotExists: true });
    await expect(lake.write('once.txt', Buffer.from('2'), { ifNotExists: true })).rejects.toMatchObject({ code: 'ARTIFACT_ALREADY_EXISTS' });
    await expect(lake.read('missing.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

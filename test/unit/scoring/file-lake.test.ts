import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { FileLake } from '../../../shared/adapters/local/file-lake';

/** What only the local folder lake does; the port's semantics are in test/contracts. */
describe('FileLake', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-lake-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const filesIn = (folder: string) => fs.readdirSync(path.join(dir, folder)).sort();

  it('when an object has metadata, then it lives in a hidden file that is never listed and goes with the object', async () => {
    const lake = new FileLake(dir);
    await lake.write('drops/m/a.csv', Buffer.from('x'), { contentType: 'text/csv', metadata: { rows: '1' } });
    expect(filesIn('drops/m')).toEqual(['.a.csv.lake-meta.json', 'a.csv']);
    const listed: string[] = [];
    for await (const o of lake.list('drops/m/')) listed.push(o.path);
    expect(listed).toEqual(['drops/m/a.csv']);
    await expect(lake.write('drops/m/.a.csv.lake-meta.json', Buffer.from('{}'))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await lake.delete('drops/m/a.csv');
    expect(filesIn('drops/m')).toEqual([]);
  });

  it('when the folder holds files no lake path can name, then listing skips them', async () => {
    const lake = new FileLake(dir);
    await lake.write('drops/m/ok.csv', Buffer.from('x'));
    fs.writeFileSync(path.join(dir, 'drops/m/trailing space.csv '), 'x');
    fs.writeFileSync(path.join(dir, 'drops/m/back\\slash.csv'), 'x');
    const listed: string[] = [];
    for await (const o of lake.list('drops/')) listed.push(o.path);
    expect(listed).toEqual(['drops/m/ok.csv']);
  });

  it('when a body stream breaks, then no temporary file is left behind', async () => {
    const lake = new FileLake(dir);
    await lake.write('drops/m/kept.csv', Buffer.from('kept'));
    const breaking = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(lake.write('drops/m/kept.csv', breaking)).rejects.toThrow('connection reset');
    expect(filesIn('drops/m')).toEqual(['kept.csv']);
  });

  it('when lakes in separate processes race to write one object write-once, then exactly one wins', async () => {
    // One FileLake per writer: nothing in memory is shared, as between two CLI processes.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        new FileLake(dir).write('models/m/1/model.onnx', Buffer.from(`writer-${i}`), { ifNotExists: true }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ARTIFACT_ALREADY_EXISTS' });
    expect(filesIn('models/m/1')).toEqual(['model.onnx']);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readHostJson, readLocalSettings } from '../../../devhost/host/settings';

describe('devhost local settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-settings-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when local.settings.json starts with a byte order mark, then it is read as Core Tools reads it', () => {
    fs.writeFileSync(path.join(dir, 'local.settings.json'), `\uFEFF${JSON.stringify({ Values: { SCORE_MAX_ROWS: '10' } })}`);
    expect(readLocalSettings(dir)).toEqual({ file: path.join(dir, 'local.settings.json'), settings: { Values: { SCORE_MAX_ROWS: '10' } } });
  });

  it('when host.json starts with a byte order mark, then it is read', () => {
    fs.writeFileSync(path.join(dir, 'host.json'), `\uFEFF${JSON.stringify({ version: '2.0' })}`);
    expect(readHostJson(dir)).toEqual({ version: '2.0' });
  });

  it('when local.settings.json is not JSON, then reading it fails naming the file', () => {
    fs.writeFileSync(path.join(dir, 'local.settings.json'), '{ "Values": { "A": "1", } }');
    expect(() => readLocalSettings(dir)).toThrow(`${path.join(dir, 'local.settings.json')} is not valid JSON`);
  });
});

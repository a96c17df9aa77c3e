import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { hostPortOf, misspeltSettings, readHostJson, readLocalSettings, serviceBusOptionsOf } from '../../../devhost/host/settings';

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

  it("when host.json sets the Service Bus extension's lock renewal and concurrency, then devhost's triggers take them (the app's own host.json renews for its function timeout)", () => {
    const appHostJson = readHostJson(path.join(__dirname, '../../..'));
    expect(serviceBusOptionsOf(appHostJson)).toEqual({ maxAutoLockRenewalDurationMs: 30 * 60_000 });
    fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ extensions: { serviceBus: { maxConcurrentCalls: 4, maxAutoLockRenewalDuration: '01:02:03' } } }));
    expect(serviceBusOptionsOf(readHostJson(dir))).toEqual({ maxConcurrentCalls: 4, maxAutoLockRenewalDurationMs: 3_723_000 });
    expect(serviceBusOptionsOf(readHostJson(path.join(dir, 'none')))).toEqual({});
    fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ extensions: { serviceBus: { maxAutoLockRenewalDuration: '5 minutes' } } }));
    expect(() => readHostJson(dir)).toThrow(/maxAutoLockRenewalDuration/);
  });

  it('when local.settings.json is not JSON, then reading it fails naming the file', () => {
    fs.writeFileSync(path.join(dir, 'local.settings.json'), '{ "Values": { "A": "1", } }');
    expect(() => readLocalSettings(dir)).toThrow(`${path.join(dir, 'local.settings.json')} is not valid JSON`);
  });

  it('when a setting is a near miss of one the app reads, then it is reported with the name meant', () => {
    const values = { BATCH_MAX_PARALEL_CHUNKS: '4', score_max_rows: '10', DEVHOST_MASTERKEY: 'k', ServiceBusConnection: 'x', MY_OWN_SETTING: 'y', 'AzureWebJobs.scoreDrop.Disabled': 'true' };
    expect(misspeltSettings({ Values: values })).toEqual([
      { name: 'BATCH_MAX_PARALEL_CHUNKS', meant: 'BATCH_MAX_PARALLEL_CHUNKS' },
      { name: 'score_max_rows', meant: 'SCORE_MAX_ROWS' },
      { name: 'DEVHOST_MASTERKEY', meant: 'DEVHOST_MASTER_KEY' },
    ]);
  });

  it('when the settings are the sample ones, then none is reported', () => {
    fs.copyFileSync(path.join(__dirname, '..', '..', '..', 'local.settings.sample.json'), path.join(dir, 'local.settings.sample.json'));
    const sample = readLocalSettings(dir);
    expect(Object.keys(sample.settings.Values).length).toBeGreaterThan(10);
    expect(misspeltSettings(sample.settings)).toEqual([]);
  });

  describe('the host port', () => {
    const settings = (Values: Record<string, string | number>, LocalHttpPort?: number) => ({ Values, ...(LocalHttpPort === undefined ? {} : { Host: { LocalHttpPort } }) });

    it('when local settings give DEVHOST_PORT or Core Tools\' Host.LocalHttpPort, then the host listens there; the shell and --port win, as for every setting', () => {
      expect(hostPortOf(undefined, {}, settings({ DEVHOST_PORT: '7081' }))).toBe(7081);
      expect(hostPortOf(undefined, {}, settings({}, 7082))).toBe(7082);
      expect(hostPortOf(undefined, {}, settings({ DEVHOST_PORT: 7081 }, 7082))).toBe(7081);
      expect(hostPortOf(undefined, { DEVHOST_PORT: '7090' }, settings({ DEVHOST_PORT: '7081' }, 7082))).toBe(7090);
      expect(hostPortOf('0', { DEVHOST_PORT: '7090' }, settings({ DEVHOST_PORT: '7081' }))).toBe(0);
      expect(hostPortOf(undefined, {}, settings({}))).toBe(7071);
    });

    it('when the port given is no port, then the start is refused naming where it came from', () => {
      expect(() => hostPortOf('70x1', {}, settings({}))).toThrow('--port must be a port number from 0 to 65535 (0: any free one), not "70x1"');
      expect(() => hostPortOf(undefined, { DEVHOST_PORT: '' }, settings({}))).toThrow('DEVHOST_PORT must be a port number');
      expect(() => hostPortOf(undefined, {}, settings({ DEVHOST_PORT: '65536' }))).toThrow('DEVHOST_PORT in local settings must be a port number');
      expect(() => hostPortOf(undefined, {}, settings({}, -1))).toThrow('Host.LocalHttpPort in local settings must be a port number');
    });
  });
});

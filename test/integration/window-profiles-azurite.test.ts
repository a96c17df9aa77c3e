/**
 * The drift monitor's bounded profile listings (by window id prefixes) on Blob Storage (Azurite),
 * against the same objects in the in-memory lake: what each run reads is the span it asks for.
 */
import { randomBytes } from 'node:crypto';

import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { lakePaths } from '../../shared/domain/lake-paths';
import { windowFromId, windowIdOf } from '../../shared/domain/windows';
import type { DataLake } from '../../shared/ports/data-lake';
import { profiledWindowsBefore, profiledWindowsBetween } from '../../shared/usecases/window-profiles';
import { MemoryLake } from '../support/memory-lake';

const HOUR = 3_600_000;
const hour = (n: number) => windowIdOf(Date.parse('2026-06-30T20:00:00Z') + n * HOUR);

describe('window profiles listed by span on Blob Storage', () => {
  const model = `wp-${randomBytes(4).toString('hex')}`;
  const blob = new BlobDataLake();
  const memory = new MemoryLake();
  const profiled = [0, 1, 2, 3, 5, 6, 30, 31, 32];

  beforeAll(async () => {
    for (const lake of [blob, memory] as DataLake[]) {
      for (const n of profiled) {
        await lake.write(lakePaths.windowRunProfile(model, hour(n), 'run-a'), Buffer.from('{}'));
        await lake.write(lakePaths.windowRunProfile(model, hour(n), 'run-b'), Buffer.from('{}'));
        await lake.write(lakePaths.windowChunkProfile(model, hour(n), 'run-a', 0), Buffer.from('{}'));
      }
      await lake.write(`${lakePaths.windowsProfilesFolder(model)}2026-07-01/runs/copy.json`, Buffer.from('{}'));
    }
  });

  it('when a span of windows is listed, then Blob Storage gives the run profiles of exactly the windows in it, as the in-memory lake does', async () => {
    const spans = [{ from: hour(1), before: hour(31) }, { from: hour(4) }, { before: hour(3) }, { from: hour(0), before: hour(40), maxWindows: 3 }];
    for (const span of spans) {
      const fromBlob = await profiledWindowsBetween(blob, model, span);
      expect(fromBlob).toEqual(await profiledWindowsBetween(memory, model, span));
      const ids = profiled.map(hour).filter((id) => (span.from === undefined || id >= span.from) && (span.before === undefined || id < span.before));
      expect([...fromBlob.keys()]).toEqual(ids.slice(0, span.maxWindows));
      for (const paths of fromBlob.values()) expect(paths.map((p) => p.split('/').at(-1))).toEqual(['run-a.json', 'run-b.json']);
    }
  });

  it('when the windows before one are asked for, then the last ones are found across a gap, and none before the oldest', async () => {
    // 3, 6, 12 hours back hold none, 24 hours back hold hour 6; the next span stops at the oldest window.
    const before = await profiledWindowsBefore(blob, model, windowFromId(hour(30), HOUR), 3);
    expect([...before.keys()].sort()).toEqual([0, 1, 2, 3, 5, 6].map(hour));
    expect([...(await profiledWindowsBefore(blob, model, windowFromId(hour(1), HOUR), 2)).keys()]).toEqual([hour(0)]);
  });
});

import { errors, parseOrThrow } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { mergeAcrossReferences } from '../domain/profiles/merge-across-references';
import { isWindowId, windowableRange, windowIdOf, windowIdPrefixesBetween } from '../domain/windows';
import type { DataLake } from '../ports/data-lake';
import { type ReferenceProfile, referenceProfileSchema, windowProfileSchema, type WindowSpan } from '../schemas/monitoring';
import { mergeSegmentCaps, type SegmentedProfile } from './profiling';

/**
 * Reading the profiles monitoring compares (docs/production-loop.md): a window's run profiles
 * `profiles/{model}/windows/{windowId}/runs/{runId}.json` and a version's reference
 * `profiles/{model}/v{version}/reference.json`.
 */

/** Whether a name inside a window's `runs/` folder is a run profile (`{runId}.json`, not in a subfolder). */
export const isRunProfileName = (name: string): boolean => /^[^/]+\.json$/.test(name);

/** The window id of a run profile under the windows profiles folder (`{windowId}/runs/{runId}.json`); undefined for anything else. */
function runProfileAt(folder: string, path: string): string | undefined {
  const match = /^([^/]+)\/runs\/(.+)$/.exec(path.slice(folder.length));
  if (!match || !isRunProfileName(match[2]!)) return undefined; // chunk profiles and anything else in the folder
  // A folder someone else put there is not a window of ours.
  return isWindowId(match[1]!) ? match[1]! : undefined;
}

/**
 * The run profiles of the model's windows whose id lies in [from, before) (either bound open), by
 * window id: the first `maxWindows` of them. Listed by the prefixes of that span (window ids sort by
 * time), in order, stopping at the first window past `maxWindows`: what is read is the span, not the
 * model's history.
 */
export async function profiledWindowsBetween(
  lake: DataLake,
  model: string,
  range: { from?: string; before?: string; maxWindows?: number },
): Promise<Map<string, string[]>> {
  const folder = lakePaths.windowsProfilesFolder(model);
  const byWindow = new Map<string, string[]>();
  for (const prefix of windowIdPrefixesBetween(range.from, range.before)) {
    for await (const object of lake.list(folder + prefix)) {
      const windowId = runProfileAt(folder, object.path);
      if (windowId === undefined) continue;
      const paths = byWindow.get(windowId);
      if (paths) {
        paths.push(object.path);
        continue;
      }
      if (byWindow.size >= (range.maxWindows ?? Infinity)) return byWindow;
      byWindow.set(windowId, [object.path]);
    }
  }
  return byWindow;
}

/** The model's oldest window with a run profile: the first one its folder lists. */
async function oldestProfiledWindow(lake: DataLake, model: string): Promise<string | undefined> {
  const folder = lakePaths.windowsProfilesFolder(model);
  for await (const object of lake.list(folder)) {
    const windowId = runProfileAt(folder, object.path);
    if (windowId !== undefined) return windowId;
  }
  return undefined;
}

/**
 * At least the last `count` windows with run profiles before the window `before` (fewer when the
 * model has no more), with every profiled window between them and it: the windows just before it
 * first, then spans twice as long each time further back, down to the model's oldest window. A
 * model scored without gaps is read `count` windows deep.
 */
export async function profiledWindowsBefore(lake: DataLake, model: string, before: WindowSpan, count: number): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const lengthMs = Date.parse(before.end) - Date.parse(before.start);
  let upper = before.id;
  let oldest: string | undefined;
  for (let span = count * lengthMs; found.size < count; span *= 2) {
    let from = windowIdOf(Math.max(Date.parse(before.start) - span, windowableRange(lengthMs).min));
    if (span > count * lengthMs) {
      oldest ??= (await oldestProfiledWindow(lake, model)) ?? upper;
      if (from < oldest) from = oldest;
    }
    if (from >= upper) break;
    for (const [id, paths] of await profiledWindowsBetween(lake, model, { from, before: upper })) found.set(id, paths);
    upper = from;
  }
  return found;
}

/** A JSON file of the lake; VALIDATION_ERROR names the file when it is not JSON. */
export async function readLakeJson(lake: DataLake, path: string): Promise<unknown> {
  const text = (await lake.readBuffer(path)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw errors.validation(`${path} is not JSON: ${(error as Error).message}`, { path });
  }
}

function mergeSegments(a: SegmentedProfile, b: SegmentedProfile): SegmentedProfile {
  const segments = { ...a.segments };
  for (const [id, profile] of Object.entries(b.segments)) segments[id] = segments[id] ? mergeAcrossReferences(segments[id], profile) : profile;
  const cappedSegments = mergeSegmentCaps(a.cappedSegments, b.cappedSegments);
  return { overall: mergeAcrossReferences(a.overall, b.overall), segments, ...(cappedSegments ? { cappedSegments } : {}) };
}

/** Several profiles as one (the runs of a window, the windows of a reference); undefined for none. */
export function mergeAll(profiles: readonly SegmentedProfile[]): SegmentedProfile | undefined {
  return profiles.reduce<SegmentedProfile | undefined>((merged, p) => (merged ? mergeSegments(merged, p) : p), undefined);
}

/** A window's rows as one profile: its run profiles merged. VALIDATION_ERROR names a broken file. */
export async function loadWindowProfile(lake: DataLake, paths: readonly string[]): Promise<SegmentedProfile | undefined> {
  const profiles = await Promise.all(paths.map(async (path) => parseOrThrow(windowProfileSchema, await readLakeJson(lake, path), `window profile ${path}`)));
  return mergeAll(profiles.map(({ overall, segments, cappedSegments }) => ({ overall, segments, ...(cappedSegments ? { cappedSegments } : {}) })));
}

/** A version's reference profile, or undefined when it has none (validated before references were written). */
export async function loadReferenceProfile(lake: DataLake, model: string, version: number): Promise<ReferenceProfile | undefined> {
  const path = lakePaths.referenceProfile(model, version);
  if (!(await lake.stat(path))) return undefined;
  return parseOrThrow(referenceProfileSchema, await readLakeJson(lake, path), `reference profile ${path}`);
}

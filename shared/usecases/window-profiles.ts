import { errors, parseOrThrow } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { mergeAcrossReferences } from '../domain/profiles/merge-across-references';
import { isWindowId } from '../domain/windows';
import type { DataLake } from '../ports/data-lake';
import { type ReferenceProfile, referenceProfileSchema, windowProfileSchema } from '../schemas/monitoring';
import type { SegmentedProfile } from './profiling';

/**
 * Reading the profiles monitoring compares (docs/production-loop.md): a window's run profiles
 * `profiles/{model}/windows/{windowId}/runs/{runId}.json` and a version's reference
 * `profiles/{model}/v{version}/reference.json`.
 */

/** Whether a name inside a window's `runs/` folder is a run profile (`{runId}.json`, not in a subfolder). */
export const isRunProfileName = (name: string): boolean => /^[^/]+\.json$/.test(name);

/** The run profiles of every window of a model, by window id. */
export async function profiledWindows(lake: DataLake, model: string): Promise<Map<string, string[]>> {
  const prefix = lakePaths.windowsProfilesFolder(model);
  const byWindow = new Map<string, string[]>();
  for await (const object of lake.list(prefix)) {
    const match = /^([^/]+)\/runs\/(.+)$/.exec(object.path.slice(prefix.length));
    if (!match || !isRunProfileName(match[2]!)) continue; // chunk profiles and anything else in the folder
    const windowId = match[1]!;
    if (!isWindowId(windowId)) continue; // a folder someone else put there: not a window of ours
    byWindow.set(windowId, [...(byWindow.get(windowId) ?? []), object.path]);
  }
  return byWindow;
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
  return { overall: mergeAcrossReferences(a.overall, b.overall), segments };
}

/** Several profiles as one (the runs of a window, the windows of a reference); undefined for none. */
export function mergeAll(profiles: readonly SegmentedProfile[]): SegmentedProfile | undefined {
  return profiles.reduce<SegmentedProfile | undefined>((merged, p) => (merged ? mergeSegments(merged, p) : p), undefined);
}

/** A window's rows as one profile: its run profiles merged. VALIDATION_ERROR names a broken file. */
export async function loadWindowProfile(lake: DataLake, paths: readonly string[]): Promise<SegmentedProfile | undefined> {
  const profiles = await Promise.all(paths.map(async (path) => parseOrThrow(windowProfileSchema, await readLakeJson(lake, path), `window profile ${path}`)));
  return mergeAll(profiles.map(({ overall, segments }) => ({ overall, segments })));
}

/** A version's reference profile, or undefined when it has none (validated before references were written). */
export async function loadReferenceProfile(lake: DataLake, model: string, version: number): Promise<ReferenceProfile | undefined> {
  const path = lakePaths.referenceProfile(model, version);
  if (!(await lake.stat(path))) return undefined;
  return parseOrThrow(referenceProfileSchema, await readLakeJson(lake, path), `reference profile ${path}`);
}

/**
 * Drift of a monitoring window from stored profiles: the window's merged run profiles against the
 * reference's, overall and for every segment both have. A segment the reference never had (a new
 * segment value) is reported, not compared: there is nothing to compare it with.
 */
import type { DriftReport, PolicyReason } from '../../schemas/drift';
import type { DriftPolicy } from '../../schemas/policies';
import type { Profile } from '../../schemas/profile';
import { compareProfiles } from '../profiles/drift';

/** Profiles of some rows, overall and per segment (`key=value`). */
export interface SegmentedProfiles {
  overall: Profile;
  segments: Record<string, Profile>;
}

export interface WindowDrift {
  overall: DriftReport;
  segments: Record<string, DriftReport>;
  /** Segments of the window missing from the reference. */
  newSegments: string[];
}

/** The report of a window that could not be compared (no profiles, no reference). */
export const NOT_COMPARED: DriftReport = {
  datasetDrift: false,
  shareDrifted: 0,
  evaluatedColumns: 0,
  driftedColumns: 0,
  verdict: 'insufficient_data',
  columns: [],
};

export function windowDrift(policy: DriftPolicy, reference: SegmentedProfiles, current: SegmentedProfiles): WindowDrift {
  const segments: Record<string, DriftReport> = {};
  const newSegments: string[] = [];
  for (const [id, profile] of Object.entries(current.segments).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const referenceProfile = reference.segments[id];
    if (referenceProfile) segments[id] = compareProfiles(referenceProfile, profile, policy);
    else newSegments.push(id);
  }
  return { overall: compareProfiles(reference.overall, current.overall, policy), segments, newSegments };
}

/** Reasons to put beside the policy's: the segments that were not compared. */
export function newSegmentReasons(newSegments: readonly string[]): PolicyReason[] {
  return newSegments.map((segment) => ({
    scope: 'segment',
    segment,
    verdict: 'insufficient_data',
    message: `${segment}: not in the reference (a new segment value): reported, not compared`,
  }));
}

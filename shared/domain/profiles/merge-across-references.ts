import type { ColumnProfile, Profile } from '../../schemas/profile';
import { mergeProfiles } from './profile';

const sameEdges = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((e, i) => e === b[i]);

function withoutMismatchedHistograms(profile: Profile, other: Profile): Profile {
  const columns: Record<string, ColumnProfile> = {};
  for (const [name, column] of Object.entries(profile.columns)) {
    const theirs = other.columns[name];
    const mismatched =
      column.kind === 'numeric' && theirs?.kind === 'numeric' && column.histogram && theirs.histogram && !sameEdges(column.histogram.edges, theirs.histogram.edges);
    columns[name] = mismatched ? { ...column, histogram: null } : column;
  }
  return { ...profile, columns };
}

/**
 * Merges profiles of rows profiled against different references (a window scored partly by the
 * previous champion, a rolling reference across a promotion): numeric columns counted on other
 * histogram edges lose their histograms instead of failing the merge. Everything else merges as
 * `mergeProfiles` does; the sketch-based methods (`ks`, `wasserstein`, which `auto` picks for
 * numeric columns) still compare them, and a histogram method then names the column it cannot use.
 */
export function mergeAcrossReferences(a: Profile, b: Profile): Profile {
  return mergeProfiles(withoutMismatchedHistograms(a, b), withoutMismatchedHistograms(b, a));
}

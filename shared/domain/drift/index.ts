/**
 * The drift API in one place. Raw data: `compareBatches` (and `compareSegments`); stored
 * profiles: `compareProfiles` in ../profiles/drift. Single statistics for callers that need one.
 */
import { ksTestSorted, type TwoSampleResult } from './ks';
import { populationStd, sortedFinite, wassersteinSorted } from './numeric';

export { adjustPValues, type Correction } from './corrections';
export {
  chiSquaredTest,
  hellinger,
  jensenShannon,
  lInfinity,
  psi,
  PSI_EMPTY_SHARE,
  zTest,
} from './distributions';
export { inferColumnType, isIdColumn, type LeftOut, toCategoricalColumn, toNumericColumn } from './infer';
export { kolmogorovSf } from './kolmogorov';
export { KS_EXACT_MAX_N, ksPValue, type TwoSampleResult } from './ks';
export { chooseMethod, type ColumnKind, isPValueMethod, thresholdFor } from './methods';
export { type ColumnDrift, type ColumnVerdict, compareBatches, type DriftReport, driftReportFromEvidence } from './report';
export { compareSegments, MISSING_PROFILE_VALUE, splitBySegment } from './segments';

/** Two-sample KS on raw samples (NaN = missing), as scipy.stats.ks_2samp(method='auto'). */
export function ksTest(reference: Float64Array, current: Float64Array): TwoSampleResult {
  return ksTestSorted(sortedFinite(reference), sortedFinite(current));
}

/** Wasserstein distance on raw samples (NaN = missing), as scipy.stats.wasserstein_distance. */
export function wasserstein(reference: Float64Array, current: Float64Array): number {
  return wassersteinSorted(sortedFinite(reference), sortedFinite(current));
}

/** Evidently's normalized Wasserstein: the distance over max(std(reference), 0.001). */
export function normalizedWasserstein(reference: Float64Array, current: Float64Array): number {
  const ref = sortedFinite(reference);
  return wassersteinSorted(ref, sortedFinite(current)) / Math.max(populationStd(ref), 0.001);
}

/**
 * Which method a column gets, its threshold, and whether it is a p-value test or a distance.
 * Defaults follow Evidently: at most `smallSampleMaxRows` reference values -> KS for numeric,
 * chi-squared (or z-test for two values) for categorical, drift when p < 0.05; more -> normalized
 * Wasserstein for numeric, Jensen-Shannon for categorical, drift when the distance >= 0.1.
 */
import type { ColumnDriftOverride, DriftMethod, DriftPolicy } from '../../schemas/policies';
import { errors } from '../errors';

export type ColumnKind = 'numeric' | 'categorical';

const P_VALUE_METHODS: ReadonlySet<DriftMethod> = new Set(['ks', 'chi_squared', 'z_test']);

export const isPValueMethod = (method: DriftMethod): boolean => P_VALUE_METHODS.has(method);

const APPLICABLE: Record<ColumnKind, ReadonlySet<DriftMethod>> = {
  numeric: new Set(['ks', 'wasserstein', 'psi', 'jensen_shannon', 'hellinger', 'l_infinity', 'chi_squared']),
  categorical: new Set(['chi_squared', 'z_test', 'psi', 'jensen_shannon', 'hellinger', 'l_infinity']),
};

/** The method for one column: the column override, else the policy's forced method, else auto. */
export function chooseMethod(
  name: string,
  kind: ColumnKind,
  referenceCount: number,
  distinctValues: number,
  policy: DriftPolicy,
  override?: ColumnDriftOverride,
): DriftMethod {
  const forced = override?.method ?? (policy.method === 'auto' ? undefined : policy.method);
  if (forced) {
    if (!APPLICABLE[kind].has(forced) || (forced === 'z_test' && distinctValues > 2)) {
      throw errors.validation(
        `drift method '${forced}' does not apply to ${kind} column '${name}'` +
          (forced === 'z_test' ? ' (the z-test needs at most two distinct values)' : ''),
        { column: name, method: forced, kind },
      );
    }
    return forced;
  }
  if (referenceCount <= policy.smallSampleMaxRows) {
    if (kind === 'numeric') return 'ks';
    return distinctValues <= 2 ? 'z_test' : 'chi_squared';
  }
  return kind === 'numeric' ? 'wasserstein' : 'jensen_shannon';
}

/** The threshold of a method under a policy (p-value level for tests, distance otherwise). */
export function thresholdFor(method: DriftMethod, policy: DriftPolicy, override?: ColumnDriftOverride): number {
  if (override?.threshold !== undefined) return override.threshold;
  switch (method) {
    case 'ks':
    case 'chi_squared':
    case 'z_test':
      return policy.pValueThreshold;
    case 'psi':
      return policy.psiThreshold;
    case 'hellinger':
      return policy.hellingerThreshold;
    case 'l_infinity':
      return policy.lInfinityThreshold;
    case 'jensen_shannon':
    case 'wasserstein':
      return policy.distanceThreshold;
  }
}

/**
 * Drift between two stored profiles. PSI, Jensen-Shannon, Hellinger, L-infinity and chi-squared
 * come exactly from histogram and category counts (identical to the raw-data computation when the
 * histograms sit on the same reference edges). KS and Wasserstein come from the KLL sketches:
 * with normalized rank errors e1, e2 (each <= KLL_RANK_EPSILON), |D_sketch - D| <= e1 + e2 and
 * |W_sketch - W| <= (e1 + e2) * (max - min) before normalization; see docs/drift.md.
 */
import type { DriftPolicy } from '../../schemas/policies';
import type { CategoricalColumnProfile, NumericColumnProfile, Profile } from '../../schemas/profile';
import {
  categoricalEvidence,
  type NumericEvidence,
  WASSERSTEIN_STD_FLOOR,
} from '../drift/evidence';
import { ksPValue } from '../drift/ks';
import { type DriftReport, driftReportFromEvidence, type NamedEvidence } from '../drift/report';
import { errors } from '../errors';
import { kllCdf, kllItems, type WeightedItems } from './kll';

/** Label of the folded rare values of a truncated category profile in drift computations. */
export const OTHER_CATEGORY = '\u0000other';

interface StepCdf {
  at(x: number): number;
  points: Float64Array;
}

function stepCdf(p: NumericColumnProfile): StepCdf {
  const items: WeightedItems = kllItems(p.sketch);
  const min = p.min ?? Number.NaN;
  const max = p.max ?? Number.NaN;
  const points = new Float64Array(items.values.length + 2);
  points.set(items.values);
  points[items.values.length] = min;
  points[items.values.length + 1] = max;
  // Exact min and max anchor the sketch's CDF, which may have compacted the extremes away.
  return { at: (x) => (x < min ? 0 : x >= max ? 1 : kllCdf(items, x)), points };
}

function sketchDistances(a: NumericColumnProfile, b: NumericColumnProfile): { ks: number; wasserstein: number } {
  const fa = stepCdf(a);
  const fb = stepCdf(b);
  const points = new Float64Array(fa.points.length + fb.points.length);
  points.set(fa.points);
  points.set(fb.points, fa.points.length);
  points.sort();
  let ks = 0;
  let wasserstein = 0;
  for (let i = 0; i < points.length; i++) {
    const diff = Math.abs(fa.at(points[i]!) - fb.at(points[i]!));
    if (diff > ks) ks = diff;
    if (i + 1 < points.length) wasserstein += diff * (points[i + 1]! - points[i]!);
  }
  return { ks, wasserstein };
}

/**
 * Population std of a profile: from m2, unless m2 saturated (values near the double range, see
 * profile.ts), where it would be far too small; then from the sketch's weighted items, scaled by
 * the largest magnitude so that it stays finite (within the sketch's rank error).
 */
function referenceStd(p: NumericColumnProfile): number {
  if (p.count === 0) return 0;
  if (p.m2 < Number.MAX_VALUE) return Math.sqrt(p.m2 / p.count);
  const { values, cumulative, n } = kllItems(p.sketch);
  const scale = Math.max(Math.abs(p.min ?? 0), Math.abs(p.max ?? 0)) || 1;
  const weight = (i: number) => cumulative[i]! - (i > 0 ? cumulative[i - 1]! : 0);
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += (weight(i) * (values[i]! / scale)) / n;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += (weight(i) * (values[i]! / scale - mean) ** 2) / n;
  return Math.sqrt(variance) * scale;
}

export function numericEvidenceFromProfiles(
  name: string,
  reference: NumericColumnProfile,
  current: NumericColumnProfile,
): NumericEvidence {
  let distances: { ks: number; wasserstein: number } | undefined;
  const sketch = () => (distances ??= sketchDistances(reference, current));
  return {
    kind: 'numeric',
    referenceCount: reference.count,
    currentCount: current.count,
    histograms() {
      const r = reference.histogram;
      const c = current.histogram;
      if (!r || !c || r.edges.length !== c.edges.length || r.edges.some((e, i) => e !== c.edges[i])) {
        throw errors.validation(
          `column '${name}': histogram methods need both profiles counted on the reference's edges`,
          { column: name },
        );
      }
      return { reference: r.counts, current: c.counts };
    },
    ks() {
      const statistic = sketch().ks;
      return { statistic, pValue: ksPValue(statistic, reference.count, current.count) };
    },
    normalizedWasserstein() {
      return sketch().wasserstein / Math.max(referenceStd(reference), WASSERSTEIN_STD_FLOOR);
    },
  };
}

function frequencyMap(p: CategoricalColumnProfile): Map<string, number> {
  const map = new Map<string, number>(p.frequencies);
  if (p.other > 0) map.set(OTHER_CATEGORY, p.other);
  return map;
}

/** Drift of a current profile against a reference profile, with the same rules as raw data. */
export function compareProfiles(
  reference: Profile,
  current: Profile,
  policy: DriftPolicy,
  columns?: readonly string[],
): DriftReport {
  const names = columns ?? Object.keys(reference.columns);
  const evidence: NamedEvidence[] = names.map((name) => {
    const r = reference.columns[name];
    const c = current.columns[name];
    if (!r || !c || r.kind !== c.kind) {
      throw errors.validation(`column '${name}' is missing or differs in kind between the profiles`, { column: name });
    }
    return {
      name,
      evidence:
        r.kind === 'numeric'
          ? numericEvidenceFromProfiles(name, r, c as NumericColumnProfile)
          : categoricalEvidence(frequencyMap(r), frequencyMap(c as CategoricalColumnProfile)),
    };
  });
  return driftReportFromEvidence(evidence, policy);
}

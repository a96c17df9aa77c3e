/**
 * Building profiles from a RowBatch and merging them. Merging is commutative; it is associative
 * exactly for counts, nulls, min, max, histograms and untruncated category frequencies, up to
 * floating-point rounding for mean and M2 (Chan et al.), and in distribution for the KLL sketch.
 */
import type {
  CategoricalColumnProfile,
  ColumnProfile,
  NumericColumnProfile,
  Profile,
} from '../../schemas/profile';
import { binIndex, DEFAULT_HISTOGRAM_BINS, histogramSorted, quantileEdges } from '../drift/binning';
import { countValues } from '../drift/evidence';
import { sortedFinite } from '../drift/numeric';
import { splitBySegment } from '../drift/segments';
import { errors } from '../errors';
import type { RowBatch } from '../tabular';
import { DEFAULT_KLL_K, kllFromSorted, kllItems, kllQuantile, mergeKll } from './kll';

/** Distinct category values kept exactly per column before the rarest fold into `other`. */
export const DEFAULT_MAX_DISTINCT = 1000;
/** Unseen values named in a profile (their total count is always exact). */
export const UNSEEN_VALUES_LISTED = 20;

export interface ProfileOptions {
  /** Count histograms on the reference's edges and record values the reference never had. */
  reference?: Profile;
  /** Histogram edges per numeric column (without a reference). */
  edges?: Readonly<Record<string, readonly number[]>>;
  /** Without a reference or edges: this many bins on the batch's own quantiles; 0 for none. */
  bins?: number;
  kllK?: number;
  maxDistinct?: number;
}

export function buildProfile(batch: RowBatch, options: ProfileOptions = {}): Profile {
  const columns: Record<string, ColumnProfile> = {};
  for (const [name, values] of Object.entries(batch.numeric)) {
    columns[name] = numericProfile(name, values, batch.rowCount, options);
  }
  for (const [name, values] of Object.entries(batch.categorical)) {
    columns[name] = categoricalProfile(name, values, options);
  }
  return { schemaVersion: 1, rowCount: batch.rowCount, columns };
}

function edgesFor(name: string, sorted: Float64Array, options: ProfileOptions): number[] | null {
  if (options.reference) {
    const ref = options.reference.columns[name];
    return ref?.kind === 'numeric' && ref.histogram ? ref.histogram.edges : null;
  }
  const given = options.edges?.[name];
  if (given) return [...given];
  const bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
  return bins > 0 ? quantileEdges(sorted, bins) : null;
}

function firstAbove(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Mean and M2 of finite values, finite whatever their magnitude: a non-finite one would be written
 * as null in the profile's JSON, which then fails its schema (and with it every drift comparison
 * that reads it). Values whose sum or squares overflow are summed scaled by the largest magnitude;
 * an M2 beyond the double range saturates at Number.MAX_VALUE.
 */
function moments(sorted: Float64Array): { mean: number; m2: number } {
  const count = sorted.length;
  if (count === 0) return { mean: 0, m2: 0 };
  // The plain sums first (the profile of every chunk scored goes through here): no division per value.
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  const mean = sum / count;
  let m2 = 0;
  for (let i = 0; i < count; i++) {
    const d = sorted[i]! - mean;
    m2 += d * d;
  }
  if (Number.isFinite(mean) && Number.isFinite(m2)) return { mean, m2 };
  const scale = Math.max(Math.abs(sorted[0]!), Math.abs(sorted[count - 1]!));
  let scaledSum = 0;
  for (let i = 0; i < count; i++) scaledSum += sorted[i]! / scale;
  const scaledMean = scaledSum / count;
  let scaledM2 = 0;
  for (let i = 0; i < count; i++) {
    const d = sorted[i]! / scale - scaledMean;
    scaledM2 += d * d;
  }
  return { mean: scaledMean * scale, m2: saturated(scaledM2 * scale * scale) };
}

const saturated = (m2: number): number => Math.min(m2, Number.MAX_VALUE);

function numericProfile(name: string, values: Float64Array, rowCount: number, options: ProfileOptions): NumericColumnProfile {
  const sorted = sortedFinite(values);
  // -0 is 0 (and JSON stores it as 0): one spelling, so sketches merged either way are the same.
  for (let i = 0; i < sorted.length; i++) if (sorted[i] === 0) sorted[i] = 0;
  const count = sorted.length;
  const { mean, m2 } = moments(sorted);
  const edges = edgesFor(name, sorted, options);
  const ref = options.reference?.columns[name];
  let outOfRange: NumericColumnProfile['outOfRange'] = null;
  if (ref?.kind === 'numeric' && ref.min !== null && ref.max !== null) {
    outOfRange = { below: binIndex(sorted, ref.min), above: count - firstAbove(sorted, ref.max) };
  }
  return {
    kind: 'numeric',
    count,
    nulls: rowCount - count,
    min: count > 0 ? sorted[0]! : null,
    max: count > 0 ? sorted[count - 1]! : null,
    mean,
    m2,
    sketch: kllFromSorted(sorted, options.kllK ?? DEFAULT_KLL_K),
    histogram: edges ? { edges, counts: Array.from(histogramSorted(sorted, edges)) } : null,
    outOfRange,
  };
}

const byCountThenValue = (a: [string, number], b: [string, number]): number =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function foldFrequencies(
  counts: Map<string, number>,
  maxDistinct: number,
): { frequencies: Array<[string, number]>; folded: number } {
  const all = [...counts.entries()].sort(byCountThenValue);
  let folded = 0;
  for (let i = maxDistinct; i < all.length; i++) folded += all[i]![1];
  return { frequencies: all.slice(0, maxDistinct), folded };
}

function categoricalProfile(
  name: string,
  values: ReadonlyArray<string | null>,
  options: ProfileOptions,
): CategoricalColumnProfile {
  const counts = countValues(values);
  const maxDistinct = options.maxDistinct ?? DEFAULT_MAX_DISTINCT;
  const { frequencies, folded } = foldFrequencies(counts, maxDistinct);
  let count = 0;
  for (const c of counts.values()) count += c;
  const ref = options.reference?.columns[name];
  let unseen: CategoricalColumnProfile['unseen'] = null;
  if (ref?.kind === 'categorical' && !ref.truncated) {
    const known = new Set(ref.frequencies.map(([v]) => v));
    const fresh = [...counts.entries()].filter(([v]) => !known.has(v)).sort(byCountThenValue);
    unseen = { count: fresh.reduce((s, [, c]) => s + c, 0), values: fresh.slice(0, UNSEEN_VALUES_LISTED) };
  }
  return {
    kind: 'categorical',
    count,
    nulls: values.length - count,
    frequencies,
    other: folded,
    truncated: folded > 0,
    maxDistinct,
    unseen,
  };
}

/** Merge of two profiles of the same columns (chunks of a drop, drops of a window, ...). */
export function mergeProfiles(a: Profile, b: Profile): Profile {
  const names = new Set([...Object.keys(a.columns), ...Object.keys(b.columns)]);
  const columns: Record<string, ColumnProfile> = {};
  for (const name of [...names].sort()) {
    const x = a.columns[name];
    const y = b.columns[name];
    if (!x || !y || x.kind !== y.kind) {
      throw errors.validation(`cannot merge profiles: column '${name}' is missing or differs in kind`, { column: name });
    }
    columns[name] =
      x.kind === 'numeric' ? mergeNumeric(name, x, y as NumericColumnProfile) : mergeCategorical(x, y as CategoricalColumnProfile);
  }
  return { schemaVersion: 1, rowCount: a.rowCount + b.rowCount, columns };
}

function sameEdges(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((e, i) => e === b[i]);
}

function mergeNumeric(name: string, a: NumericColumnProfile, b: NumericColumnProfile): NumericColumnProfile {
  const count = a.count + b.count;
  let mean = 0;
  let m2 = 0;
  if (a.count === 0) ({ mean, m2 } = b);
  else if (b.count === 0) ({ mean, m2 } = a);
  else {
    const delta = b.mean - a.mean;
    mean = a.mean + (delta * b.count) / count;
    // Means of opposite sign near the double range: their difference overflows, their weighted sum does not.
    if (!Number.isFinite(mean)) mean = a.mean * (a.count / count) + b.mean * (b.count / count);
    m2 = saturated(a.m2 + b.m2 + (delta * delta * a.count * b.count) / count);
  }
  let histogram: NumericColumnProfile['histogram'] = null;
  if (a.histogram && b.histogram) {
    if (!sameEdges(a.histogram.edges, b.histogram.edges)) {
      throw errors.validation(`cannot merge profiles: column '${name}' has histograms on different edges`, { column: name });
    }
    histogram = { edges: a.histogram.edges, counts: a.histogram.counts.map((c, i) => c + b.histogram!.counts[i]!) };
  }
  const pick = (f: (x: number, y: number) => number, x: number | null, y: number | null) =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    kind: 'numeric',
    count,
    nulls: a.nulls + b.nulls,
    min: pick(Math.min, a.min, b.min),
    max: pick(Math.max, a.max, b.max),
    mean,
    m2,
    sketch: mergeKll(a.sketch, b.sketch),
    histogram,
    outOfRange:
      a.outOfRange && b.outOfRange
        ? { below: a.outOfRange.below + b.outOfRange.below, above: a.outOfRange.above + b.outOfRange.above }
        : null,
  };
}

function addCounts(into: Map<string, number>, entries: ReadonlyArray<readonly [string, number]>): void {
  for (const [v, c] of entries) into.set(v, (into.get(v) ?? 0) + c);
}

function mergeCategorical(a: CategoricalColumnProfile, b: CategoricalColumnProfile): CategoricalColumnProfile {
  const counts = new Map<string, number>();
  addCounts(counts, a.frequencies);
  addCounts(counts, b.frequencies);
  const maxDistinct = Math.min(a.maxDistinct, b.maxDistinct);
  const { frequencies, folded } = foldFrequencies(counts, maxDistinct);
  let unseen: CategoricalColumnProfile['unseen'] = null;
  if (a.unseen && b.unseen) {
    const values = new Map<string, number>();
    addCounts(values, a.unseen.values);
    addCounts(values, b.unseen.values);
    unseen = {
      count: a.unseen.count + b.unseen.count,
      values: [...values.entries()].sort(byCountThenValue).slice(0, UNSEEN_VALUES_LISTED),
    };
  }
  const other = a.other + b.other + folded;
  return {
    kind: 'categorical',
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    frequencies,
    other,
    truncated: a.truncated || b.truncated || folded > 0,
    maxDistinct,
    unseen,
  };
}

/** Population variance of a numeric column profile. */
export const profileVariance = (p: NumericColumnProfile): number => (p.count > 0 ? p.m2 / p.count : Number.NaN);

/**
 * Quantile edges from a (merged) profile's sketch, for counting a chunked reference's histograms
 * in a second pass. Edges are within the sketch's rank error of the exact quantiles.
 */
export function edgesFromSketch(p: NumericColumnProfile, bins = DEFAULT_HISTOGRAM_BINS): number[] {
  const items = kllItems(p.sketch);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = kllQuantile(items, i / bins);
    if (Number.isFinite(q) && (edges.length === 0 || q > edges[edges.length - 1]!)) edges.push(q);
  }
  return edges;
}

/**
 * One profile per segment (rows grouped by the values of categorical `keys`, ids like
 * "region=north"), for per-segment drift from stored profiles. `optionsFor` gives each segment its
 * options, e.g. the same segment's reference profile.
 */
export function buildSegmentProfiles(
  batch: RowBatch,
  keys: readonly string[],
  optionsFor: (segment: string) => ProfileOptions = () => ({}),
): Record<string, Profile> {
  const out: Record<string, Profile> = {};
  for (const [segment, rows] of splitBySegment(batch, keys)) out[segment] = buildProfile(rows, optionsFor(segment));
  return out;
}

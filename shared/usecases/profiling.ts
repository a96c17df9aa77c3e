import { MISSING_PROFILE_VALUE } from '../domain/drift/segments';
import { mergeAcrossReferences } from '../domain/profiles/merge-across-references';
import { buildProfile, buildSegmentProfiles, mergeProfiles, type ProfileOptions } from '../domain/profiles/profile';
import type { ValidatedRows } from '../domain/row-validation';
import { capSegmentColumn, keptSegmentValues, OTHER_SEGMENT_VALUE } from '../domain/segment-cap';
import type { RowBatch } from '../domain/tabular';
import type { Predictions } from '../ports/model-runtime';
import type { ModelDefinition } from '../schemas/model';
import type { Profile, ProfileSegmentCap } from '../schemas/profile';

/**
 * What monitoring profiles of scored rows: the model's features, its segment keys and its
 * prediction (prediction drift), overall and per segment (`key=value`, one key at a time).
 */
export interface SegmentedProfile {
  overall: Profile;
  segments: Record<string, Profile>;
  /** Segment keys that had more values than the cap: the rest are profiled as `key=__other__`. */
  cappedSegments?: Record<string, ProfileSegmentCap>;
}

/**
 * Values a segment key keeps by name in a profile (SEGMENT_MAX_VALUES): those the reference has
 * first (so they are still compared with their own segment), then the most frequent.
 */
export interface SegmentCap {
  maxValues: number;
  reference?: Pick<SegmentedProfile, 'segments'> | undefined;
}

const knownTo = (reference: SegmentCap['reference'], key: string) => (value: string) => reference?.segments[`${key}=${value}`] !== undefined;

/**
 * The validated rows of a batch as one RowBatch: features (numeric, boolean and datetime as
 * numbers; categorical as text), segment keys as categories and the prediction (a number for
 * regression, the label for classifiers) under the model's prediction column name, missing for
 * rows the transforms rejected. Monitoring sees the data as it arrived, scored or not.
 */
export function monitoredBatch(
  definition: ModelDefinition,
  valid: ValidatedRows,
  keptRows: ArrayLike<number>,
  predictions: Predictions | undefined,
): RowBatch {
  const n = valid.batch.rowCount;
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const feature of definition.features) {
    const numbers = valid.batch.numeric[feature.name];
    const texts = valid.batch.categorical[feature.name];
    if (numbers) numeric[feature.name] = numbers.slice(0, n);
    else if (texts) categorical[feature.name] = texts.slice(0, n);
  }
  for (const key of definition.segmentKeys) categorical[key] = (valid.segments[key] ?? []).slice(0, n);
  const prediction = definition.predictionColumns.prediction;
  if (definition.task === 'regression') {
    const values = new Float64Array(n).fill(NaN);
    if (predictions?.kind === 'regression') for (let k = 0; k < keptRows.length; k++) values[keptRows[k]!] = predictions.values[k]!;
    numeric[prediction] = values;
  } else {
    const labels = new Array<string | null>(n).fill(null);
    if (predictions?.kind === 'classification') for (let k = 0; k < keptRows.length; k++) labels[keptRows[k]!] = predictions.labels[k]!;
    categorical[prediction] = labels;
  }
  return { rowCount: n, numeric, categorical };
}

/**
 * A reference profile (built once, from a version's validation data): histograms on the data's own
 * quantile edges, which every later profile against it reuses.
 */
export function referenceProfileOf(definition: ModelDefinition, batch: RowBatch, maxSegmentValues?: number): SegmentedProfile {
  return segmentedProfile(definition, batch, () => ({}), maxSegmentValues === undefined ? undefined : { maxValues: maxSegmentValues });
}

/**
 * Profiles scored rows against a reference: histograms on its edges, values it never had recorded
 * (new flavours); a segment the reference lacks is held against the overall reference. Without a
 * reference there are no histograms, so profiles of separate chunks still merge.
 */
export function profileAgainst(definition: ModelDefinition, batch: RowBatch, reference: SegmentedProfile | undefined, maxSegmentValues?: number): SegmentedProfile {
  return segmentedProfile(
    definition,
    batch,
    (segment) => (reference ? { reference: (segment !== undefined ? reference.segments[segment] : undefined) ?? reference.overall } : { bins: 0 }),
    maxSegmentValues === undefined ? undefined : { maxValues: maxSegmentValues, reference },
  );
}

function segmentedProfile(definition: ModelDefinition, batch: RowBatch, optionsFor: (segment?: string) => ProfileOptions, cap: SegmentCap | undefined): SegmentedProfile {
  const segments: Record<string, Profile> = {};
  const cappedSegments: Record<string, ProfileSegmentCap> = {};
  for (const key of definition.segmentKeys) {
    const column = batch.categorical[key];
    if (!column) continue;
    // Values past the cap are folded before the rows are split: one batch per value is what would not fit.
    const capped = cap ? capSegmentColumn(column, cap.maxValues, knownTo(cap.reference, key)) : { values: column };
    const keyed = capped.capped ? { ...batch, categorical: { ...batch.categorical, [key]: capped.values } } : batch;
    if (capped.capped) cappedSegments[key] = { limit: capped.capped.limit, distinctValuesAtLeast: capped.capped.distinctValues, foldedRows: capped.capped.foldedRows };
    Object.assign(segments, buildSegmentProfiles(keyed, [key], (segment) => optionsFor(segment)));
  }
  return { overall: buildProfile(batch, optionsFor()), segments, ...(Object.keys(cappedSegments).length > 0 ? { cappedSegments } : {}) };
}

/**
 * Two segmented profiles merged (segments present in either). With a cap, a key left with more
 * named values than it allows folds the extra segments into `key=__other__` (the reference's
 * values kept first, then those with most rows): profiles of chunks each within the cap can
 * together exceed it.
 */
export function mergeSegmented(a: SegmentedProfile, b: SegmentedProfile, cap?: SegmentCap): SegmentedProfile {
  const segments: Record<string, Profile> = { ...a.segments };
  for (const [id, profile] of Object.entries(b.segments)) segments[id] = segments[id] ? mergeProfiles(segments[id], profile) : profile;
  const cappedSegments = mergeSegmentCaps(a.cappedSegments, b.cappedSegments);
  const merged: SegmentedProfile = { overall: mergeProfiles(a.overall, b.overall), segments, ...(cappedSegments ? { cappedSegments } : {}) };
  return cap ? withinSegmentCap(merged, cap) : merged;
}

/** What two merged profiles say about capped keys. */
export function mergeSegmentCaps(a: SegmentedProfile['cappedSegments'], b: SegmentedProfile['cappedSegments']): SegmentedProfile['cappedSegments'] {
  if (!a && !b) return undefined;
  const out: Record<string, ProfileSegmentCap> = { ...a };
  for (const [key, theirs] of Object.entries(b ?? {})) {
    const ours = out[key];
    // Distinct counts do not add up (a value can be in both): the larger is what is known for sure.
    out[key] = ours
      ? { limit: Math.min(ours.limit, theirs.limit), distinctValuesAtLeast: Math.max(ours.distinctValuesAtLeast, theirs.distinctValuesAtLeast), foldedRows: ours.foldedRows + theirs.foldedRows }
      : theirs;
  }
  return out;
}

/** The named segments of each key beyond the cap folded into `key=__other__` (the profile itself when all fit). */
export function withinSegmentCap(profile: SegmentedProfile, cap: SegmentCap): SegmentedProfile {
  const byKey = new Map<string, Map<string, number>>();
  for (const [id, p] of Object.entries(profile.segments)) {
    const at = id.indexOf('=');
    const key = id.slice(0, at);
    const value = id.slice(at + 1);
    if (value === OTHER_SEGMENT_VALUE || value === MISSING_PROFILE_VALUE) continue;
    const counts = byKey.get(key) ?? new Map<string, number>();
    counts.set(value, p.rowCount);
    byKey.set(key, counts);
  }
  let segments = profile.segments;
  const cappedSegments = { ...profile.cappedSegments };
  for (const [key, counts] of byKey) {
    const kept = keptSegmentValues(counts, cap.maxValues, knownTo(cap.reference, key));
    if (!kept) continue;
    segments = { ...segments };
    const otherId = `${key}=${OTHER_SEGMENT_VALUE}`;
    let foldedRows = 0;
    for (const [value, rows] of counts) {
      if (kept.has(value)) continue;
      const id = `${key}=${value}`;
      // Segments profiled against different reference segments: histograms on other edges are dropped, not failed on.
      segments[otherId] = segments[otherId] ? mergeAcrossReferences(segments[otherId], segments[id]!) : segments[id]!;
      delete segments[id];
      foldedRows += rows;
    }
    const before = cappedSegments[key];
    cappedSegments[key] = {
      limit: cap.maxValues,
      distinctValuesAtLeast: Math.max(before?.distinctValuesAtLeast ?? 0, counts.size),
      foldedRows: (before?.foldedRows ?? 0) + foldedRows,
    };
  }
  return segments === profile.segments ? profile : { ...profile, segments, cappedSegments };
}

/** Rows appended column by column across batches (for profiling a whole dataset at once). */
export function concatBatches(batches: readonly RowBatch[]): RowBatch {
  const first = batches[0];
  if (!first) return { rowCount: 0, numeric: {}, categorical: {} };
  const rowCount = batches.reduce((s, b) => s + b.rowCount, 0);
  const numeric: Record<string, Float64Array> = {};
  for (const name of Object.keys(first.numeric)) {
    const out = new Float64Array(rowCount);
    let at = 0;
    for (const b of batches) {
      out.set(b.numeric[name]!, at);
      at += b.rowCount;
    }
    numeric[name] = out;
  }
  const categorical: Record<string, (string | null)[]> = {};
  for (const name of Object.keys(first.categorical)) categorical[name] = batches.flatMap((b) => [...b.categorical[name]!]);
  return { rowCount, numeric, categorical };
}

/** The given rows of a batch, in that order. */
export function subsetBatch(batch: RowBatch, rows: ArrayLike<number>): RowBatch {
  const numeric: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(batch.numeric)) numeric[name] = Float64Array.from(rows, (r) => values[r]!);
  const categorical: Record<string, (string | null)[]> = {};
  for (const [name, values] of Object.entries(batch.categorical)) categorical[name] = Array.from(rows, (r) => values[r] ?? null);
  return { rowCount: rows.length, numeric, categorical };
}

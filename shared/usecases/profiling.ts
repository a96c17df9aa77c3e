import { buildProfile, buildSegmentProfiles, mergeProfiles, type ProfileOptions } from '../domain/profiles/profile';
import type { ValidatedRows } from '../domain/row-validation';
import type { RowBatch } from '../domain/tabular';
import type { Predictions } from '../ports/model-runtime';
import type { ModelDefinition } from '../schemas/model';
import type { Profile } from '../schemas/profile';

/**
 * What monitoring profiles of scored rows: the model's features, its segment keys and its
 * prediction (prediction drift), overall and per segment (`key=value`, one key at a time).
 */
export interface SegmentedProfile {
  overall: Profile;
  segments: Record<string, Profile>;
}

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
export function referenceProfileOf(definition: ModelDefinition, batch: RowBatch): SegmentedProfile {
  return segmentedProfile(definition, batch, () => ({}));
}

/**
 * Profiles scored rows against a reference: histograms on its edges, values it never had recorded
 * (new flavours); a segment the reference lacks is held against the overall reference. Without a
 * reference there are no histograms, so profiles of separate chunks still merge.
 */
export function profileAgainst(definition: ModelDefinition, batch: RowBatch, reference: SegmentedProfile | undefined): SegmentedProfile {
  return segmentedProfile(definition, batch, (segment) =>
    reference ? { reference: (segment !== undefined ? reference.segments[segment] : undefined) ?? reference.overall } : { bins: 0 },
  );
}

function segmentedProfile(definition: ModelDefinition, batch: RowBatch, optionsFor: (segment?: string) => ProfileOptions): SegmentedProfile {
  const segments: Record<string, Profile> = {};
  for (const key of definition.segmentKeys) {
    if (!batch.categorical[key]) continue;
    Object.assign(segments, buildSegmentProfiles(batch, [key], (segment) => optionsFor(segment)));
  }
  return { overall: buildProfile(batch, optionsFor()), segments };
}

/** Two segmented profiles merged (segments present in either). */
export function mergeSegmented(a: SegmentedProfile, b: SegmentedProfile): SegmentedProfile {
  const segments: Record<string, Profile> = { ...a.segments };
  for (const [id, profile] of Object.entries(b.segments)) segments[id] = segments[id] ? mergeProfiles(segments[id], profile) : profile;
  return { overall: mergeProfiles(a.overall, b.overall), segments };
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

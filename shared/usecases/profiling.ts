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
 * The scored rows of a validated batch as one RowBatch: features (numeric, boolean and datetime
 * as numbers; categorical as text), segment keys as categories and the prediction (a number for
 * regression, the label for classifiers) under the model's prediction column name.
 */
export function monitoredBatch(definition: ModelDefinition, valid: ValidatedRows, keptRows: ArrayLike<number>, predictions: Predictions): RowBatch {
  const n = keptRows.length;
  const numeric: Record<string, Float64Array> = {};
  const categorical: Record<string, (string | null)[]> = {};
  for (const feature of definition.features) {
    const numbers = valid.batch.numeric[feature.name];
    const texts = valid.batch.categorical[feature.name];
    if (numbers) numeric[feature.name] = Float64Array.from({ length: n }, (_, k) => numbers[keptRows[k]!]!);
    else if (texts) categorical[feature.name] = Array.from({ length: n }, (_, k) => texts[keptRows[k]!] ?? null);
  }
  for (const key of definition.segmentKeys) {
    const values = valid.segments[key] ?? [];
    categorical[key] = Array.from({ length: n }, (_, k) => values[keptRows[k]!] ?? null);
  }
  const prediction = definition.predictionColumns.prediction;
  if (predictions.kind === 'regression') numeric[prediction] = Float64Array.from(predictions.values.subarray(0, n));
  else categorical[prediction] = predictions.labels.slice(0, n);
  return { rowCount: n, numeric, categorical };
}

/**
 * Profiles a monitored batch. With a reference, histograms use its edges and values it never had
 * are recorded (new flavours); a segment the reference lacks is held against the overall reference.
 * Without one (building a reference), histograms use the batch's own quantiles.
 */
export function profileBatch(definition: ModelDefinition, batch: RowBatch, reference?: SegmentedProfile): SegmentedProfile {
  const optionsFor = (segment?: string): ProfileOptions => {
    if (!reference) return {};
    return { reference: (segment !== undefined ? reference.segments[segment] : undefined) ?? reference.overall };
  };
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

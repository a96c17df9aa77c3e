import { z } from 'zod';

import { columnNameSchema } from './common';

/**
 * Mergeable per-column statistics of a chunk, a drop or a window, stored as JSON in the lake
 * (`profiles/...`). Monitoring compares these instead of re-reading raw rows. See docs/drift.md
 * for the error bounds of the sketch-based parts.
 */

const count = z.number().int().min(0);

/** KLL quantile sketch: levels[h] holds ascending items of weight 2^h. */
export const kllSketchSchema = z.object({
  k: z.number().int().min(8).max(65536),
  n: count,
  levels: z.array(z.array(z.number())).min(1),
});

/** Bin counts on fixed edges: (-inf, e0], (e0, e1], ..., (e_last, +inf). */
export const histogramSchema = z
  .object({
    edges: z.array(z.number()),
    counts: z.array(count),
  })
  .refine((h) => h.counts.length === h.edges.length + 1, 'a histogram has one more count than edges');

/** Values never seen in the reference, with the most frequent ones named (bounded list). */
export const unseenValuesSchema = z.object({
  count,
  values: z.array(z.tuple([z.string(), z.number().int().positive()])),
});

export const numericColumnProfileSchema = z.object({
  kind: z.literal('numeric'),
  /** Non-null values. */
  count,
  nulls: count,
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number(),
  /** Sum of squared deviations from the mean (Chan et al.'s M2): variance = m2 / count. */
  m2: z.number().min(0),
  sketch: kllSketchSchema,
  /** On the reference's edges; null when the profile was built without edges. */
  histogram: histogramSchema.nullable(),
  /** Values outside the reference's [min, max]; null when built without a reference. */
  outOfRange: z.object({ below: count, above: count }).nullable(),
});

export const categoricalColumnProfileSchema = z.object({
  kind: z.literal('categorical'),
  count,
  nulls: count,
  /** [value, count], count descending then value ascending. Exact unless `truncated`. */
  frequencies: z.array(z.tuple([z.string(), z.number().int().positive()])),
  /** Values folded away after the distinct bound was exceeded. */
  other: count,
  truncated: z.boolean(),
  /** Distinct values kept exactly before folding the rarest into `other`. */
  maxDistinct: z.number().int().positive(),
  /** Values the reference never had; null when built without a reference. */
  unseen: unseenValuesSchema.nullable(),
});

export const columnProfileSchema = z.discriminatedUnion('kind', [numericColumnProfileSchema, categoricalColumnProfileSchema]);

export const profileSchema = z.object({
  schemaVersion: z.literal(1),
  rowCount: count,
  columns: z.record(columnNameSchema, columnProfileSchema),
});

/**
 * A segment key of a segmented profile (a window's, a reference's) that had more values than the
 * cap (SEGMENT_MAX_VALUES): the values past it are profiled together as `key=__other__`.
 */
export const profileSegmentCapSchema = z.object({
  /** Values kept by name at most. */
  limit: z.number().int().positive(),
  /**
   * Distinct values seen, at least: exact for one profiled piece; merged profiles keep the largest
   * count known, since values seen in two pieces cannot be told apart once folded.
   */
  distinctValuesAtLeast: count,
  /** Rows profiled as `key=__other__`. */
  foldedRows: count,
});

export type ProfileSegmentCap = z.infer<typeof profileSegmentCapSchema>;
export type KllSketchDoc = z.infer<typeof kllSketchSchema>;
export type NumericColumnProfile = z.infer<typeof numericColumnProfileSchema>;
export type CategoricalColumnProfile = z.infer<typeof categoricalColumnProfileSchema>;
export type ColumnProfile = z.infer<typeof columnProfileSchema>;
export type Profile = z.infer<typeof profileSchema>;

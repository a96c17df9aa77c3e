import { z } from 'zod';

import { driftMethodSchema } from './policies';

/**
 * Drift results as stored (monitoring windows) and published (drift events). The domain types
 * `DriftReport`, `ColumnDrift` and `DriftEvaluation` are inferred from these.
 */

export const columnVerdictSchema = z.enum(['drift', 'no_drift', 'insufficient_data']);
export const policyVerdictSchema = z.enum(['ok', 'warning', 'breach', 'insufficient_data']);

export const columnDriftSchema = z.object({
  name: z.string(),
  type: z.enum(['numeric', 'categorical']),
  method: driftMethodSchema,
  /** null when the column had no data to compute anything. */
  statistic: z.number().nullable(),
  /** null for distances. */
  pValue: z.number().min(0).max(1).nullable(),
  /** The p-value after the report's multiple-testing correction (tests only). */
  adjustedPValue: z.number().min(0).max(1).nullable(),
  /** KS statistic, Cramér's V or difference of proportions for p-value tests; else null. */
  effectSize: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  verdict: columnVerdictSchema,
  referenceCount: z.number().int().min(0),
  currentCount: z.number().int().min(0),
  /** Why the verdict is what it is, for people reading alerts. */
  reason: z.string(),
});

export const driftReportSchema = z.object({
  datasetDrift: z.boolean(),
  /** Drifted columns / columns with enough data (0 when none had enough). */
  shareDrifted: z.number().min(0).max(1),
  evaluatedColumns: z.number().int().min(0),
  driftedColumns: z.number().int().min(0),
  verdict: columnVerdictSchema,
  columns: z.array(columnDriftSchema),
});

export const policyReasonSchema = z.object({
  scope: z.enum(['dataset', 'segment', 'column']),
  /** Segment id ("region=north"); absent for the whole window. */
  segment: z.string().optional(),
  column: z.string().optional(),
  verdict: z.union([columnVerdictSchema, policyVerdictSchema]),
  message: z.string(),
});

export const driftEvaluationSchema = z.object({
  verdict: policyVerdictSchema,
  /** This window's own verdict, to append to the history. */
  windowVerdict: columnVerdictSchema,
  consecutive: z.number().int().min(0),
  /** True when a breach should notify (e.g. queue a retraining request). */
  alert: z.boolean(),
  cooldownUntil: z.string().nullable(),
  reasons: z.array(policyReasonSchema),
});

export type ColumnVerdict = z.infer<typeof columnVerdictSchema>;
export type PolicyVerdict = z.infer<typeof policyVerdictSchema>;
export type ColumnDrift = z.infer<typeof columnDriftSchema>;
export type DriftReport = z.infer<typeof driftReportSchema>;
export type PolicyReason = z.infer<typeof policyReasonSchema>;
export type DriftEvaluation = z.infer<typeof driftEvaluationSchema>;

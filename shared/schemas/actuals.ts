import { z } from 'zod';

import { isoDateTimeSchema, isoDurationSchema, modelNameSchema, traceparentSchema, versionNumberSchema } from './common';
import { segmentedMetricReportSchema } from './metrics';
import { storedModelDefinitionSchema } from './model';
import { actualsRecordSchema, lateMatchSideSchema, skippedRunSchema, unreadableDocumentsSchema, windowIdSchema, windowSpanSchema } from './monitoring';
import { pageLinksShape } from './paging';
import { chunkPlanSchema } from './scoring';

/**
 * The actuals join (`actualsJoin` orchestration): its input, the plan its activities share, and
 * what each step hands to the next. Inputs only grow additively (they are in durable history).
 */

const count = z.number().int().nonnegative();
const actualsIdSchema = actualsRecordSchema.shape.actualsId;

/** An actuals blob as its event reported it: one join per path and ETag. */
export const actualsJoinInputSchema = z.object({
  model: modelNameSchema,
  /** Lake path `actuals/{model}/{name}`. */
  path: z.string().min(1),
  etag: z.string().min(1),
  size: count,
  /** When the file arrived (the blob's last-modified time); the later file wins for an id. */
  lastModified: isoDateTimeSchema,
  /** The blob trigger's span: the join and its activities are traced under it. */
  traceparent: traceparentSchema.optional(),
});
export type ActualsJoinInput = z.infer<typeof actualsJoinInputSchema>;

/** The planning step's input: the blob, the durable instance and the orchestration's clock. */
export const actualsPlanInputSchema = actualsJoinInputSchema.extend({
  instanceId: z.string().min(1),
  /** The orchestration's clock: the record's creation time and the end of the lookback. */
  at: isoDateTimeSchema,
});
export type ActualsPlanInput = z.infer<typeof actualsPlanInputSchema>;

/** A completed inference run whose predictions an actuals file is joined against. */
export const candidateRunSchema = z.object({
  runId: z.string().min(1),
  version: versionNumberSchema,
  createdAt: isoDateTimeSchema,
  /** The window of the run's rows when the model has no timestamp column (or a row has none). */
  arrivalWindow: windowSpanSchema,
  /** Its predictions parts, in part order. */
  parts: z.array(z.string().min(1)),
});
export type CandidateRun = z.infer<typeof candidateRunSchema>;

/**
 * What the join of one actuals file reads, fixed once at its start and stored in its work folder
 * so every bucket joins against the same runs and the same model definition.
 */
export const actualsJoinPlanSchema = z.object({
  schemaVersion: z.literal(1),
  actualsId: actualsIdSchema,
  model: modelNameSchema,
  source: z.object({ path: z.string(), etag: z.string(), size: count, lastModified: isoDateTimeSchema }),
  plannedAt: isoDateTimeSchema,
  definition: storedModelDefinitionSchema,
  actuals: chunkPlanSchema,
  /** Data rows of the actuals file. */
  rows: count,
  /** Hash ranges of the ids, joined one per activity so each holds a bounded number of ids. */
  buckets: z.number().int().positive(),
  /** The monitoring window length (the drift policy's `window`). */
  window: isoDurationSchema,
  /** Runs created at or after this instant are searched. */
  lookbackFrom: isoDateTimeSchema,
  /** Completed runs, newest first: an id scored by several of them joins the first (the latest). */
  runs: z.array(candidateRunSchema),
  /** Completed runs within the lookback left out: their predictions could not be read. */
  skippedRuns: z.array(skippedRunSchema).optional(),
});
export type ActualsJoinPlan = z.infer<typeof actualsJoinPlanSchema>;

/** What the planning step decided: join, or nothing to do. */
export const actualsPlanResultSchema = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('planned'),
    actualsId: actualsIdSchema,
    buckets: z.number().int().positive(),
    parallelism: z.number().int().positive(),
    /** Runs left out (as on the record, at most its listed ones), for the orchestration to warn about. */
    skippedRuns: z.array(skippedRunSchema).optional(),
  }),
  /** The file version was joined (or failed) before: a repeated event. */
  z.object({ outcome: z.literal('done'), actualsId: actualsIdSchema, state: z.enum(['completed', 'failed']) }),
  /** The blob changed or vanished since the event: its newer version has an event of its own. */
  z.object({ outcome: z.literal('superseded'), actualsId: actualsIdSchema }),
]);
export type ActualsPlanResult = z.infer<typeof actualsPlanResultSchema>;

export const actualsStepInputSchema = z.object({ model: modelNameSchema, actualsId: actualsIdSchema });
export const actualsBucketInputSchema = actualsStepInputSchema.extend({ bucket: count });
export const actualsWindowInputSchema = actualsStepInputSchema.extend({ windowId: windowIdSchema });

/** One bucket's share of the join: every count over the rows whose id falls in its hash range. */
export const bucketSummarySchema = z.object({
  bucket: count,
  /** Rows of the file this bucket owns (rows without an id belong to bucket 0). */
  rows: count,
  rejectionReasons: z.record(z.string(), count),
  matched: count,
  unmatched: count,
  duplicateIds: count,
  /** Rows superseded by a later row with the same id. */
  duplicateRows: count,
  /** Matched ids that more than one stored prediction carries (the latest run's joined). */
  rescoredIds: count,
  /** Labelled rows per window. */
  windows: z.array(z.object({ windowId: windowIdSchema, rows: count })),
  quarantinePath: z.string().optional(),
  /** The file's realised metrics, when the join has one bucket (it holds every matched row). */
  metrics: segmentedMetricReportSchema.nullable().optional(),
  /** Where the bucket's time went (wall clock), for whoever looks into a slow join. */
  durationsMs: z
    .object({ readActuals: count, matchPredictions: count, writeLabelled: count, quarantineUnmatched: count, metrics: count })
    .optional(),
});
export type BucketSummary = z.infer<typeof bucketSummarySchema>;

export const windowUpdateSchema = z.object({
  windowId: windowIdSchema,
  labelled: count,
  labelCoverage: z.number().min(0).max(1),
  provisional: z.boolean(),
  /** Actuals records that did not read, so their late files in the window were not counted (the activity logs a warning for each). */
  uncountedRecords: z.array(z.object({ actualsId: z.string().min(1), reason: z.string(), files: count })).optional(),
});
export type WindowUpdate = z.infer<typeof windowUpdateSchema>;

export const actualsCompleteInputSchema = actualsStepInputSchema.extend({
  summaries: z.array(bucketSummarySchema),
  completedAt: isoDateTimeSchema,
});

export const actualsFailInputSchema = actualsPlanInputSchema.extend({ actualsId: actualsIdSchema, error: z.string() });

/**
 * An `unmatched` line of a join's quarantine (`quarantine/{model}/{actualsId}/bucket-NNNNN.jsonl`):
 * the actual's row in the file and its cells, the id and the actual as the file said it. Late
 * matching reads them back.
 */
export const unmatchedLineSchema = z.object({
  row: z.number().int().positive(),
  code: z.literal('unmatched'),
  cells: z.tuple([z.string().min(1), z.string()]),
});

/** A late match: one joined actuals file's unmatched actuals against one run that completed after its plan. */
export const lateMatchStepInputSchema = actualsStepInputSchema.extend({ runId: z.string().min(1), side: lateMatchSideSchema.optional() });
export type LateMatchStepInput = z.infer<typeof lateMatchStepInputSchema>;

/** What a late match did: `matched` (recorded now), `done` (recorded before), `none` or `skipped` (why in `reason`). */
export const lateMatchOutcomeSchema = z.object({
  outcome: z.enum(['matched', 'done', 'none', 'skipped']),
  matched: count,
  /** Windows whose labelled rows it wrote (or removed again): their performance is to be refreshed. */
  windows: z.array(windowIdSchema),
  reason: z.string().optional(),
});
export type LateMatchOutcome = z.infer<typeof lateMatchOutcomeSchema>;

/** The windows of a recorded late match, as its record's `lateMatches` entry lists them: none when the record does not hold the pair. */
export const recordedLateWindowsSchema = z.object({ windows: z.array(windowIdSchema) });
export type RecordedLateWindows = z.infer<typeof recordedLateWindowsSchema>;

export const lateRecordsInputSchema = z.object({ model: modelNameSchema, runId: z.string().min(1) });
export const lateRunsInputSchema = actualsStepInputSchema;
export const lateWindowInputSchema = z.object({ model: modelNameSchema, windowId: windowIdSchema });

export const actualsJoinOutputSchema = z.object({
  actualsId: actualsIdSchema,
  outcome: z.enum(['completed', 'failed', 'done', 'superseded']),
  error: z.string().optional(),
});
export type ActualsJoinOutput = z.infer<typeof actualsJoinOutputSchema>;

/** `GET /api/models/{model}/actuals`: the model's actuals files, newest first. */
export const actualsListSchema = z.object({ model: modelNameSchema, actuals: z.array(actualsRecordSchema), unreadable: unreadableDocumentsSchema, ...pageLinksShape });

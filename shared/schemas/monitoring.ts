import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, traceparentSchema, versionNumberSchema } from './common';
import { driftEvaluationSchema, driftReportSchema, policyVerdictSchema } from './drift';
import { retrainingReasonSchema } from './messages';
import { segmentedMetricReportSchema } from './metrics';
import { metricNameSchema } from './policies';
import { profileSchema, profileSegmentCapSchema } from './profile';

/**
 * What the production loop stores: inference runs, actuals files, monitoring windows, retraining
 * requests (Cosmos `runs`, pk `/modelName`, one `docType` each) and window profiles (blob
 * `profiles/{model}/windows/...`). Documents only grow additively.
 */

const count = z.number().int().nonnegative();

/**
 * A monitoring window's id: its UTC start as `YYYYMMDDTHHmmZ` (a single path segment, sortable).
 * Windows are aligned in UTC on the model's timestamp column (arrival time without one), with the
 * drift policy's `window` length. An id off the pattern is one issue (abort), not one more from
 * each check that refines it (an instant that exists).
 */
export const windowIdSchema = z.string().regex(/^\d{8}T\d{4}Z$/, { message: 'a window id is its UTC start as YYYYMMDDTHHmmZ', abort: true });
export const windowSpanSchema = z.object({ id: windowIdSchema, start: isoDateTimeSchema, end: isoDateTimeSchema });
export type WindowSpan = z.infer<typeof windowSpanSchema>;

/** A run profile's row count as its blob metadata carries it (metadata values are text). */
export const profileCountMetadataSchema = z.string().regex(/^\d{1,15}$/, 'a whole number of rows').transform(Number);

/**
 * The profile of the rows of one window (overall and per segment `key=value`), for one run or
 * merged over several. Feature columns and the model's prediction (prediction drift), histograms
 * on the reference's edges.
 */
export const windowProfileSchema = z.object({
  schemaVersion: z.literal(1),
  model: modelNameSchema,
  window: windowSpanSchema,
  overall: profileSchema,
  segments: z.record(z.string(), profileSchema),
  /** Segment keys with more values than the cap, by key: the rest are profiled as `key=__other__`. */
  cappedSegments: z.record(z.string(), profileSegmentCapSchema).optional(),
});
export type WindowProfile = z.infer<typeof windowProfileSchema>;

/** New data flavours a run saw against the champion's reference (its validation data). */
export const flavoursSchema = z.object({
  /** Segment values the reference never had, per segment key. */
  newSegmentValues: z.record(z.string(), z.array(z.string())),
  /**
   * Categorical feature values the reference never had, per column (the most frequent, bounded).
   * `lookAlikes`: those of `values` that are a known value (the reference's, or `allowedValues`)
   * but for surrounding spaces or letter case; scored as unseen all the same.
   */
  unseenCategories: z.record(
    z.string(),
    z.object({ rows: count, values: z.array(z.string()), lookAlikes: z.array(z.object({ value: z.string(), known: z.string() })).optional() }),
  ),
  /** Rows with a numeric feature outside the reference's range, per column. */
  outOfRange: z.record(z.string(), z.object({ below: count, above: count })),
  /**
   * Segment keys that had more values than the cap (SEGMENT_MAX_VALUES), by key: `newSegmentValues`
   * names at most the cap of them; the rest were profiled as `key=__other__`.
   */
  segmentValuesCapped: z.record(z.string(), profileSegmentCapSchema).optional(),
});
export type Flavours = z.infer<typeof flavoursSchema>;

export const runStateSchema = z.enum(['waiting_for_champion', 'running', 'completed', 'failed']);
export type RunState = z.infer<typeof runStateSchema>;

/** One scoring of a data drop (or, scheduled, of what accumulated), by the champion at its start. */
export const inferenceRunSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  modelName: modelNameSchema,
  kind: z.enum(['batch', 'scheduled']),
  state: runStateSchema,
  /** The input blob(s) and the ETag each was scored at. */
  sources: z.array(z.object({ path: z.string(), etag: z.string(), size: count })).min(1),
  /** The durable instance that runs it. */
  instanceId: z.string(),
  version: versionNumberSchema.nullable(),
  artifactSha256: z.string().optional(),
  transformSpecHash: z.string().optional(),
  chunks: count,
  rowsRead: count,
  rowsScored: count,
  rowsQuarantined: count,
  /** Quarantined rows by reason code. */
  rejectionReasons: z.record(z.string(), count),
  /** Parts and `_manifest.json` under predictions/{model}/v{version}/{runId}/. */
  predictionsFolder: z.string().optional(),
  quarantineFolder: z.string().optional(),
  /** Monitoring windows the run's rows fell in. */
  windows: z.array(windowIdSchema),
  flavours: flavoursSchema.optional(),
  /** Scheduled runs: the schedule occurrence; the run scores the drops that arrived since the previous one. */
  scheduledFor: isoDateTimeSchema.optional(),
  /**
   * Scheduled runs: files listed for the occurrence that were written again or removed before the
   * run planned them, left out with the reason (a new version is stamped after the occurrence, so
   * the next scheduled run scores it). `sources` holds the files scored.
   */
  supersededSources: z.array(z.object({ path: z.string(), etag: z.string(), size: count, reason: z.string() })).optional(),
  /**
   * Scheduled runs: files listed for the occurrence that could not be read (wrong format, no
   * header, missing columns), left out with the reason and copied to the run's quarantine folder;
   * the other files are scored. `sources` holds the files scored.
   */
  quarantinedSources: z.array(z.object({ path: z.string(), etag: z.string(), size: count, reason: z.string() })).optional(),
  createdAt: isoDateTimeSchema,
  startedAt: isoDateTimeSchema.optional(),
  completedAt: isoDateTimeSchema.optional(),
  durationMs: count.optional(),
  error: z.string().optional(),
  /**
   * Set when reconciliation failed the run (its instance ended without recording it) until its
   * `run.failed` is published: each reconciliation publishes it again while this is set, so an
   * outage between the write and the event does not lose the event. Absent otherwise.
   */
  followUpsPendingSince: isoDateTimeSchema.optional(),
});
export type InferenceRun = z.infer<typeof inferenceRunSchema>;

/** Skipped runs an actuals record lists at most (the rest are counted in `skippedRunsOmitted`). */
export const MAX_LISTED_SKIPPED_RUNS = 20;

/** A completed run an actuals join left out, and why (its predictions are gone or damaged). */
export const skippedRunSchema = z.object({ runId: z.string(), reason: z.string().max(1000) });
export type SkippedRun = z.infer<typeof skippedRunSchema>;

/**
 * Late matches one actuals record keeps at most: each lists its windows, and the record stays one
 * Cosmos document. A record that has them all gets no more (the rest stay unmatched).
 */
export const MAX_LATE_MATCHES = 100;

/**
 * Which side of late matching asked for a pair: the run's completion (`run`) or the join's (`join`).
 * Both may match the same pair at the same moment; the record keeps the side whose write recorded it.
 */
export const lateMatchSideSchema = z.enum(['run', 'join']);
export type LateMatchSide = z.infer<typeof lateMatchSideSchema>;

/** Unmatched actuals of a joined file matched later, against one run that completed after its plan. */
export const lateMatchSchema = z.object({
  runId: z.string().min(1),
  /** Actuals it matched (ids), each labelled in `datasets/{model}/labelled/{windowId}/{actualsId}~{runId}.parquet`. */
  matched: count,
  /** When the match was recorded. */
  at: isoDateTimeSchema,
  /** Windows it labelled rows in. */
  windows: z.array(windowIdSchema),
  /** The side whose late match recorded it, the one that asks for its revalidation (absent on entries recorded before it was kept). */
  recordedBy: lateMatchSideSchema.optional(),
});
export type LateMatch = z.infer<typeof lateMatchSchema>;

/** One actuals file joined to stored predictions. */
export const actualsRecordSchema = z.object({
  /** Derived from the blob path and ETag: one record per file version. */
  actualsId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  modelName: modelNameSchema,
  source: z.object({
    path: z.string(),
    etag: z.string(),
    size: count,
    /** The blob's last-modified time, which orders versions of one path (records stored before it: `createdAt` stands in). */
    lastModified: isoDateTimeSchema.optional(),
  }),
  state: z.enum(['running', 'completed', 'failed']),
  /**
   * A newer version of the same path completed its join: this version no longer counts in any
   * window. Its labelled rows were moved to `labelledFolder` (out of `labelled/`) and the windows
   * they were in recomputed; its counts and metrics still say what the version held.
   */
  replacedBy: z
    .object({
      actualsId: z.string(),
      /** When this version stopped counting. */
      at: isoDateTimeSchema,
      /** `datasets/{model}/replaced/{actualsId}/`: this version's labelled rows, one file per window. */
      labelledFolder: z.string(),
    })
    .optional(),
  instanceId: z.string(),
  rows: count,
  matched: count,
  /** Actuals whose id matched no stored prediction (kept in quarantine, not dropped). */
  unmatched: count,
  /** Ids that appear more than once in the file (the last one counts). */
  duplicateIds: count,
  /** Rows superseded by a later row with the same id: rows = rejected + matched + unmatched + duplicateRows. */
  duplicateRows: count.optional(),
  /** Matched ids that more than one stored prediction carries (scored twice: the latest run's joined). */
  rescoredIds: count.optional(),
  /** Rows without an id or a usable actual, by reason. */
  rejectionReasons: z.record(z.string(), count),
  /** Rejected, superseded and unmatched rows with their reasons (`quarantine/{model}/{actualsId}/`). */
  quarantineFolder: z.string().optional(),
  /** Realised metrics over this file's matched rows, overall and per segment. */
  metrics: segmentedMetricReportSchema.nullable(),
  /** Windows whose realised metrics this file changed. */
  windows: z.array(windowIdSchema),
  /**
   * Completed runs within the lookback the join left out because their predictions could not be
   * read (manifest or a part gone or damaged), with the reason; ids they carried came out
   * unmatched. At most MAX_LISTED_SKIPPED_RUNS, newest first.
   */
  skippedRuns: z.array(skippedRunSchema).max(MAX_LISTED_SKIPPED_RUNS).optional(),
  /** Runs left out beyond those listed in `skippedRuns`. */
  skippedRunsOmitted: count.optional(),
  /**
   * Runs that completed after the join was planned and matched some of its unmatched actuals
   * (counted in `matched` and no longer in `unmatched`), in the order they were matched.
   */
  lateMatches: z.array(lateMatchSchema).max(MAX_LATE_MATCHES).optional(),
  createdAt: isoDateTimeSchema,
  completedAt: isoDateTimeSchema.optional(),
  error: z.string().optional(),
  /**
   * Set when reconciliation failed the join (its instance ended without recording it) until its
   * follow-ups are done (`run.failed`, the work folder removed, its path's versions settled):
   * each reconciliation reruns them while this is set, so an outage after the write loses none.
   */
  followUpsPendingSince: isoDateTimeSchema.optional(),
});
export type ActualsRecord = z.infer<typeof actualsRecordSchema>;

/** A monitoring window: what was scored in it, realised performance, drift verdicts. */
export const monitoringWindowSchema = z.object({
  modelName: modelNameSchema,
  window: windowSpanSchema,
  /** The champion the window was evaluated for. */
  version: versionNumberSchema.nullable(),
  predictions: count,
  /** Predictions with an actual joined. */
  labelled: count,
  labelCoverage: z.number().min(0).max(1),
  /** Realised metrics of the labelled rows (provisional below the policy's minLabelCoverage). */
  performance: z
    .object({ metrics: segmentedMetricReportSchema, provisional: z.boolean(), updatedAt: isoDateTimeSchema })
    .nullable(),
  drift: z
    .object({
      reference: z.string(),
      overall: driftReportSchema,
      segments: z.record(z.string(), driftReportSchema),
      evaluation: driftEvaluationSchema,
      evaluatedAt: isoDateTimeSchema,
      /** Segments of the window the reference has no profile of: reported here, not compared. */
      newSegments: z.array(z.string()).optional(),
      /** Segment keys of the window with more values than the cap: the rest were profiled (and compared) as `key=__other__`. */
      cappedSegments: z.record(z.string(), profileSegmentCapSchema).optional(),
    })
    .nullable(),
  performanceVerdict: z.enum(['ok', 'warning', 'breach', 'provisional', 'insufficient_data']).optional(),
  /** How the drift monitor judged `performance` against the champion's validation baseline. */
  performanceEvaluation: z
    .object({
      metric: metricNameSchema,
      /** The window's metric and the baseline (the mean over the champion's validation splits); null when unknown. */
      value: z.number().nullable(),
      baseline: z.number().nullable(),
      /** Relative degradation (positive = worse); null when unknown or unbounded (a zero baseline). */
      degradation: z.number().nullable(),
      reason: z.string(),
      segments: z.record(z.string(), z.object({ verdict: policyVerdictSchema, degradation: z.number().nullable(), reason: z.string() })),
      /** When it was judged. */
      evaluatedAt: isoDateTimeSchema,
      /**
       * The `performance.updatedAt` it judged (null: no actuals yet). A window whose performance
       * carries another one is judged again (late actuals). Evaluations stored without it are
       * judged again when `performance.updatedAt` is later than `evaluatedAt`.
       */
      judgedUpdatedAt: isoDateTimeSchema.nullable().optional(),
    })
    .optional(),
  /** What the window's breach did: the retraining request it raised, or why it raised none. */
  retraining: z
    .object({
      reason: retrainingReasonSchema,
      requestId: z.string().nullable(),
      blockedBy: z.string().optional(),
    })
    .optional(),
});
export type MonitoringWindow = z.infer<typeof monitoringWindowSchema>;

/** A retraining request and what became of it. Its id is the queue message id. */
export const retrainingRecordSchema = z.object({
  /** `retrain:{model}:{windowId}` */
  requestId: z.string().min(1).max(128),
  modelName: modelNameSchema,
  /** The champion whose monitoring raised it. */
  version: versionNumberSchema,
  reason: retrainingReasonSchema,
  windowId: windowIdSchema,
  state: z.enum(['queued', 'training', 'registered', 'closed', 'failed']),
  requestedAt: isoDateTimeSchema,
  trainer: z.string().optional(),
  /** The version the trainer produced; the request closes when its lifecycle decides. */
  resultVersion: versionNumberSchema.optional(),
  outcome: z.string().optional(),
  closedAt: isoDateTimeSchema.optional(),
  error: z.string().optional(),
  /** The built-in trainer's data: where it came from, how many rows, what was left out and why. */
  training: z
    .object({
      source: z.enum(['labelled', 'training_set']),
      /** The labelled windows (newest first), or the training set's path. */
      from: z.array(z.string()),
      trainRows: count,
      validationRows: count,
      /** Rows left out, by reason (no run, drop changed or gone, row not in the drop, unusable actual, ...). */
      skipped: z.record(z.string(), count),
      /**
       * Rows of train.csv and validation.csv the built-in trainer could not use, by reason: refused
       * by row validation (`missing_value:{column}`, ...), `unusable_actual`, or `transform`.
       */
      refused: z.record(z.string(), count).optional(),
      /** `datasets/{model}/retraining/{windowId}/train.csv` and `validation.csv`. */
      datasets: z.array(z.string()),
    })
    .optional(),
  updatedAt: isoDateTimeSchema.optional(),
});
export type RetrainingRecord = z.infer<typeof retrainingRecordSchema>;

/** Per model: where monitoring stands (the next window to evaluate, the alert history). */
export const monitorStateSchema = z.object({
  modelName: modelNameSchema,
  /** Windows before this one are evaluated. */
  evaluatedUntil: isoDateTimeSchema.nullable(),
  /** Window verdicts, oldest first (bounded), for the consecutive-windows rule. */
  recent: z.array(z.enum(['drift', 'no_drift', 'insufficient_data'])),
  lastAlertAt: isoDateTimeSchema.nullable(),
  updatedAt: isoDateTimeSchema,
  /**
   * The drift monitor run judging the model now (a run id, renewed as it goes): until `until`
   * another run (the timer and an admin call at once) leaves the model to it. Null when released.
   */
  lease: z.object({ holder: z.string().min(1).max(128), until: isoDateTimeSchema }).nullable().optional(),
});
export type MonitorState = z.infer<typeof monitorStateSchema>;

/**
 * A version's reference for drift and new flavours (`profiles/{model}/v{version}/reference.json`):
 * its validation data's features and predictions, profiled at validation, overall and per segment.
 */
export const referenceProfileSchema = z.object({
  schemaVersion: z.literal(1),
  model: modelNameSchema,
  version: versionNumberSchema,
  /** The dataset it was built from. */
  source: z.string(),
  overall: profileSchema,
  segments: z.record(z.string(), profileSchema),
  /** Segment keys with more values than the cap, by key: the rest are profiled as `key=__other__`. */
  cappedSegments: z.record(z.string(), profileSegmentCapSchema).optional(),
});
export type ReferenceProfile = z.infer<typeof referenceProfileSchema>;

/** `_manifest.json` of a predictions folder, written when every part is in place. */
export const predictionManifestSchema = z.object({
  schemaVersion: z.literal(1),
  model: modelNameSchema,
  version: versionNumberSchema,
  runId: z.string(),
  sources: z.array(z.object({ path: z.string(), etag: z.string(), size: count })),
  parts: z.array(z.object({ path: z.string(), chunk: count, rows: count })),
  rows: count,
  quarantinedRows: count,
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  createdAt: isoDateTimeSchema,
});
export type PredictionManifest = z.infer<typeof predictionManifestSchema>;

const sourceRefSchema = z.object({ path: z.string().min(1), etag: z.string().min(1), size: count, lastModified: isoDateTimeSchema });

/** The input of the `batchInference` orchestration. */
export const batchInputSchema = z.object({
  model: modelNameSchema,
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  kind: z.enum(['batch', 'scheduled']),
  sources: z.array(sourceRefSchema).min(1),
  /** Chunks scored at once (BATCH_MAX_PARALLEL_CHUNKS when the run started). */
  maxParallel: z.number().int().min(1).max(256),
  scheduledFor: isoDateTimeSchema.optional(),
  correlationId: z.string().min(1).max(128).optional(),
  /** The span that started the run (the blob trigger's): the orchestration and its activities are traced under it. */
  traceparent: traceparentSchema.optional(),
});
export type BatchInput = z.infer<typeof batchInputSchema>;

/**
 * Documents of a list that the store holds but cannot read (damaged, or stored under rules that
 * have since tightened), by id, with why: listed apart instead of failing the whole list.
 */
export const unreadableDocumentsSchema = z.array(z.object({ id: z.string(), reason: z.string() }));

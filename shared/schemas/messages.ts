import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, versionNumberSchema } from './common';
import { profileSegmentCapSchema } from './profile';

/** Why a retraining request was raised. */
export const retrainingReasonSchema = z.enum(['drift', 'performance', 'new-segment', 'schedule', 'manual']);

/** The monitoring window a request is about; its id is part of the deduplication key. */
export const monitoringWindowRefSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'window ids are 1-64 letters, digits, ".", "_" or "-"'),
  start: isoDateTimeSchema,
  end: isoDateTimeSchema,
});

/**
 * A request to retrain a model, sent on the `retraining-requests` queue (one message per request).
 * `version` is the production version whose monitoring raised it.
 */
export const retrainingRequestSchema = z.object({
  model: modelNameSchema,
  version: versionNumberSchema,
  reason: retrainingReasonSchema,
  window: monitoringWindowRefSchema,
  requestedAt: isoDateTimeSchema,
  /** Free-form evidence for the trainer and the audit trail (drift statistics, metrics). */
  evidence: z.record(z.string(), z.unknown()).default({}),
  correlationId: z.string().min(1).max(128).optional(),
});
export type RetrainingRequest = z.infer<typeof retrainingRequestSchema>;
export type RetrainingRequestInput = z.input<typeof retrainingRequestSchema>;

/**
 * The id of the retraining request a model's monitoring window raises: the queue message id (so
 * the queue's duplicate detection drops a resend) and the `RetrainingRecord` id. One request per
 * model and window, whatever the reason or the champion's version.
 */
export function retrainingRequestId(model: string, windowId: string): string {
  return `retrain:${model}:${windowId}`;
}

/** The deduplication key of a request, used as its Service Bus message id: `retrain:{model}:{windowId}`. */
export function retrainingDeduplicationKey(request: Pick<RetrainingRequest, 'model' | 'window'>): string {
  return retrainingRequestId(request.model, request.window.id);
}

/** Service Bus refuses a message id longer than this. */
export const MAX_EVENT_ID_LENGTH = 128;

const eventBase = {
  /** Unique per event; also the Service Bus message id, so a republished event is dropped. */
  eventId: z.string().min(1).max(MAX_EVENT_ID_LENGTH),
  model: modelNameSchema,
  version: versionNumberSchema.optional(),
  occurredAt: isoDateTimeSchema,
  correlationId: z.string().min(1).max(128).optional(),
};

/** Lifecycle, drift and run events published on the `model-events` topic; `type` is the subject. */
export const modelEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...eventBase,
    type: z.literal('model.created'),
    data: z.object({ actor: z.string().min(1) }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('model.updated'),
    /** The definition changed (`PATCH /models/{model}`); the ledger entry has the values before and after. */
    data: z.object({
      actor: z.string().min(1),
      /** The definition's revision after the update. */
      revision: z.number().int().positive(),
      /** Dotted paths of the changed fields, e.g. `policies.drift.distanceThreshold`. */
      changedPaths: z.array(z.string().min(1)).min(1),
      reason: z.string().optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('version.registered'),
    data: z.object({ actor: z.string().min(1), artifactSha256: z.string().min(1) }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('lifecycle.changed'),
    data: z.object({
      from: z.string().min(1),
      to: z.string().min(1),
      /** The lifecycle command that moved the version (approve, promote, expire, ...). */
      command: z.string().min(1).optional(),
      actor: z.string().optional(),
      actorKind: z.enum(['user', 'system']).optional(),
      reason: z.string().optional(),
      /** The validation evidence the change was decided on, when there is one. */
      evidenceHash: z.string().optional(),
      revision: z.number().int().positive().optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('version.revalidated'),
    data: z.object({
      actor: z.string().min(1),
      evidenceHash: z.string().min(1),
      decision: z.enum(['pass', 'fail']),
      reason: z.string().min(1),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('champion.changed'),
    data: z.object({
      epoch: z.number().int().positive(),
      from: z.number().int().positive().nullable(),
      to: z.number().int().positive().nullable(),
      cause: z.enum(['promote', 'rollback']),
      actor: z.string().min(1),
      reason: z.string().optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('drift.evaluated'),
    data: z.object({
      windowId: z.string().min(1),
      verdict: z.enum(['ok', 'warning', 'breach', 'insufficient_data']),
      scores: z.record(z.string(), z.number()).default({}),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('drift.detected'),
    data: z.object({
      windowId: z.string().min(1),
      columns: z.array(z.string()).default([]),
      scores: z.record(z.string(), z.number()).default({}),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('run.completed'),
    data: z.object({
      runId: z.string().min(1),
      kind: z.enum(['batch-inference', 'scheduled-inference', 'actuals-join']),
      rows: z.number().int().nonnegative(),
      quarantinedRows: z.number().int().nonnegative().default(0),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('flavour.detected'),
    data: z.object({
      runId: z.string().min(1),
      /** Segment values the champion's validation data never had, per segment key. */
      newSegmentValues: z.record(z.string(), z.array(z.string())),
      unseenCategories: z.record(z.string(), z.array(z.string())).default({}),
      outOfRange: z.record(z.string(), z.number().int().nonnegative()).default({}),
      /** Values per key (segment key or column) left out to keep the message small; the run document lists them all. */
      omittedValues: z.record(z.string(), z.number().int().positive()).optional(),
      /**
       * Segment keys past the cap (SEGMENT_MAX_VALUES): values seen (at least), the cap, and the rows
       * counted as `key=__other__`, whose values are named nowhere.
       */
      segmentValuesCapped: z.record(z.string(), profileSegmentCapSchema).optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('actuals.late_matched'),
    /** Actuals a join left unmatched, labelled later against a run that completed after it (one event per pair). */
    data: z.object({
      actualsId: z.string().min(1),
      /** The run whose predictions they were matched to. */
      runId: z.string().min(1),
      /** Rows labelled (ids matched), each in `labelled/{windowId}/{actualsId}~{runId}.parquet`. */
      matched: z.number().int().nonnegative(),
      /** Windows those rows are in; their realised performance is recomputed. At most MAX_LATE_MATCH_EVENT_WINDOWS, the first by id. */
      windows: z.array(z.string().min(1)),
      /** Windows left out of `windows` to keep the message within Service Bus's 256 KB; the record's `lateMatches` lists them all. */
      omittedWindows: z.number().int().positive().optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('run.failed'),
    data: z.object({ runId: z.string().min(1), error: z.string() }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('retraining.requested'),
    data: z.object({ reason: retrainingReasonSchema, windowId: z.string().min(1) }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('retraining.changed'),
    data: z.object({
      /** `retrain:{model}:{windowId}` */
      requestId: z.string().min(1).max(128),
      /** The request's new state (a RetrainingRecord's `state`). */
      state: z.enum(['queued', 'training', 'registered', 'closed', 'failed']),
      trainer: z.string().optional(),
      resultVersion: z.number().int().positive().optional(),
      /** closed: the state the produced version's lifecycle ended in. */
      outcome: z.string().optional(),
      error: z.string().optional(),
    }),
  }),
]);
export type ModelEvent = z.infer<typeof modelEventSchema>;
export type ModelEventInput = z.input<typeof modelEventSchema>;
export type ModelEventType = ModelEvent['type'];

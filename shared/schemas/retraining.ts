import { z } from 'zod';

import { isWindowId } from '../domain/windows';
import { isoDurationSchema, modelNameSchema, traceparentSchema, versionNumberSchema } from './common';
import { retrainingRequestSchema } from './messages';
import { retrainingRecordSchema, unreadableDocumentsSchema } from './monitoring';
import { pageLinksShape } from './paging';

/**
 * Retraining: what an external pipeline answers, the `webhookRetraining` orchestration's input and
 * events, and the API's bodies. Recorded in durable history or sent over HTTP: they only grow,
 * additively.
 */

/** A request id as it appears in routes: `retrain:{model}:{windowId}`. */
export const requestIdSchema = z.string().regex(/^retrain:[a-z][a-z0-9-]{1,62}:\d{8}T\d{4}Z$/, 'a request id is retrain:{model}:{windowId}');

/**
 * What an external training pipeline reports (`POST .../retraining/{requestId}/complete`): the
 * version it registered (through the API or a package), or why it failed.
 */
export const retrainingCompletionSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('registered'), version: versionNumberSchema }),
  z.strictObject({ outcome: z.literal('failed'), error: z.string().trim().min(1).max(2000) }),
]);
export type RetrainingCompletion = z.infer<typeof retrainingCompletionSchema>;

/** The external event the `webhookRetraining` orchestration waits for. */
export const RETRAINING_COMPLETE_EVENT = 'retrainingComplete';

/** Input of the `webhookRetraining` orchestration (a webhook trainer), instance id = request id. */
export const retrainingInputSchema = z.object({
  requestId: requestIdSchema,
  model: modelNameSchema,
  request: retrainingRequestSchema,
  /** The retraining trigger's span: the orchestration and its activities are traced under it. */
  traceparent: traceparentSchema.optional(),
});
export type RetrainingInput = z.infer<typeof retrainingInputSchema>;

/** What the submit activity tells the orchestration: how long to wait for the pipeline. */
export const retrainingSubmittedSchema = z.object({ timeout: isoDurationSchema });
export type RetrainingSubmitted = z.infer<typeof retrainingSubmittedSchema>;

export const recordResultInputSchema = z.object({ requestId: requestIdSchema, model: modelNameSchema, version: versionNumberSchema });
export const recordFailureInputSchema = z.object({ requestId: requestIdSchema, model: modelNameSchema, error: z.string().min(1) });

/** What a webhook trainer receives (POST, JSON; header `Idempotency-Key` = requestId). */
export const trainingJobSchema = z.object({
  requestId: requestIdSchema,
  request: retrainingRequestSchema,
  /** Where to report: POST with a RetrainingCompletion body, as MLOps.Contributor. */
  complete: z.object({ method: z.literal('POST'), path: z.string() }),
  /** Register the result with lineage `{ source, parentVersion, trainingRun }`. */
  lineage: z.object({ parentVersion: versionNumberSchema, trainingRun: z.string() }),
});
export type TrainingJob = z.infer<typeof trainingJobSchema>;

/**
 * A request id in a route: the route's model and a window that exists (`retrain:churn:20260230T0000Z`
 * names neither an instant nor a request), so a malformed id is a 400 before anything is read, as a
 * monitoring window's id is.
 */
export const retrainingParamsSchema = z
  .object({ model: modelNameSchema, requestId: requestIdSchema })
  .superRefine(({ model, requestId }, ctx) => {
    // Not of the pattern at all: that issue is reported already, and says enough.
    if (!requestIdSchema.safeParse(requestId).success) return;
    const [, named, windowId] = requestId.split(':');
    if (named !== model) ctx.addIssue({ code: 'custom', path: ['requestId'], message: `a request id of model '${model}' is retrain:${model}:{windowId}` });
    if (windowId !== undefined && !isWindowId(windowId)) ctx.addIssue({ code: 'custom', path: ['requestId'], message: 'its window id is the UTC start of an instant that exists, as YYYYMMDDTHHmmZ (20260301T0000Z)' });
  });

export const retrainingListSchema = z.object({
  model: modelNameSchema,
  /** Newest first. */
  requests: z.array(retrainingRecordSchema),
  unreadable: unreadableDocumentsSchema,
  ...pageLinksShape,
});

export const retrainingAcceptedSchema = z.object({
  requestId: requestIdSchema,
  outcome: z.enum(['registered', 'failed']),
  /** The retraining orchestration took the report; it records it on the request. */
  accepted: z.literal(true),
});

/** `datasets/{model}/retraining/{windowId}/snapshot.json`: what a built-in retraining's train.csv and validation.csv hold. */
export const trainingSnapshotSchema = z.object({
  source: z.enum(['labelled', 'training_set']),
  /** Labelled windows read (newest first), or the training set's path. */
  from: z.array(z.string()),
  trainPath: z.string(),
  validationPath: z.string(),
  trainRows: z.number().int().nonnegative(),
  validationRows: z.number().int().nonnegative(),
  skipped: z.record(z.string(), z.number().int().nonnegative()),
});
export type TrainingSnapshot = z.infer<typeof trainingSnapshotSchema>;

import { z } from 'zod';

import { isoDurationSchema, modelNameSchema, sha256Schema, traceparentSchema, versionNumberSchema } from './common';
import { validationOutcomeSchema } from './evidence';
import { lifecycleStateSchema } from './lifecycle';

/**
 * Inputs and outputs of the `modelLifecycle` orchestration and its activities. They are recorded
 * in durable history: they may only grow, additively.
 */

export const versionRefSchema = z.object({ model: modelNameSchema, version: versionNumberSchema });
export type VersionRef = z.infer<typeof versionRefSchema>;

export const lifecycleInputSchema = versionRefSchema.extend({
  /** Why the lifecycle runs: a new registration, a revalidation with new evidence, or reconciliation starting it again over an instance that ended or is gone. */
  reason: z.enum(['registered', 'revalidation', 'restarted']).default('registered'),
  correlationId: z.string().min(1).max(128).optional(),
  /** The span that started the lifecycle (the registration's): the orchestration and its activities are traced under it. */
  traceparent: traceparentSchema.optional(),
});
export type LifecycleInput = z.input<typeof lifecycleInputSchema>;

/** What the orchestration needs to know about a version and its model's approval policy. */
export const lifecycleFactsSchema = z.object({
  state: lifecycleStateSchema,
  evidenceHash: sha256Schema.optional(),
  approval: z.object({ timeout: isoDurationSchema, autoApprove: z.boolean(), promoteOnApproval: z.boolean() }),
  /**
   * When the version entered `pending_approval`, while it is there: a lifecycle started again over
   * a waiting version keeps its deadline (absent in histories recorded before it was added).
   */
  pendingSince: z.iso.datetime({ offset: true }).optional(),
});
export type LifecycleFacts = z.infer<typeof lifecycleFactsSchema>;

/** A champion validated again on a new data flavour (`revalidateChampion`). */
export const revalidationInputSchema = versionRefSchema.extend({
  /** The actuals file that labelled the new flavour. */
  actualsId: z.string().min(1),
  /** When a late match labelled it: the run the file's actuals were matched to later. */
  runId: z.string().min(1).optional(),
  /** The labelled windows the data comes from. */
  windows: z.array(z.string().min(1)),
  /** Segments (`key=value`) the version's validation data never had. */
  newSegments: z.array(z.string().min(1)).min(1),
  /** The actuals join's trace, which the revalidation and its activities continue. */
  traceparent: traceparentSchema.optional(),
});
export type RevalidationInput = z.infer<typeof revalidationInputSchema>;

export const validateInputSchema = versionRefSchema.extend({ validatedAt: z.iso.datetime({ offset: true }), dataset: z.string().min(1).optional() });
export const recordValidationInputSchema = versionRefSchema.extend({ outcome: validationOutcomeSchema });
/** Validation could not be completed (it failed for good, or its outcome could not be recorded): the version fails validation with the reason. */
export const failValidationInputSchema = versionRefSchema.extend({ reason: z.string().min(1), evidenceHash: sha256Schema.optional() });
export const autoApproveInputSchema = versionRefSchema.extend({ evidenceHash: sha256Schema });
/** Nobody decided in time; the reason (the deadline and the timeout) goes on the version's history and the ledger. Optional: histories recorded before it passed the bare reference. */
export const expireInputSchema = versionRefSchema.extend({ reason: z.string().min(1).max(2000).optional() });
/** The lifecycle ended: the state it left the version in closes the retraining request that produced it. */
export const closeRetrainingInputSchema = versionRefSchema.extend({ outcome: lifecycleStateSchema });

/** The state a transition activity left the version in (it may be another's, when a person was faster). */
export const stateResultSchema = z.object({
  state: lifecycleStateSchema,
  evidenceHash: sha256Schema.optional(),
  /** Why the step left the version where it is when that is not what it set out to do (a promotion another change beat). */
  reason: z.string().min(1).max(2000).optional(),
  /**
   * When the version entered `pending_approval`, while it is there: a fresh wait's deadline runs
   * from it, as the approval watch's does (absent in histories recorded before it was added).
   */
  pendingSince: z.iso.datetime({ offset: true }).optional(),
});
export type StateResult = z.infer<typeof stateResultSchema>;

/** The `approval` external event: raised after a person's decision was written, so the lifecycle wakes up. */
export const APPROVAL_EVENT = 'approval';
export const approvalEventSchema = z.object({
  decision: z.enum(['approved', 'rejected', 'retired']),
  by: z.string().min(1).max(256),
});
export type ApprovalEvent = z.infer<typeof approvalEventSchema>;

/** Where the lifecycle is, as custom status (the management API and `GET .../versions/{v}` show it). */
export const lifecycleStepSchema = z.enum(['starting', 'validating', 'pending_approval', 'promoting', 'done']);
export const lifecycleStatusSchema = z.object({
  step: lifecycleStepSchema,
  state: lifecycleStateSchema.optional(),
  evidenceHash: sha256Schema.optional(),
  approvalDeadline: z.iso.datetime({ offset: true }).optional(),
  reasons: z.array(z.string()).optional(),
});
export type LifecycleStatus = z.infer<typeof lifecycleStatusSchema>;

export const lifecycleOutputSchema = versionRefSchema.extend({
  /** The state the lifecycle left the version in. */
  outcome: lifecycleStateSchema,
  evidenceHash: sha256Schema.optional(),
  reasons: z.array(z.string()).optional(),
});
export type LifecycleOutput = z.infer<typeof lifecycleOutputSchema>;

/**
 * What an activity hands back: its value, or the expected failure (a DomainError) that retrying
 * would not cure. Outages are thrown instead, so the retry policy handles them.
 */
export const activityResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type ActivityResult = z.infer<typeof activityResultSchema>;

import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, sha256Schema, versionNumberSchema } from './common';
import { metricDirectionSchema } from './metrics';
import { metricNameSchema } from './policies';

/** `GET /approvals`: one model's versions only, and only those the caller may (or may not) decide. */
export const approvalsQuerySchema = z.strictObject({
  model: modelNameSchema.optional(),
  youMayDecide: z
    .enum(['true', 'false'], { error: "youMayDecide is 'true' or 'false'" })
    .transform((text) => text === 'true')
    .optional(),
});
export type ApprovalsQuery = z.infer<typeof approvalsQuerySchema>;

/**
 * What an approver triages a version by, from its validation evidence: the decision, and the
 * candidate against the champion on the split least favourable to the candidate. The evidence in
 * full is on `GET /models/{model}/versions/{version}`.
 */
export const validationSummarySchema = z.object({
  decision: z.enum(['pass', 'fail']),
  validatedAt: isoDateTimeSchema,
  /** The champion it was compared with on the same rows; null when the model had none. */
  championVersion: versionNumberSchema.nullable(),
  /** Rows scored with a usable actual; null when the validation data could not be read. */
  rowsEvaluated: z.number().int().nonnegative().nullable(),
  /** How many train/validation partitions were evaluated (one per split, k per k-fold). */
  splits: z.number().int().nonnegative(),
  /**
   * The split with the largest regression against the champion (the first split when there is no
   * champion to regress against); null when no split was evaluated.
   */
  headline: z
    .object({
      split: z.string(),
      metric: metricNameSchema,
      direction: metricDirectionSchema,
      challenger: z.number().nullable(),
      champion: z.number().nullable(),
      /** Relative degradation of the challenger (this version) against the champion (positive = worse); null without a champion. */
      regressionVsChampion: z.number().nullable(),
    })
    .nullable(),
});
export type ValidationSummary = z.infer<typeof validationSummarySchema>;

/**
 * Where a waiting version's deadline comes from: `lifecycle` (its running lifecycle reports it in its
 * custom status), or `policy` (pendingSince plus the model's approval timeout now: no lifecycle
 * runs or reports one, or its status could not be read in time).
 */
export const deadlineSourceSchema = z.enum(['lifecycle', 'policy']);
export type DeadlineSource = z.infer<typeof deadlineSourceSchema>;

/** One version waiting for a decision, as the approvals inbox lists it (its links are added by the HTTP layer). */
export const awaitingApprovalSchema = z.object({
  model: modelNameSchema,
  version: versionNumberSchema,
  /** When it entered pending_approval. */
  pendingSince: isoDateTimeSchema,
  /** When its lifecycle expires it: the deadline the running lifecycle reports, else pendingSince plus the model's `policies.approval.timeout`. */
  deadline: isoDateTimeSchema,
  deadlineSource: deadlineSourceSchema,
  /** Milliseconds until the deadline when the inbox was read; negative once it has passed. */
  timeLeftMs: z.number(),
  /** The hash an approve or reject must quote; null for a version that carries none (it cannot be decided). */
  evidenceHash: sha256Schema.nullable(),
  registeredBy: z.string(),
  /** Null when the evidence cannot be read: `evidenceUnreadable` says why. */
  validation: validationSummarySchema.nullable(),
  evidenceUnreadable: z.string().optional(),
  /** Whether approve and reject would accept this caller (the role the routes and the model's policy need, separation of duties). */
  youMayDecide: z.boolean(),
  /** Why not, when youMayDecide is false. */
  whyNot: z.string().optional(),
});
export type AwaitingApproval = z.infer<typeof awaitingApprovalSchema>;

/**
 * What the inbox could not read, and why: a model whose stored document does not read (no
 * `version`: none of its versions is listed), or one waiting version of it whose stored document
 * does not read (`version`; absent too when not even its number can be told, and then the reason
 * names the stored document). The model's other versions are listed all the same.
 */
export const unreadableApprovalsSchema = z.array(z.object({ model: z.string(), version: versionNumberSchema.optional(), reason: z.string() }));

export const approvalsInboxSchema = z.object({
  /** Soonest deadline first. */
  approvals: z.array(
    awaitingApprovalSchema.extend({
      links: z.object({ version: z.string(), approve: z.string(), reject: z.string() }),
    }),
  ),
  unreadable: unreadableApprovalsSchema,
});

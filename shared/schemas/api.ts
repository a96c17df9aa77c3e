import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, sha256Schema, versionNumberSchema } from './common';
import { validationEvidenceSchema } from './evidence';
import { lifecycleStateSchema } from './lifecycle';
import { modelInputSchema, modelTaskSchema } from './model';
import { modelVersionSchema } from './model-version';
import { monitoringWindowSchema, monitorStateSchema, unreadableDocumentsSchema } from './monitoring';
import { pageLinksShape, pageQueryShape } from './paging';
import { auditEventSchema, championPointerSchema } from './registry';

/** Request and response bodies of the management API (`/api/...`); the OpenAPI document is generated from them. */

const reason = z.string().trim().min(1).max(2000);

/** A version number in a path or query: digits only (no sign, leading zero, exponent or spaces). */
const versionTextSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a version is a positive whole number written in digits (1, 2, ...)')
  .transform(Number)
  .pipe(versionNumberSchema);

export const modelParamsSchema = z.object({ model: modelNameSchema });
export const versionParamsSchema = modelParamsSchema.extend({ version: versionTextSchema });

export const approveBodySchema = z.strictObject({
  /** The evidence hash the approver read (GET .../versions/{version}); must still be the version's. */
  evidenceHash: sha256Schema,
  comment: z.string().max(2000).optional(),
});
export const rejectBodySchema = z.strictObject({ evidenceHash: sha256Schema, reason });
export const retireBodySchema = z.strictObject({ reason: reason.optional() });
export const promoteBodySchema = z.strictObject({ version: versionNumberSchema, reason: reason.optional() });
export const rollbackBodySchema = z.strictObject({ reason });

/**
 * A query's time range in order: `from` after `to` (or, for a half-open range, at it) can match
 * nothing, so it is a 400 saying so rather than an empty list that reads as "nothing happened".
 */
const rangeInOrder = (halfOpen: boolean) => (q: { from?: string | undefined; to?: string | undefined }) => {
  if (q.from === undefined || q.to === undefined) return true;
  const [from, to] = [Date.parse(q.from), Date.parse(q.to)];
  // A bound that is no time at all has its own issue; calling the range out of order too would mislead.
  if (Number.isNaN(from) || Number.isNaN(to)) return true;
  return halfOpen ? from < to : from <= to;
};

export const auditQuerySchema = z
  .strictObject({
    from: isoDateTimeSchema.optional(),
    to: isoDateTimeSchema.optional(),
    version: versionTextSchema.optional(),
    ...pageQueryShape,
  })
  .refine(rangeInOrder(false), { message: "'from' is after 'to': the range holds no time", path: ['from'] });
export const modelsQuerySchema = z.strictObject(pageQueryShape);
export const championQuerySchema = z.strictObject({ at: isoDateTimeSchema.optional() });

export const versionSummarySchema = z.object({
  model: modelNameSchema,
  version: versionNumberSchema,
  state: lifecycleStateSchema,
  registrant: z.string(),
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
  artifactSha256: sha256Schema,
  evidenceHash: sha256Schema.optional(),
});
export type VersionSummary = z.infer<typeof versionSummarySchema>;

export const modelSummarySchema = z.object({
  name: modelNameSchema,
  task: modelTaskSchema,
  description: z.string(),
  latestVersion: z.number().int().nonnegative(),
  champion: versionNumberSchema.nullable(),
  createdAt: isoDateTimeSchema,
  createdBy: z.string(),
});

export const modelListSchema = z.object({
  models: z.array(modelSummarySchema),
  /** Models whose stored document cannot be read (damaged, or stored under rules since tightened), with why. */
  unreadable: z.array(z.object({ name: z.string(), reason: z.string() })),
  ...pageLinksShape,
});

export const modelDetailSchema = z.object({
  definition: modelInputSchema,
  createdAt: isoDateTimeSchema,
  createdBy: z.string(),
  /** When the definition last changed (its creation until an update). */
  updatedAt: isoDateTimeSchema,
  /** How many times the definition was updated (0: as created); the ETag names it. */
  revision: z.number().int().nonnegative(),
  champion: championPointerSchema,
  versions: z.array(versionSummarySchema),
});

/** The lifecycle orchestration of a version, as the Durable management API reports it. */
export const lifecycleRunSchema = z.object({
  instanceId: z.string(),
  runtimeStatus: z.string(),
  customStatus: z.unknown().optional(),
  createdTime: isoDateTimeSchema.optional(),
  lastUpdatedTime: isoDateTimeSchema.optional(),
});

export const versionDetailSchema = z.object({
  version: modelVersionSchema,
  evidence: validationEvidenceSchema.nullable(),
  lifecycle: lifecycleRunSchema.nullable(),
});

export const registeredSchema = z.object({
  model: modelNameSchema,
  version: versionNumberSchema,
  state: lifecycleStateSchema,
  /** false when this package (same Idempotency-Key, or same artifact and manifest) was registered before. */
  created: z.boolean(),
  artifactSha256: sha256Schema,
  links: z.object({ self: z.string(), lifecycle: z.string() }),
});

export const decisionResultSchema = versionSummarySchema.extend({
  /** Whether the version's lifecycle was told (it then promotes, or ends). */
  lifecycleNotified: z.boolean(),
});

export const auditListSchema = z.object({ model: modelNameSchema, entries: z.array(auditEventSchema), ...pageLinksShape });

export const championAnswerSchema = z.object({
  model: modelNameSchema,
  /** The time asked about; absent for the current champion. */
  at: isoDateTimeSchema.optional(),
  version: versionNumberSchema.nullable(),
  pointer: championPointerSchema.optional(),
});

export const healthSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  dependencies: z.array(
    z.object({ name: z.string(), ok: z.boolean(), ms: z.number(), error: z.string().optional() }),
  ),
});

/** `GET /models/{model}/monitoring`: windows that overlap [from, to). */
export const monitoringQuerySchema = z
  .strictObject({
    from: isoDateTimeSchema.optional(),
    to: isoDateTimeSchema.optional(),
    ...pageQueryShape,
  })
  .refine(rangeInOrder(true), { message: "'from' is not before 'to': the range [from, to) holds no time", path: ['from'] });

export const monitoringAnswerSchema = z.object({
  model: modelNameSchema,
  /** Where the drift monitor stands for the model; null before its first run, or when its document does not read (then in `unreadable`, id `monitor`). */
  monitor: monitorStateSchema.nullable(),
  /** Newest first. */
  windows: z.array(monitoringWindowSchema),
  unreadable: unreadableDocumentsSchema,
  ...pageLinksShape,
});

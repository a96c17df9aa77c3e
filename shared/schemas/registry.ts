import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, versionNumberSchema } from './common';
import { actorSchema, transitionEventSchema } from './lifecycle';
import { modelInputSchema } from './model';

/** A registered model: its definition (input with defaults) and the registry's bookkeeping. */
export const modelRecordSchema = z.object({
  modelName: modelNameSchema,
  definition: modelInputSchema,
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
  createdBy: z.string().min(1).max(256),
  /** Highest version number registered so far (0 before the first). */
  latestVersion: z.number().int().nonnegative(),
});
export type ModelRecord = z.infer<typeof modelRecordSchema>;

/** The ledger entry written when the champion pointer moves. */
export const championChangedEventSchema = z.object({
  /** Deterministic: `{model}:champion:{epoch}`. */
  id: z.string().min(1),
  kind: z.literal('champion_changed'),
  modelName: modelNameSchema,
  /** The pointer's epoch after the change (1 for the first champion). */
  epoch: z.number().int().positive(),
  from: versionNumberSchema.nullable(),
  to: versionNumberSchema.nullable(),
  cause: z.enum(['promote', 'rollback']),
  actor: actorSchema,
  at: isoDateTimeSchema,
  reason: z.string().optional(),
});
export type ChampionChangedEvent = z.infer<typeof championChangedEventSchema>;

/**
 * Which version serves production for a model. One document per model, swapped with an ETag
 * guard; `previous` is the stack of earlier champions a rollback returns to (most recent last).
 */
export const championPointerSchema = z.object({
  modelName: modelNameSchema,
  version: versionNumberSchema.nullable(),
  previous: z.array(versionNumberSchema).default([]),
  epoch: z.number().int().nonnegative(),
  since: isoDateTimeSchema,
  /** The change that produced this pointer, kept so an interrupted swap can finish its ledger entry. */
  lastChange: championChangedEventSchema.optional(),
});
export type ChampionPointer = z.infer<typeof championPointerSchema>;

export const modelCreatedEventSchema = z.object({
  /** Deterministic: `{model}:created`. */
  id: z.string().min(1),
  kind: z.literal('model_created'),
  modelName: modelNameSchema,
  actor: actorSchema,
  at: isoDateTimeSchema,
});

export const versionRegisteredEventSchema = z.object({
  /** Deterministic: `{model}:v{version}:r0`. */
  id: z.string().min(1),
  kind: z.literal('version_registered'),
  modelName: modelNameSchema,
  version: versionNumberSchema,
  actor: actorSchema,
  at: isoDateTimeSchema,
  artifactSha256: z.string(),
});

/**
 * A production version validated again on new evidence (data with a segment value its validation
 * data never had): its state does not change; the evidence bundle shows how it does on it.
 */
export const versionRevalidatedEventSchema = z.object({
  /** Deterministic: `{model}:v{version}:revalidated:{evidenceHash}`. */
  id: z.string().min(1),
  kind: z.literal('version_revalidated'),
  modelName: modelNameSchema,
  version: versionNumberSchema,
  actor: actorSchema,
  at: isoDateTimeSchema,
  evidenceHash: z.string().min(1),
  decision: z.enum(['pass', 'fail']),
  /** What prompted it, e.g. the new segment values and the actuals file that labelled them. */
  reason: z.string().min(1),
});
export type VersionRevalidatedEvent = z.infer<typeof versionRevalidatedEventSchema>;

/** An entry of the append-only audit ledger (Cosmos `audit`, pk `/modelName`). */
export const auditEventSchema = z.discriminatedUnion('kind', [
  modelCreatedEventSchema,
  versionRegisteredEventSchema,
  transitionEventSchema,
  championChangedEventSchema,
  versionRevalidatedEventSchema,
]);
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditEventKind = AuditEvent['kind'];

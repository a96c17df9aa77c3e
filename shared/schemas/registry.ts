import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, versionNumberSchema } from './common';
import { actorSchema, transitionEventSchema } from './lifecycle';
import { modelInputSchema } from './model';

/** The longest reason an update of a model's definition may give (it goes on the ledger and the event). */
export const MAX_UPDATE_REASON = 2000;

/** One changed leaf of a definition, as the ledger records it (shared/domain/model-changes.ts). */
export const definitionChangeSchema = z.object({
  /** Dotted path in the definition, e.g. `policies.drift.distanceThreshold`; arrays are changed whole. */
  path: z.string().min(1),
  /** The value before; absent when there was none (a schedule added). */
  from: z.unknown().optional(),
  /** The value after; absent when it was removed. */
  to: z.unknown().optional(),
  /** `from`/`to` are previews of values too large for the ledger; the stored definition has them whole. */
  truncated: z.literal(true).optional(),
});

/** The ledger entry of an update of a model's definition (`PATCH /models/{model}`). */
export const modelUpdatedEventSchema = z.object({
  /** Deterministic: `{model}:updated:{revision}`. */
  id: z.string().min(1),
  kind: z.literal('model_updated'),
  modelName: modelNameSchema,
  /** The definition's revision after the update (1 for the first). */
  revision: z.number().int().positive(),
  actor: actorSchema,
  at: isoDateTimeSchema,
  reason: z.string().max(MAX_UPDATE_REASON).optional(),
  changes: z.array(definitionChangeSchema).min(1),
});
export type ModelUpdatedEvent = z.infer<typeof modelUpdatedEventSchema>;

/** A registered model: its definition (input with defaults) and the registry's bookkeeping. */
export const modelRecordSchema = z.object({
  modelName: modelNameSchema,
  definition: modelInputSchema,
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
  createdBy: z.string().min(1).max(256),
  /** Highest version number registered so far (0 before the first). */
  latestVersion: z.number().int().nonnegative(),
  /** How many times the definition was updated; absent until the first update. The model's ETag names it. */
  revision: z.number().int().positive().optional(),
  /** The last update's ledger entry, kept so an update interrupted before its entry was written is finished by the next. */
  lastUpdate: modelUpdatedEventSchema.optional(),
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
  modelUpdatedEventSchema,
]);
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditEventKind = AuditEvent['kind'];

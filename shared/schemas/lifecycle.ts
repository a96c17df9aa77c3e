import { z } from 'zod';

import { isoDateTimeSchema, modelNameSchema, sha256Schema, versionNumberSchema } from './common';

/**
 * The lifecycle of a model version (docs/registry.md has the diagram):
 * registered -> validating -> pending_approval | validation_failed; pending_approval -> approved |
 * rejected | expired; approved -> production; production -> archived (replaced or rolled back);
 * archived -> production (restored by a rollback); any state but production -> retired.
 */
export const lifecycleStateSchema = z.enum([
  'registered',
  'validating',
  'validation_failed',
  'pending_approval',
  'approved',
  'rejected',
  'expired',
  'production',
  'archived',
  'retired',
]);
export type LifecycleState = z.infer<typeof lifecycleStateSchema>;
export const LIFECYCLE_STATES = lifecycleStateSchema.options;

/** Who asks for a change: a person (with roles from the identity provider) or the system itself. */
export const actorSchema = z.object({
  id: z.string().min(1).max(256),
  kind: z.enum(['user', 'system']).default('user'),
  roles: z.array(z.string().min(1)).default([]),
});
export type Actor = z.infer<typeof actorSchema>;
export type ActorInput = z.input<typeof actorSchema>;

const reasonSchema = z.string().trim().min(1).max(2000);

const startValidation = z.object({ type: z.literal('start_validation') });
const passValidation = z.object({
  type: z.literal('pass_validation'),
  /** Hash of the validation evidence (report) an approver will see; approvals must quote it. */
  evidenceHash: sha256Schema,
  /** Lake path of the golden records (inputs + expected outputs) kept with the evidence. */
  goldenRecordsPath: z.string().min(1).max(1024).optional(),
});
const failValidation = z.object({
  type: z.literal('fail_validation'),
  reason: reasonSchema,
  /** Hash of the evidence that failed, so people can read why. */
  evidenceHash: sha256Schema.optional(),
});
const approve = z.object({
  type: z.literal('approve'),
  /** The evidence hash the approver saw: must equal the one currently on the version. */
  evidenceHash: sha256Schema,
  comment: z.string().max(2000).optional(),
});
const reject = z.object({ type: z.literal('reject'), evidenceHash: sha256Schema, reason: reasonSchema });
const expire = z.object({ type: z.literal('expire'), reason: reasonSchema.optional() });
const promote = z.object({ type: z.literal('promote'), reason: reasonSchema.optional() });
const rollback = z.object({ type: z.literal('rollback'), reason: reasonSchema.optional() });
const retire = z.object({ type: z.literal('retire'), reason: reasonSchema.optional() });
/** Internal: the champion was replaced by a promotion. */
const archive = z.object({ type: z.literal('archive') });
/** Internal: a rollback brings a previous champion back. */
const restore = z.object({ type: z.literal('restore') });

/** A command a caller (HTTP, orchestration) may ask for. */
export const lifecycleCommandSchema = z.discriminatedUnion('type', [
  startValidation,
  passValidation,
  failValidation,
  approve,
  reject,
  expire,
  promote,
  rollback,
  retire,
]);
export type LifecycleCommand = z.infer<typeof lifecycleCommandSchema>;

/** Every command the state machine knows: the caller's, plus the champion swap's side effects. */
export const anyLifecycleCommandSchema = z.discriminatedUnion('type', [
  ...lifecycleCommandSchema.options,
  archive,
  restore,
]);
export type AnyLifecycleCommand = z.infer<typeof anyLifecycleCommandSchema>;
export type LifecycleCommandType = AnyLifecycleCommand['type'];
export const LIFECYCLE_COMMAND_TYPES = anyLifecycleCommandSchema.options.map((o) => o.shape.type.value);

/** One lifecycle transition of one version, as recorded on the version and in the audit ledger. */
export const transitionEventSchema = z.object({
  /** Deterministic: `{model}:v{version}:r{revision}`, so a retried append is a no-op. */
  id: z.string().min(1),
  kind: z.literal('transition'),
  modelName: modelNameSchema,
  version: versionNumberSchema,
  /** The version's revision after this transition (1 for its first transition). */
  revision: z.number().int().positive(),
  command: z.enum(LIFECYCLE_COMMAND_TYPES as [LifecycleCommandType, ...LifecycleCommandType[]]),
  from: lifecycleStateSchema,
  to: lifecycleStateSchema,
  actor: actorSchema,
  at: isoDateTimeSchema,
  evidenceHash: sha256Schema.optional(),
  reason: z.string().optional(),
});
export type TransitionEvent = z.infer<typeof transitionEventSchema>;

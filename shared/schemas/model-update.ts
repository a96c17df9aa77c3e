import { z } from 'zod';

import { modelInputSchema } from './model';
import { driftPolicySchema } from './policies';
import { MAX_UPDATE_REASON } from './registry';

/** Why the fields of a model's data contract cannot change: what was stored under them would no longer read as the model's. */
const DATA_CONTRACT = 'stored versions, predictions, actuals, monitoring windows and profiles were made with it';

/**
 * Fields an update may not change, each with the schema its value is read with (so a value sent as
 * stored, defaults left out, is no change) and why. The drift window is here too: window ids,
 * stored windows, labelled files and the monitor's progress are all cut at its length.
 */
export const IMMUTABLE_MODEL_FIELDS: readonly { path: string; schema: z.ZodType; why: string }[] = [
  ...(['name', 'task', 'idColumn', 'timestampColumn', 'targetColumn', 'features', 'segmentKeys', 'classLabels', 'predictionColumns'] as const).map((field) => ({
    path: field,
    schema: modelInputSchema.shape[field] as z.ZodType,
    why: DATA_CONTRACT,
  })),
  {
    path: 'policies.drift.window',
    schema: driftPolicySchema.shape.window,
    why: 'monitoring windows, their ids and the data stored per window are cut at this length',
  },
];

/**
 * The body of `PATCH /models/{model}`: a JSON merge patch (RFC 7396) of the model's definition,
 * and apart from it an optional `reason` for the ledger. Only the shape is checked here: the
 * definition the patch makes is validated as `POST /models` validates a new one, and a patch that
 * changes a field stored data depends on is refused naming it (shared/usecases/model-update.ts).
 * Other members are let through to be refused there, by name, with the reason.
 */
export const modelUpdateSchema = z
  .object({
    /** Why the definition changes; recorded on the ledger entry, not part of the definition. */
    reason: z.string().trim().min(1).max(MAX_UPDATE_REASON).optional(),
    description: z.string().max(2000).nullable().optional().describe('null resets it to empty'),
    owners: z.array(z.string().min(1)).nullable().optional().describe('replaced whole; null: no owners'),
    schedule: z.string().nullable().optional().describe('NCRONTAB (six fields, UTC); null removes the schedule'),
    policies: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe('merged member by member at every depth; null members return to their defaults; arrays are replaced whole'),
  })
  .catchall(z.unknown())
  .describe(
    `A JSON merge patch (RFC 7396) of the definition. ${IMMUTABLE_MODEL_FIELDS.map((f) => f.path).join(', ')} cannot change: register a new model instead.`,
  );
export type ModelUpdateInput = z.input<typeof modelUpdateSchema>;

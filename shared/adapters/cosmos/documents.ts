import { createHash } from 'node:crypto';

import { z } from 'zod';

import { storedModelDefinitionSchema } from '../../schemas/model';
import { modelVersionSchema } from '../../schemas/model-version';
import { championPointerSchema, modelRecordSchema } from '../../schemas/registry';

/**
 * Shapes of the documents in the `models` container (pk `/modelName`). Ids are deterministic
 * within a model's partition: `model`, `champion`, `version-00000042`. Cosmos system properties
 * (`_etag`, `_ts`, ...) are stripped by parsing; the ETag is read separately.
 */
export const MODEL_DOC_ID = 'model';
export const CHAMPION_DOC_ID = 'champion';
export const versionDocId = (version: number): string => `version-${String(version).padStart(8, '0')}`;

/** The definition as stored: a schedule stored before its rules tightened does not make the model unreadable. */
export const modelDocumentSchema = modelRecordSchema.extend({
  definition: storedModelDefinitionSchema,
  id: z.literal(MODEL_DOC_ID),
  docType: z.literal('model'),
});
export const versionDocumentSchema = modelVersionSchema.extend({ id: z.string().startsWith('version-'), docType: z.literal('version') });
export const championDocumentSchema = championPointerSchema.extend({
  id: z.literal(CHAMPION_DOC_ID),
  docType: z.literal('champion'),
});

/**
 * A registration's idempotency claim: created before the version so that one of several
 * concurrent registrations with the same key wins; `version` is set once it is stored.
 */
export const registrationClaimSchema = z.object({
  id: z.string().startsWith('registration-'),
  docType: z.literal('registration'),
  modelName: z.string(),
  key: z.string().min(1),
  /** Random id of the call that holds the claim. */
  owner: z.string().min(1),
  claimedAt: z.iso.datetime({ offset: true }),
  version: z.number().int().positive().nullable(),
});
export const registrationClaimId = (key: string): string =>
  `registration-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

export type ModelDocument = z.infer<typeof modelDocumentSchema>;
export type VersionDocument = z.infer<typeof versionDocumentSchema>;
export type ChampionDocument = z.infer<typeof championDocumentSchema>;

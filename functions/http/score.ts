import { z } from 'zod';

import { batch } from '../../shared/composition';
import { config } from '../../shared/config';
import { errors } from '../../shared/domain/errors';
import { InexactJsonNumber } from '../../shared/domain/json-number';
import { modelParamsSchema } from '../../shared/schemas/api';
import { versionNumberSchema } from '../../shared/schemas/common';
import { scoreRows } from '../../shared/usecases/score-rows';
import { defineRoute } from './api';
import { ROLES } from './identity';

/**
 * Any number JSON reads, an infinity included: a number past the range of a double (`1e309`)
 * reads as one, and z.number() would refuse the whole request for it. Kept as the number, its row
 * is rejected (not_finite for a feature, inexact_id for the id: not scored under the id `Infinity`)
 * and the others are scored. A number the double does not hold as written comes as an
 * InexactJsonNumber (the body is read with keepInexactNumbers): a feature scores with its double,
 * an id is inexact_id. Documented as a number.
 */
const jsonNumberSchema = z
  .custom<number | InexactJsonNumber>((value) => (typeof value === 'number' && !Number.isNaN(value)) || value instanceof InexactJsonNumber, { message: 'expected a number' })
  .meta({ type: 'number' });

const cellSchema = z.union([z.string(), jsonNumberSchema, z.boolean(), z.null()]);

/**
 * A row's fields looked over before the record schema walks them: one issue for a row, naming
 * its first field that holds no cell, not one per field (a row of a million arrays made zod
 * overflow its stack: a 500).
 */
function screenRow(row: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return row; // the record schema says what it is
  for (const [name, value] of Object.entries(row)) {
    if (value === null || typeof value !== 'object' || value instanceof InexactJsonNumber) continue;
    ctx.addIssue({ code: 'custom', path: [name], message: `'${name}' is ${Array.isArray(value) ? 'an array' : 'an object'}: a field holds a string, a number, true, false or null` });
    return z.NEVER;
  }
  return row;
}

/** More rows than SCORE_MAX_ROWS are refused before any row is parsed. */
function boundRows(json: unknown): void {
  const rows = typeof json === 'object' && json !== null ? (json as { rows?: unknown }).rows : undefined;
  const limit = config().SCORE_MAX_ROWS;
  if (Array.isArray(rows) && rows.length > limit) throw errors.payloadTooLarge(`at most ${limit} rows per request (SCORE_MAX_ROWS); drop larger sets in Blob Storage`, { limit });
}

const scoreBodySchema = z.strictObject({
  /** Rows as objects keyed by column name (features, id, timestamp, segment keys). */
  rows: z.array(z.preprocess(screenRow, z.record(z.string(), cellSchema))).min(1),
  /** Score with this version instead of the champion. */
  version: versionNumberSchema.optional(),
});

const resultSchema = z.union([
  z.object({ row: z.number().int(), id: z.string().nullable(), prediction: z.union([z.number(), z.string()]), probabilities: z.record(z.string(), z.number()).optional() }),
  z.object({ row: z.number().int(), id: z.string().nullable(), error: z.object({ code: z.string(), reason: z.string() }) }),
]);

/**
 * No query parameter: the version to score with goes in the body. Said in the refusal, since
 * `?version=2` is what a client of other scoring APIs tries first.
 */
const scoreQuerySchema = z.strictObject(
  {},
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `Unrecognized key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}: this route takes no query parameters; send the version in the body ({"version": 2, "rows": [...]})`
        : undefined,
  },
);

defineRoute({
  name: 'scoreRows',
  method: 'POST',
  route: 'models/{model}/score',
  summary: 'Score a few rows now, with the champion (or the body\'s version), as batch scoring would',
  description: 'Same row validation, transforms and model as batch scoring; a row that cannot be scored gets its reason. At most SCORE_MAX_ROWS rows (413 beyond).',
  tags: ['runs'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: scoreQuerySchema,
  body: { json: scoreBodySchema, bound: boundRows, keepInexactNumbers: true },
  responses: {
    200: {
      description: 'One result per row, in order',
      schema: z.object({ model: z.string(), version: z.number(), scored: z.number(), rejected: z.number(), results: z.array(resultSchema) }),
    },
  },
  handler: async ({ params, body }) => ({
    status: 200,
    body: await scoreRows(batch(), { model: params.model, rows: body.rows, ...(body.version !== undefined ? { version: body.version } : {}) }),
  }),
});

import { z } from 'zod';

import { batch } from '../../shared/composition';
import { config } from '../../shared/config';
import { errors } from '../../shared/domain/errors';
import { modelParamsSchema } from '../../shared/schemas/api';
import { versionNumberSchema } from '../../shared/schemas/common';
import { scoreRows } from '../../shared/usecases/score-rows';
import { defineRoute } from './api';
import { ROLES } from './identity';

const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const scoreBodySchema = z.strictObject({
  /** Rows as objects keyed by column name (features, id, timestamp, segment keys). */
  rows: z.array(z.record(z.string(), cellSchema)).min(1),
  /** Score with this version instead of the champion. */
  version: versionNumberSchema.optional(),
});

const resultSchema = z.union([
  z.object({ row: z.number().int(), id: z.string().nullable(), prediction: z.union([z.number(), z.string()]), probabilities: z.record(z.string(), z.number()).optional() }),
  z.object({ row: z.number().int(), id: z.string().nullable(), error: z.object({ code: z.string(), reason: z.string() }) }),
]);

defineRoute({
  name: 'scoreRows',
  method: 'POST',
  route: 'models/{model}/score',
  summary: 'Score a few rows now, with the champion (or ?version), as batch scoring would',
  description: 'Same row validation, transforms and model as batch scoring; a row that cannot be scored gets its reason. At most SCORE_MAX_ROWS rows (413 beyond).',
  tags: ['runs'],
  access: ROLES.reader,
  params: modelParamsSchema,
  body: { json: scoreBodySchema },
  responses: {
    200: {
      description: 'One result per row, in order',
      schema: z.object({ model: z.string(), version: z.number(), scored: z.number(), rejected: z.number(), results: z.array(resultSchema) }),
    },
  },
  handler: async ({ params, body }) => {
    const limit = config().SCORE_MAX_ROWS;
    if (body.rows.length > limit) throw errors.payloadTooLarge(`at most ${limit} rows per request (SCORE_MAX_ROWS); drop larger sets in Blob Storage`, { limit });
    return { status: 200, body: await scoreRows(batch(), { model: params.model, rows: body.rows, ...(body.version !== undefined ? { version: body.version } : {}) }) };
  },
});

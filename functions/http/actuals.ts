import { z } from 'zod';

import { registryStore, runStore } from '../../shared/composition';
import { actualsListSchema } from '../../shared/schemas/actuals';
import { modelParamsSchema } from '../../shared/schemas/api';
import { pageQueryShape } from '../../shared/schemas/paging';
import { listActualsRecords } from '../../shared/usecases/actuals/record';
import { defineRoute } from './api';
import { ROLES } from './identity';
import { pageLinks, pageRequest } from './paging';

defineRoute({
  name: 'listActuals',
  method: 'GET',
  route: 'models/{model}/actuals',
  summary: "The model's actuals files joined to its predictions, newest first, with their records, a page at a time (?limit=&continuationToken=)",
  description:
    'One record per actuals file version: rows, matched, unmatched, duplicate ids, rejected rows by reason, realised metrics over its matched rows (overall and per segment), the monitoring windows it labelled, its state (running, completed, failed), and the runs that completed after its join and matched its unmatched actuals late (lateMatches; matched and unmatched include them).',
  tags: ['monitoring'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: z.strictObject(pageQueryShape),
  responses: {
    200: {
      description:
        'A page of actuals records, newest first by createdAt (then id); records on it whose stored document cannot be read apart, by id, with the reason. continuationToken and nextLink lead to the next page (null on the last).',
      schema: actualsListSchema,
    },
  },
  handler: async ({ params, query, request }) => {
    const page = await listActualsRecords({ runs: runStore(), registry: registryStore() }, params.model, pageRequest(query));
    return { status: 200, body: { model: params.model, actuals: page.documents, unreadable: page.unreadable, ...pageLinks(request, page.next) } };
  },
});

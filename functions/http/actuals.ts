import { z } from 'zod';

import { dataLake, registryStore, runStore } from '../../shared/composition';
import { actualsListSchema } from '../../shared/schemas/actuals';
import { modelParamsSchema } from '../../shared/schemas/api';
import { actualsRecordSchema } from '../../shared/schemas/monitoring';
import { pageQueryShape } from '../../shared/schemas/paging';
import { listActualsRecords } from '../../shared/usecases/actuals/record';
import { readActualsItem } from '../../shared/usecases/item-reads';
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

defineRoute({
  name: 'getActuals',
  method: 'GET',
  route: 'models/{model}/actuals/{actualsId}',
  summary: 'One actuals record, by its id, with the lake paths of its labelled files and its quarantined lines',
  description:
    "The record as the list shows it (lateMatches, replacedBy, skippedRuns included). `labelled`: its labelled Parquet files as the lake holds them, in the windows' folders (its own and its late matches') while it counts, in its replaced folder once a newer upload replaced it; none for a join that did not complete. `quarantine`: the files of its rejected, superseded and unmatched rows. 404 MODEL_NOT_FOUND for a name with neither a model nor actuals, NOT_FOUND (naming actualsId) for an unknown record; a record whose stored document no longer reads is a 500 DOCUMENT_UNREADABLE with the reason the list gives.",
  tags: ['monitoring'],
  access: ROLES.reader,
  params: modelParamsSchema.extend({ actualsId: actualsRecordSchema.shape.actualsId }),
  responses: {
    200: {
      description: 'The record and its files',
      schema: z.object({ actuals: actualsRecordSchema, labelled: z.array(z.string()), quarantine: z.array(z.string()) }),
    },
  },
  handler: async ({ params }) => {
    const item = await readActualsItem({ runs: runStore(), registry: registryStore(), lake: dataLake() }, params.model, params.actualsId);
    return { status: 200, body: { actuals: item.record, labelled: item.labelled, quarantine: item.quarantine } };
  },
});

import { registryStore, runStore } from '../../shared/composition';
import { actualsListSchema } from '../../shared/schemas/actuals';
import { modelParamsSchema } from '../../shared/schemas/api';
import { listActualsRecords } from '../../shared/usecases/actuals/record';
import { defineRoute } from './api';
import { ROLES } from './identity';

defineRoute({
  name: 'listActuals',
  method: 'GET',
  route: 'models/{model}/actuals',
  summary: "The model's actuals files joined to its predictions, newest first, with their records",
  description:
    'One record per actuals file version: rows, matched, unmatched, duplicate ids, rejected rows by reason, realised metrics over its matched rows (overall and per segment), the monitoring windows it labelled, its state (running, completed, failed), and the runs that completed after its join and matched its unmatched actuals late (lateMatches; matched and unmatched include them).',
  tags: ['monitoring'],
  access: ROLES.reader,
  params: modelParamsSchema,
  responses: { 200: { description: 'Actuals records, newest first; records whose stored document cannot be read apart, by id, with the reason', schema: actualsListSchema } },
  handler: async ({ params }) => {
    const { documents, unreadable } = await listActualsRecords({ runs: runStore(), registry: registryStore() }, params.model);
    return { status: 200, body: { model: params.model, actuals: documents, unreadable } };
  },
});

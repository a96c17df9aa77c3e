import * as df from 'durable-functions';
import { z } from 'zod';

import { registry, registryStore, retrainingRecords, runStore } from '../../shared/composition';
import { modelParamsSchema } from '../../shared/schemas/api';
import { retrainingRecordSchema } from '../../shared/schemas/monitoring';
import { pageQueryShape } from '../../shared/schemas/paging';
import { retrainingAcceptedSchema, retrainingCompletionSchema, retrainingListSchema, retrainingParamsSchema } from '../../shared/schemas/retraining';
import { readRetrainingRequest } from '../../shared/usecases/item-reads';
import { acceptPipelineReport, listRetrainingRequests } from '../../shared/usecases/retraining-records';
import { reportRetrainingCompletion, retrainingStatus } from '../retraining-client';
import { defineRoute } from './api';
import { ROLES } from './identity';
import { pageLinks, pageRequest } from './paging';

const WAITING = new Set<string>([df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending]);

defineRoute({
  name: 'listRetraining',
  method: 'GET',
  route: 'models/{model}/retraining',
  summary: "The model's retraining requests and their states, newest first, a page at a time (?limit=&continuationToken=)",
  description:
    'queued (sent by the monitor), training, registered (resultVersion: the new version, in its lifecycle), closed (outcome: how that lifecycle ended) or failed (error: why).',
  tags: ['retraining'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: z.strictObject(pageQueryShape),
  responses: {
    200: {
      description:
        'A page of retraining requests, newest first by requestedAt (then requestId); requests on it whose stored document cannot be read apart, by id, with the reason. continuationToken and nextLink lead to the next page (null on the last).',
      schema: retrainingListSchema,
    },
  },
  handler: async ({ params, query, request }) => {
    await registry().getModel(params.model);
    const page = await listRetrainingRequests({ runs: runStore() }, params.model, pageRequest(query));
    return { status: 200, body: { model: params.model, requests: page.documents, unreadable: page.unreadable, ...pageLinks(request, page.next) } };
  },
});

defineRoute({
  name: 'getRetraining',
  method: 'GET',
  route: 'models/{model}/retraining/{requestId}',
  summary: 'One retraining request and its state, by its id (what a webhook trainer or pipeline polls)',
  description:
    'The request as the list shows it. 404 MODEL_NOT_FOUND for an unknown model, NOT_FOUND (naming requestId) for an unknown request; a request whose stored document no longer reads is a 500 DOCUMENT_UNREADABLE with the reason the list gives.',
  tags: ['retraining'],
  access: ROLES.reader,
  params: retrainingParamsSchema,
  responses: { 200: { description: 'The request', schema: z.object({ request: retrainingRecordSchema }) } },
  handler: async ({ params }) => ({ status: 200, body: { request: await readRetrainingRequest({ runs: runStore(), registry: registryStore() }, params.model, params.requestId) } }),
});

defineRoute({
  name: 'completeRetraining',
  method: 'POST',
  route: 'models/{model}/retraining/{requestId}/complete',
  summary: 'An external training pipeline reports: the version it registered, or why it failed',
  description:
    "For requests handed to a webhook trainer. Register the version first (POST .../versions or a package); its lifecycle validates it and the request closes when that lifecycle decides. 409 when the request is not waiting for a report (not a webhook request, already reported, or timed out); of two reports sent at once exactly one is taken, the other is 409.",
  tags: ['retraining'],
  access: ROLES.contributor,
  params: retrainingParamsSchema,
  body: { json: retrainingCompletionSchema },
  responses: { 202: { description: 'Taken: the request records it', schema: retrainingAcceptedSchema } },
  handler: async ({ params, body, client }) => {
    await acceptPipelineReport(retrainingRecords(), { model: params.model, requestId: params.requestId, report: body }, {
      running: async () => {
        const run = await retrainingStatus(client, params.requestId);
        return run !== undefined && WAITING.has(run.runtimeStatus);
      },
      deliver: () => reportRetrainingCompletion(client, params.requestId, body),
    });
    return { status: 202, body: { requestId: params.requestId, outcome: body.outcome, accepted: true } };
  },
});

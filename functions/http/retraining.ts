import * as df from 'durable-functions';

import { registry, runStore } from '../../shared/composition';
import { errors } from '../../shared/domain/errors';
import { modelParamsSchema } from '../../shared/schemas/api';
import { retrainingAcceptedSchema, retrainingCompletionSchema, retrainingListSchema, retrainingParamsSchema } from '../../shared/schemas/retraining';
import { listRetrainingRequests } from '../../shared/usecases/retraining-records';
import { reportRetrainingCompletion, retrainingStatus } from '../retraining-client';
import { defineRoute } from './api';
import { ROLES } from './identity';

const WAITING = new Set<string>([df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending]);

defineRoute({
  name: 'listRetraining',
  method: 'GET',
  route: 'models/{model}/retraining',
  summary: "The model's retraining requests and their states, newest first",
  description:
    'queued (sent by the monitor), training, registered (resultVersion: the new version, in its lifecycle), closed (outcome: how that lifecycle ended) or failed (error: why).',
  tags: ['retraining'],
  access: ROLES.reader,
  params: modelParamsSchema,
  responses: { 200: { description: 'Retraining requests', schema: retrainingListSchema } },
  handler: async ({ params }) => {
    await registry().getModel(params.model);
    return { status: 200, body: { model: params.model, requests: await listRetrainingRequests({ runs: runStore() }, params.model) } };
  },
});

defineRoute({
  name: 'completeRetraining',
  method: 'POST',
  route: 'models/{model}/retraining/{requestId}/complete',
  summary: 'An external training pipeline reports: the version it registered, or why it failed',
  description:
    "For requests handed to a webhook trainer. Register the version first (POST .../versions or a package); its lifecycle validates it and the request closes when that lifecycle decides. 409 when the request is not waiting for a report (not a webhook request, already reported, or timed out).",
  tags: ['retraining'],
  access: ROLES.contributor,
  params: retrainingParamsSchema,
  body: { json: retrainingCompletionSchema },
  responses: { 202: { description: 'Taken: the request records it', schema: retrainingAcceptedSchema } },
  handler: async ({ params, body, client }) => {
    await registry().getModel(params.model);
    const record = await runStore().retraining.get(params.model, params.requestId);
    if (!record) throw errors.notFound(`there is no retraining request '${params.requestId}' of model '${params.model}'`, { requestId: params.requestId });
    if (body.outcome === 'registered') {
      const version = await registry().getVersion(params.model, body.version);
      // What this request trained was registered after it was made (the champion it was raised on never is).
      if (Date.parse(version.createdAt) < Date.parse(record.value.requestedAt)) {
        throw errors.validation(
          `version ${body.version} was registered at ${version.createdAt}, before retraining request '${params.requestId}' was made (${record.value.requestedAt}): it is not what the request trained`,
          { version: body.version, registeredAt: version.createdAt, requestedAt: record.value.requestedAt },
        );
      }
    }
    const run = await retrainingStatus(client, params.requestId);
    if (!run || !WAITING.has(run.runtimeStatus)) {
      const trainer = record.value.trainer ? `, trainer ${record.value.trainer}` : '';
      throw errors.illegalTransition(`retraining request '${params.requestId}' is not waiting for a report (it is ${record.value.state}${trainer})`, {
        state: record.value.state,
      });
    }
    await reportRetrainingCompletion(client, params.requestId, body);
    return { status: 202, body: { requestId: params.requestId, outcome: body.outcome, accepted: true } };
  },
});

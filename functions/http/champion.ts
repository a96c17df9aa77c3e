import { registry } from '../../shared/composition';
import {
  auditListSchema,
  auditQuerySchema,
  championAnswerSchema,
  championQuerySchema,
  decisionResultSchema,
  modelParamsSchema,
  promoteBodySchema,
  rollbackBodySchema,
} from '../../shared/schemas/api';
import { defineRoute } from './api';
import { ROLES } from './identity';
import { pageLinks, pageRequest } from './paging';
import { versionSummary } from './views';

defineRoute({
  name: 'promoteVersion',
  method: 'POST',
  route: 'models/{model}/promote',
  summary: 'Make an approved version the champion (the previous champion is archived)',
  tags: ['champion'],
  access: ROLES.admin,
  params: modelParamsSchema,
  body: { json: promoteBodySchema },
  responses: { 200: { description: 'The version, now in production', schema: decisionResultSchema } },
  handler: async ({ params, body, actor }) => {
    const version = await registry().applyCommand(params.model, body.version, { type: 'promote', ...(body.reason ? { reason: body.reason } : {}) }, actor!);
    return { status: 200, body: { ...versionSummary(version), lifecycleNotified: false } };
  },
});

defineRoute({
  name: 'rollbackModel',
  method: 'POST',
  route: 'models/{model}/rollback',
  summary: 'Put the previous champion back in production (the current one is archived)',
  tags: ['champion'],
  access: ROLES.admin,
  params: modelParamsSchema,
  body: { json: rollbackBodySchema },
  responses: { 200: { description: 'The champion after the rollback', schema: championAnswerSchema } },
  handler: async ({ params, body, actor }) => {
    await registry().rollbackModel(params.model, actor!, body.reason);
    const pointer = await registry().getChampion(params.model);
    return { status: 200, body: { model: params.model, version: pointer.version, pointer } };
  },
});

defineRoute({
  name: 'getChampion',
  method: 'GET',
  route: 'models/{model}/champion',
  summary: 'The champion now, or at a past time (?at=ISO 8601) from the audit ledger',
  tags: ['champion'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: championQuerySchema,
  responses: { 200: { description: 'The champion version (null: none)', schema: championAnswerSchema } },
  handler: async ({ params, query }) => {
    if (query.at !== undefined) {
      await registry().getModel(params.model);
      return { status: 200, body: { model: params.model, at: query.at, version: await registry().championAt(params.model, query.at) } };
    }
    const pointer = await registry().getChampion(params.model);
    return { status: 200, body: { model: params.model, version: pointer.version, pointer } };
  },
});

defineRoute({
  name: 'getAudit',
  method: 'GET',
  route: 'models/{model}/audit',
  summary: "The model's append-only audit ledger, oldest first (?from=&to= ISO 8601, ?version=), a page at a time (?limit=&continuationToken=)",
  tags: ['champion'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: auditQuerySchema,
  responses: {
    200: {
      description:
        'A page of ledger entries, oldest first (by at, then kind, then id), the filters applied before paging. continuationToken and nextLink lead to the next page (null on the last).',
      schema: auditListSchema,
    },
  },
  handler: async ({ params, query, request }) => {
    const { from, to, version } = query;
    const filter = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(version !== undefined ? { version } : {}) };
    const page = await registry().auditPage(params.model, { ...pageRequest(query), ...filter });
    return { status: 200, body: { model: params.model, entries: page.entries, ...pageLinks(request, page.next) } };
  },
});

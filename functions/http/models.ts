import { registry } from '../../shared/composition';
import { modelDetailSchema, modelListSchema, modelParamsSchema, modelsQuerySchema } from '../../shared/schemas/api';
import { modelInputSchema } from '../../shared/schemas/model';
import { modelUpdateSchema } from '../../shared/schemas/model-update';
import type { ModelRecord } from '../../shared/schemas/registry';
import { type ApiResponse, defineRoute } from './api';
import { ROLES } from './identity';
import { ifMatchRevisions, modelEtag } from './model-etag';
import { pageLinks, pageRequest } from './paging';
import { versionSummary } from './views';

defineRoute({
  name: 'createModel',
  method: 'POST',
  route: 'models',
  summary: 'Define a model: features, task, segment keys and policies',
  tags: ['models'],
  access: ROLES.contributor,
  body: { json: modelInputSchema, component: 'ModelDefinition' },
  responses: { 201: { description: 'The model as stored, with defaults applied', schema: 'ModelRecord', headers: { Location: 'The model' } } },
  handler: async ({ body, actor }) => {
    const record = await registry().createModel(body, actor!);
    return { status: 201, body: record, headers: { location: `/api/models/${record.modelName}` } };
  },
});

defineRoute({
  name: 'listModels',
  method: 'GET',
  route: 'models',
  summary: 'List models with their latest version and champion, by name, a page at a time (?limit=&continuationToken=)',
  tags: ['models'],
  access: ROLES.reader,
  query: modelsQuerySchema,
  responses: {
    200: {
      description:
        'A page of models, by name; models on it whose stored document cannot be read apart, with the reason. continuationToken and nextLink lead to the next page (null on the last).',
      schema: modelListSchema,
    },
  },
  handler: async ({ query, request }) => {
    const { models, unreadable, next } = await registry().modelsPage(pageRequest(query));
    const champions = await Promise.all(models.map((m) => registry().getChampion(m.modelName)));
    return {
      status: 200,
      body: {
        models: models.map((m, i) => ({
          name: m.modelName,
          task: m.definition.task,
          description: m.definition.description,
          latestVersion: m.latestVersion,
          champion: champions[i]?.version ?? null,
          createdAt: m.createdAt,
          createdBy: m.createdBy,
        })),
        unreadable: unreadable.map((u) => ({ name: u.modelName, reason: u.reason })),
        ...pageLinks(request, next),
      },
    };
  },
});

/** A model as GET shows it: its definition and bookkeeping, champion and versions, and its ETag. */
async function modelDetail(record: ModelRecord): Promise<ApiResponse> {
  const [champion, versions] = await Promise.all([registry().getChampion(record.modelName), registry().listVersions(record.modelName)]);
  return {
    status: 200,
    body: {
      definition: record.definition,
      createdAt: record.createdAt,
      createdBy: record.createdBy,
      updatedAt: record.updatedAt,
      revision: record.revision ?? 0,
      champion,
      versions: versions.map(versionSummary),
    },
    headers: { etag: modelEtag(record) },
  };
}

const ETAG_HEADER = { ETag: "The definition's revision, for If-Match on PATCH" };

defineRoute({
  name: 'getModel',
  method: 'GET',
  route: 'models/{model}',
  summary: 'A model: its definition, champion and versions with their states',
  tags: ['models'],
  access: ROLES.reader,
  params: modelParamsSchema,
  responses: { 200: { description: 'The model', schema: modelDetailSchema, headers: ETAG_HEADER } },
  handler: async ({ params }) => modelDetail(await registry().getModel(params.model)),
});

defineRoute({
  name: 'updateModel',
  method: 'PATCH',
  route: 'models/{model}',
  summary: "Change a model's mutable settings (description, owners, schedule, policies) with a JSON merge patch; the ledger records what changed",
  description:
    'A JSON merge patch (RFC 7396) of the definition, with an optional top-level reason for the audit ledger. The result is validated as POST /models validates a definition; the data contract (name, task, columns, features, segment keys, class labels, prediction columns, the drift window) cannot change. If-Match with the ETag of GET makes the update conditional (412 when the model changed since). A patch that changes nothing answers the model and records nothing.',
  tags: ['models'],
  access: ROLES.admin,
  params: modelParamsSchema,
  body: { json: modelUpdateSchema, component: 'ModelUpdate', mediaTypes: ['application/merge-patch+json', 'application/json'] },
  responses: { 200: { description: 'The model as stored after the update, as GET shows it', schema: modelDetailSchema, headers: ETAG_HEADER } },
  // A 412 carries the model's current ETag (its revision is in the body too): decide again on it.
  problemHeaders: (error): Record<string, string> =>
    error.code === 'PRECONDITION_FAILED' && typeof error.details?.revision === 'number' ? { etag: modelEtag({ revision: error.details.revision }) } : {},
  handler: async ({ params, body, actor, request }) => {
    const ifRevisions = ifMatchRevisions(request.headers.get('if-match'));
    const { model } = await registry().updateModel(params.model, body, actor!, ifRevisions === undefined ? {} : { ifRevisions });
    return modelDetail(model);
  },
});

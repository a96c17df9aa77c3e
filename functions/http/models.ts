import { registry } from '../../shared/composition';
import { modelDetailSchema, modelListSchema, modelParamsSchema, modelsQuerySchema } from '../../shared/schemas/api';
import { modelInputSchema } from '../../shared/schemas/model';
import { defineRoute } from './api';
import { ROLES } from './identity';
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

defineRoute({
  name: 'getModel',
  method: 'GET',
  route: 'models/{model}',
  summary: 'A model: its definition, champion and versions with their states',
  tags: ['models'],
  access: ROLES.reader,
  params: modelParamsSchema,
  responses: { 200: { description: 'The model', schema: modelDetailSchema } },
  handler: async ({ params }) => {
    const [record, champion, versions] = await Promise.all([
      registry().getModel(params.model),
      registry().getChampion(params.model),
      registry().listVersions(params.model),
    ]);
    return {
      status: 200,
      body: { definition: record.definition, createdAt: record.createdAt, createdBy: record.createdBy, champion, versions: versions.map(versionSummary) },
    };
  },
});

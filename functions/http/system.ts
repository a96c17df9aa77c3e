import { dependencyProbes } from '../../shared/composition';
import { healthSchema } from '../../shared/schemas/api';
import { checkHealth } from '../../shared/usecases/health';
import { apiRoutes, defineRoute } from './api';
import { openApiDocument } from './openapi';

defineRoute({
  name: 'health',
  method: 'GET',
  route: 'health',
  summary: 'Whether Cosmos DB, Blob Storage and Service Bus answer, and which one does not',
  tags: ['system'],
  access: 'public',
  responses: {
    200: { description: 'Every dependency answers', schema: healthSchema },
    503: { description: 'At least one dependency does not (named with its error)', schema: healthSchema },
  },
  handler: async () => {
    const { healthy, dependencies } = await checkHealth(dependencyProbes());
    return { status: healthy ? 200 : 503, body: { status: healthy ? 'healthy' : 'unhealthy', dependencies } };
  },
});

let document: unknown;

defineRoute({
  name: 'openApi',
  method: 'GET',
  route: 'openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  tags: ['system'],
  access: 'public',
  responses: { 200: { description: 'The OpenAPI document' } },
  handler: async () => {
    document ??= openApiDocument(apiRoutes);
    return { status: 200, body: document };
  },
});

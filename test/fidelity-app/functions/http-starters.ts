/**
 * durable-functions samples-ts/functions/httpStart.ts and httpSyncStart.ts, as published. Not
 * product code.
 */
import { app, type HttpHandler, type HttpRequest, type HttpResponse, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

const httpStart: HttpHandler = async (request: HttpRequest, context: InvocationContext): Promise<HttpResponse> => {
  const client = df.getClient(context);
  const body: unknown = await request.json();
  const instanceId: string = await client.startNew(request.params.orchestratorName ?? '', { input: body });
  context.log(`Started orchestration with ID = '${instanceId}'.`);
  return client.createCheckStatusResponse(request, instanceId);
};
app.http('httpStart', {
  route: 'orchestrators/{orchestratorName}',
  extraInputs: [df.input.durableClient()],
  handler: httpStart,
});

const httpSyncStart: HttpHandler = async function (request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const client = df.getClient(context);
  const body: unknown = await request.json();
  const instanceId: string = await client.startNew(request.params.orchestratorName ?? '', { input: body });
  context.log(`Started orchestration with ID = '${instanceId}'.`);
  const timeoutInMilliseconds: number = getTimeInMilliseconds(request, 'timeout') || 30000;
  const retryIntervalInMilliseconds: number = getTimeInMilliseconds(request, 'retryInterval') || 1000;
  return client.waitForCompletionOrCreateCheckStatusResponse(request, instanceId, {
    timeoutInMilliseconds,
    retryIntervalInMilliseconds,
  });
};
app.http('httpSyncStart', {
  methods: ['POST'],
  route: 'orchestrators/wait/{orchestratorName}',
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: httpSyncStart,
});

function getTimeInMilliseconds(req: HttpRequest, queryParameterName: string): number {
  // parameters are passed in as seconds
  const queryValue: number = parseInt(req.query.get(queryParameterName) ?? '');
  return queryValue ? queryValue * 1000 : 0;
}

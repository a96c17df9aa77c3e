import { app, type HttpRequest, type InvocationContext } from '@azure/functions';

/** Echoes what the handler received, so tests can see routing, params, query and body handling. */
async function echo(request: HttpRequest, context: InvocationContext) {
  const text = request.method === 'GET' ? '' : await request.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      return { status: 400, jsonBody: { error: 'malformed JSON body' } };
    }
  }
  return {
    status: 200,
    jsonBody: {
      function: context.functionName,
      method: request.method,
      url: request.url,
      params: request.params,
      query: Object.fromEntries(request.query.entries()),
      contentType: request.headers.get('content-type'),
      body,
    },
  };
}

app.http('modelVersions', {
  route: 'models/{model}/versions/{version:int?}',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: echo,
});

app.get('hello', { route: 'hello/{name?}', authLevel: 'anonymous', handler: echo });

app.http('defaultRoute', { authLevel: 'anonymous', handler: echo });

app.post('boom', {
  route: 'boom',
  authLevel: 'anonymous',
  handler: () => {
    throw new Error('the handler failed');
  },
});

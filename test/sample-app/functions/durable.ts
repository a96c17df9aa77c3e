import { type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

/** Function chaining behind the async HTTP API pattern: start over HTTP, poll the status URL. */
const sayHello = df.app.activity('sampleSayHello', {
  handler: (name: string) => `Hello ${name}`,
});

df.app.orchestration('sampleHelloSequence', function* (context) {
  const cities = context.df.getInput<string[] | undefined>() ?? ['Tokyo', 'Seattle', 'London'];
  const greetings: string[] = [];
  for (const city of cities) greetings.push((yield sayHello(city)) as string);
  return greetings;
});

df.app.client.http('sampleStartHello', {
  route: 'orchestrators/hello',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: async (request: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> => {
    const text = await request.text();
    let input: unknown;
    try {
      input = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return { status: 400, jsonBody: { error: 'malformed JSON body' } };
    }
    const instanceId = await client.startNew('sampleHelloSequence', { input });
    return client.createCheckStatusResponse(request, instanceId);
  },
});

df.app.client.http('sampleHelloStatus', {
  route: 'orchestrators/hello/{id}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (request: HttpRequest, client: df.DurableClient, _context: InvocationContext) => {
    const status = await client.getStatus(request.params.id ?? '');
    return { status: 200, jsonBody: { runtimeStatus: status.runtimeStatus, output: status.output } };
  },
});

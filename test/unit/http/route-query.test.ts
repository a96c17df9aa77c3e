/** Query parameters of routes that declare none: refused, as on the routes that declare theirs, never silently ignored. */
import '../../../functions/http/score';
import '../../../functions/http/models';

import { durableClientPayload } from '../../../devhost/durable/client-payload';
import { defaultWorker } from '../../../devhost/worker';

const worker = defaultWorker();
const saved = { ...process.env };
// Nothing behind the client answers: a request that reached a handler's use case would fail, not pass.
const starter = durableClientPayload({ origin: 'http://127.0.0.1:9', taskHubName: 'test', systemKey: 'k' });
const reader = Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims: [{ typ: 'name', val: 'rita@contoso.example' }, { typ: 'roles', val: 'MLOps.Reader' }] })).toString('base64');

beforeAll(() => {
  process.env.STORAGE_CONNECTION_STRING = 'UseDevelopmentStorage=true';
});

afterAll(() => {
  process.env = saved;
});

/** The route's trigger invoked as the host invokes it: a real HttpRequest with the principal App Service Authentication sets. */
async function call(name: string, method: string, url: string, params: Record<string, string>, body?: unknown) {
  const result = await worker.invoke(name, {
    triggerData: {
      http: {
        method,
        url,
        headers: { 'content-type': 'application/json', 'x-ms-client-principal': reader },
        query: Object.fromEntries(new URL(url).searchParams),
        params,
        body: body === undefined ? undefined : { bytes: Buffer.from(JSON.stringify(body)) },
      },
    },
    extraInputs: Object.fromEntries(worker.getFunction(name)!.inputs.filter((i) => i.type === 'durableClient').map((i) => [i.name, starter])),
    quiet: true,
  });
  const response = result.http as { status: number; body: Buffer };
  return { status: response.status, problem: JSON.parse(response.body.toString('utf8')) as Record<string, unknown> };
}

describe('a query parameter on a route that declares none', () => {
  it('when POST /score is given ?version=2 (the version belongs in the body), then it is a 400 naming it and saying where the version goes, not scored by the champion', async () => {
    const answer = await call('scoreRows', 'POST', 'http://127.0.0.1:7071/api/models/demand/score?version=2', { model: 'demand' }, { rows: [{ id: 'a', x1: 1 }] });
    expect(answer).toEqual({ status: 400, problem: expect.objectContaining({ code: 'VALIDATION_ERROR', detail: expect.stringMatching(/^invalid query:[^]*Unrecognized key: "version": this route takes no query parameters; send the version in the body/) }) });
  });

  it('when a GET route that reads no query is given one, then it is a 400 naming it', async () => {
    const answer = await call('getModel', 'GET', 'http://127.0.0.1:7071/api/models/demand?expand=versions', { model: 'demand' });
    expect(answer).toEqual({ status: 400, problem: expect.objectContaining({ code: 'VALIDATION_ERROR', issues: [expect.objectContaining({ code: 'unrecognized_keys', message: 'Unrecognized key: "expand"' })] }) });
  });

  it('when such a route is called without a query, then the query is no obstacle: the body is read next', async () => {
    const answer = await call('scoreRows', 'POST', 'http://127.0.0.1:7071/api/models/demand/score', { model: 'demand' }, { rows: [] });
    expect(answer).toEqual({ status: 400, problem: expect.objectContaining({ detail: expect.stringMatching(/^invalid request body:[^]*→ at rows/) }) });
  });
});

import { HttpRequest } from '@azure/functions';

import { apiRoutes, routeQuery } from '../../functions/http/api';
import { problemOf } from '../../functions/http/problem';
import { isDomainError, parseOrThrow } from '../../shared/domain/errors';

/**
 * A registered API route called as its trigger calls it (defineRoute in functions/http/api.ts),
 * without the worker: a real HttpRequest for `path` (under `/api/`), its params and query parsed
 * with the route's schemas, the handler's answer checked against the route's documented 200 schema.
 * A domain error comes back as the problem document the trigger would answer.
 */
export async function callRoute(name: string, path: string, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const spec = apiRoutes.find((r) => r.name === name);
  if (!spec) throw new Error(`no route '${name}' is registered: import its module first`);
  const url = `http://localhost:7071${path}`;
  const request = new HttpRequest({ method: spec.method, url, params, query: Object.fromEntries(new URL(url).searchParams.entries()) });
  try {
    const parsedParams = spec.params ? parseOrThrow(spec.params, request.params, 'route parameters') : undefined;
    const query = routeQuery(spec, request);
    const answer = await spec.handler({ params: parsedParams, query, body: undefined, actor: undefined, request, client: undefined as never, context: undefined as never });
    const schema = spec.responses[answer.status]?.schema;
    return { status: answer.status, body: (typeof schema === 'object' ? schema.parse(answer.body) : answer.body) as Record<string, unknown> };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    const problem = problemOf(error);
    return { status: problem.status, body: problem as unknown as Record<string, unknown> };
  }
}

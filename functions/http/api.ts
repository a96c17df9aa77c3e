import type { Readable } from 'node:stream';

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';

import { type DomainError, errors, isDomainError, parseOrThrow } from '../../shared/domain/errors';
import type { Actor } from '../../shared/schemas/lifecycle';
import { actorFromPrincipal, hasRole, PRINCIPAL_HEADER, type Role } from './identity';
import { readJsonBody } from './json-body';
import { internalProblem, problemOf, problemResponse } from './problem';
import { queryOf } from './query';

export type HttpMethod = 'GET' | 'POST' | 'PATCH';

/** A response of the API: `body` as JSON, or `stream` sent as it is (a file; the handler sets its Content-Type). */
export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  stream?: Readable;
}

export interface ApiRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller; always set on routes that need a role. */
  actor: Actor | undefined;
  request: HttpRequest;
  client: df.DurableClient;
  context: InvocationContext;
}

/** How a route's request body is read: JSON parsed with its schema, or left to the handler (multipart). */
export type BodySpec<B> =
  | {
      json: z.ZodType<B>;
      component?: string;
      optional?: boolean;
      /** Checked on the parsed JSON before the schema walks it: a bound that must hold before a huge body costs a parse (and an issue) per element. */
      bound?: (json: unknown) => void;
      /**
       * Numbers whose text a double does not hold as written reach the schema as InexactJsonNumber
       * (shared/domain/json-number.ts), for a route that must tell (an id must not be answered
       * rounded); elsewhere they are the double JSON reads.
       */
      keepInexactNumbers?: boolean;
      /** The media types the OpenAPI document lists for the body (`application/json` when absent); every `+json` type is read alike. */
      mediaTypes?: string[];
    }
  | { multipart: Record<string, { description: string; binary?: boolean }> };

/** What the OpenAPI document says of a response: its description and schema (a component name or a zod schema). */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType | string;
  /** The media types of a response whose body is a file, not JSON (`schema` does not apply). */
  binary?: string[];
  /** Response headers, by name, with their descriptions. */
  headers?: Record<string, string>;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  /** The function name and the OpenAPI operationId. */
  name: string;
  method: HttpMethod;
  /** Route template under the `api` prefix, e.g. `models/{model}/versions/{version}`. */
  route: string;
  summary: string;
  description?: string;
  tags: string[];
  /** `public`, or the role a caller needs (writers also read). */
  access: 'public' | Role;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: BodySpec<B>;
  /** Success responses by status (errors are problem documents, added for every route). */
  responses: Record<number, ResponseSpec>;
  /** Headers a failure's problem document goes out with (a 412's current ETag). */
  problemHeaders?: (error: DomainError) => Record<string, string>;
  handler: (request: ApiRequest<P, Q, B>) => Promise<ApiResponse>;
}

/** Every route of the API, in registration order: the OpenAPI document is generated from them. */
export const apiRoutes: RouteSpec[] = [];

/**
 * The query of a route that declares none: it takes no parameter, so an unknown one is a 400 as on
 * the routes that declare theirs (`POST .../score?version=2` would otherwise be scored silently by
 * the champion).
 */
const noQuerySchema = z.strictObject({});

/** The request's query parsed with the route's schema (a route that declares none takes none). */
export function routeQuery<Q>(spec: Pick<RouteSpec<unknown, Q>, 'query'>, request: HttpRequest): Q {
  return parseOrThrow(spec.query ?? noQuerySchema, queryOf(request), 'query') as Q;
}

/** Authenticates from the platform's principal header only, then checks the route's role. */
function authorize(spec: RouteSpec, request: HttpRequest): Actor | undefined {
  const actor = actorFromPrincipal(request.headers.get(PRINCIPAL_HEADER));
  if (spec.access === 'public') return actor;
  if (!actor) throw errors.unauthenticated('sign in first: this route needs an authenticated caller');
  if (!hasRole(actor, spec.access)) {
    throw errors.forbidden(`this route needs the role ${spec.access}`, { requiredRole: spec.access, roles: actor.roles });
  }
  return actor;
}

function toHttp(response: ApiResponse): HttpResponseInit {
  const headers = { ...response.headers };
  if (response.stream) return { status: response.status, headers, body: response.stream };
  if (response.body === undefined) return { status: response.status, headers };
  return {
    status: response.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(response.body),
  };
}

/**
 * Registers one API route: a thin trigger that authorizes, parses params, query and body with
 * their schemas, calls the handler, and answers failures as problem documents (DomainError codes
 * mapped in problem.ts; anything else a 500 that names the invocation to look up in the logs).
 */
export function defineRoute<P, Q, B>(spec: RouteSpec<P, Q, B>): void {
  apiRoutes.push(spec as unknown as RouteSpec);
  df.app.client.http(spec.name, {
    route: spec.route,
    methods: [spec.method],
    authLevel: 'anonymous',
    handler: async (request: HttpRequest, client: df.DurableClient, context: InvocationContext): Promise<HttpResponseInit> => {
      const instance = new URL(request.url).pathname;
      try {
        const actor = authorize(spec as unknown as RouteSpec, request);
        const params = spec.params ? parseOrThrow(spec.params, request.params, 'route parameters') : (undefined as P);
        const query = routeQuery(spec, request);
        let body = undefined as B;
        if (spec.body && 'json' in spec.body) {
          // An optional body that is absent reaches the handler as undefined, not through the schema.
          const json = await readJsonBody(request, spec.body.optional === true, spec.body.keepInexactNumbers === true);
          spec.body.bound?.(json);
          if (json !== undefined) body = parseOrThrow(spec.body.json, json, 'request body');
        }
        return toHttp(await spec.handler({ params, query, body, actor, request, client, context }));
      } catch (error) {
        if (isDomainError(error)) return problemResponse(problemOf(error, instance), spec.problemHeaders?.(error));
        context.error(`${spec.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return problemResponse(internalProblem(context.invocationId, instance));
      }
    },
  });
}

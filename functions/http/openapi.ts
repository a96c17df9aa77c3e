import { z } from 'zod';

import { validationEvidenceSchema } from '../../shared/schemas/evidence';
import { modelInputSchema } from '../../shared/schemas/model';
import { modelUpdateSchema } from '../../shared/schemas/model-update';
import { modelVersionSchema } from '../../shared/schemas/model-version';
import { registrationManifestSchema } from '../../shared/schemas/registration';
import { auditEventSchema, modelRecordSchema } from '../../shared/schemas/registry';
import type { RouteSpec } from './api';

type JsonSchema = Record<string, unknown>;

/** Schemas named once under `components.schemas` and referred to by name. */
const COMPONENTS: Record<string, z.ZodType> = {
  ModelDefinition: modelInputSchema,
  ModelRecord: modelRecordSchema,
  ModelUpdate: modelUpdateSchema,
  ModelVersion: modelVersionSchema,
  RegistrationManifest: registrationManifestSchema,
  ValidationEvidence: validationEvidenceSchema,
  AuditEvent: auditEventSchema,
};

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details, with the stable error code and, for invalid input, the issues',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } } },
    },
    issueCount: { type: 'integer', description: 'How many issues there are, when more than the issues listed' },
  },
  additionalProperties: true,
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function schemaRef(schema: z.ZodType | string, io: 'input' | 'output'): JsonSchema {
  return typeof schema === 'string' ? { $ref: `#/components/schemas/${schema}` } : jsonSchema(schema, io);
}

/** Path and query parameters from the route's zod object schemas. */
function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    if (!(schema instanceof z.ZodObject)) continue;
    const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (object.required ?? []).includes(name), schema: property });
    }
  }
  return out;
}

function requestBody(spec: RouteSpec): JsonSchema | undefined {
  const body = spec.body;
  if (!body) return undefined;
  if ('json' in body) {
    const schema = body.component ? schemaRef(body.component, 'input') : jsonSchema(body.json, 'input');
    return { required: body.optional !== true, content: Object.fromEntries((body.mediaTypes ?? ['application/json']).map((type) => [type, { schema }])) };
  }
  const properties = Object.fromEntries(
    Object.entries(body.multipart).map(([name, part]) => [name, { type: 'string', description: part.description, ...(part.binary ? { contentMediaType: 'application/octet-stream' } : {}) }]),
  );
  return { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: Object.keys(properties), properties } } } };
}

function operation(spec: RouteSpec): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
      ...(response.schema ? { content: { 'application/json': { schema: schemaRef(response.schema, 'output') } } } : {}),
      ...(response.binary ? { content: Object.fromEntries(response.binary.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])) } : {}),
    };
  }
  if (spec.access !== 'public') {
    responses['401'] = { $ref: '#/components/responses/Unauthenticated' };
    responses['403'] = { $ref: '#/components/responses/Forbidden' };
  }
  responses.default = { $ref: '#/components/responses/Problem' };
  const body = requestBody(spec);
  return {
    operationId: spec.name,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(spec.access === 'public' ? { security: [] } : { security: [{ bearer: [] }], 'x-required-role': spec.access }),
    parameters: parameters(spec),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

const problemResponse = (description: string): JsonSchema => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The OpenAPI 3.1 document of the API, generated from the routes and their zod schemas. */
export function openApiDocument(routes: readonly RouteSpec[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of routes) {
    const path = `/${spec.route}`;
    (paths[path] ??= {})[spec.method.toLowerCase()] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'MLOps lifecycle API',
      version: '1',
      description:
        'Registry, lifecycle decisions and champion of machine-learning models. Callers are authenticated by the platform (App Service Authentication); roles MLOps.Reader, MLOps.Contributor, MLOps.Approver, MLOps.Admin. Errors are application/problem+json.',
    },
    servers: [{ url: '/api' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.flatMap((r) => r.tags))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An Entra ID access token on Azure; a development token from DEVHOST_IDENTITIES locally' },
      },
      schemas: { Problem: problemSchema, ...Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, jsonSchema(schema, 'output')])) },
      responses: {
        Problem: problemResponse('The request failed: see code and detail'),
        Unauthenticated: problemResponse('No authenticated caller'),
        Forbidden: problemResponse('The caller lacks the role, or may not decide on this version'),
      },
    },
  };
}

import type * as df from 'durable-functions';

import { lifecycleInstanceId } from '../../orchestrations/lifecycle/names';
import { dataLake, registration, registry } from '../../shared/composition';
import { errors } from '../../shared/domain/errors';
import { parseSentJson } from '../../shared/domain/json-text';
import { lakePaths } from '../../shared/domain/lake-paths';
import {
  approveBodySchema,
  decisionResultSchema,
  modelParamsSchema,
  registeredSchema,
  rejectBodySchema,
  retireBodySchema,
  versionDetailSchema,
  versionParamsSchema,
} from '../../shared/schemas/api';
import { validationEvidenceSchema } from '../../shared/schemas/evidence';
import type { Actor, LifecycleCommand } from '../../shared/schemas/lifecycle';
import type { ApprovalEvent, VersionRef } from '../../shared/schemas/lifecycle-orchestration';
import type { ModelVersion } from '../../shared/schemas/model-version';
import { registerPackage, stageUpload } from '../../shared/usecases/register-package';
import { ensureLifecycleStarted, lifecycleStatus, notifyLifecycle } from '../durable-client';
import { defineRoute } from './api';
import { DECISION_ROLE, ROLES } from './identity';
import { readRegistrationUpload } from './multipart';
import { versionPath, versionSummary } from './views';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function idempotencyKeyOf(header: string | null): string | undefined {
  if (header === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) throw errors.validation('Idempotency-Key is 1-200 visible ASCII characters');
  return header;
}

function parseManifest(text: string): unknown {
  return parseSentJson(text, 'the manifest');
}

defineRoute({
  name: 'registerVersion',
  method: 'POST',
  route: 'models/{model}/versions',
  summary: 'Register a version: a manifest and its ONNX artifact (multipart); starts its lifecycle',
  description:
    'The artifact is streamed to storage while its sha256 is computed. Registering the same package again (same Idempotency-Key, or same artifact and manifest) answers the version registered first.',
  tags: ['versions'],
  access: ROLES.contributor,
  params: modelParamsSchema,
  body: {
    multipart: {
      manifest: { description: 'The registration manifest (JSON, schema RegistrationManifest), as a field or a file part' },
      artifact: { description: 'The ONNX model file', binary: true },
    },
  },
  responses: {
    202: {
      description: 'Registered (or found again); its lifecycle validates it next',
      schema: registeredSchema,
      headers: { Location: 'The version', 'Idempotent-Replayed': '"true" when this package was registered before' },
    },
  },
  handler: async ({ params, request, actor, client }) => {
    const deps = registration();
    const idempotencyKey = idempotencyKeyOf(request.headers.get('idempotency-key'));
    await registry().getModel(params.model); // an unknown model fails before the upload is stored
    const upload = await readRegistrationUpload(
      request,
      (stream) => stageUpload(deps, params.model, stream),
      (staged) => deps.lake.delete(staged.path),
    );
    let manifest: unknown;
    try {
      manifest = parseManifest(upload.manifest);
    } catch (error) {
      // registerPackage removes the staged artifact when it refuses a package; a manifest refused before it must too.
      if (upload.artifact.temporary) await deps.lake.delete(upload.artifact.path).catch(() => undefined);
      throw error;
    }
    const { version, created } = await registerPackage(deps, {
      model: params.model,
      manifest,
      artifact: upload.artifact,
      actor: actor!,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    await ensureLifecycleStarted(client, { model: version.modelName, version: version.version, reason: 'registered' });
    const self = versionPath(version.modelName, version.version);
    return {
      status: 202,
      headers: { location: self, ...(created ? {} : { 'idempotent-replayed': 'true' }) },
      body: {
        model: version.modelName,
        version: version.version,
        state: version.state,
        created,
        artifactSha256: version.artifact.sha256,
        links: { self, lifecycle: `/runtime/webhooks/durabletask/instances/${encodeURIComponent(lifecycleInstanceId(version.modelName, version.version))}` },
      },
    };
  },
});

defineRoute({
  name: 'getVersion',
  method: 'GET',
  route: 'models/{model}/versions/{version}',
  summary: 'A version: its state and history, the validation evidence and its lifecycle run',
  tags: ['versions'],
  access: ROLES.reader,
  params: versionParamsSchema,
  responses: { 200: { description: 'The version', schema: versionDetailSchema } },
  handler: async ({ params, client }) => {
    const version = await registry().getVersion(params.model, params.version);
    const [evidence, run] = await Promise.all([readEvidence(version), lifecycleStatus(client, params)]);
    return {
      status: 200,
      body: {
        version,
        evidence,
        lifecycle: run
          ? {
              instanceId: run.instanceId,
              runtimeStatus: run.runtimeStatus,
              customStatus: run.customStatus,
              createdTime: new Date(run.createdTime).toISOString(),
              lastUpdatedTime: new Date(run.lastUpdatedTime).toISOString(),
            }
          : null,
      },
    };
  },
});

async function readEvidence(version: ModelVersion) {
  if (!version.evidenceHash) return null;
  const path = lakePaths.evidence(version.modelName, version.version, version.evidenceHash);
  const bytes = await dataLake().readBuffer(path);
  return validationEvidenceSchema.parse(JSON.parse(bytes.toString('utf8')));
}

/** A decision on a version, written first (403/409 answer at once), then told to its lifecycle. */
async function decide(ref: VersionRef, command: LifecycleCommand, event: ApprovalEvent, actor: Actor, client: df.DurableClient) {
  const version = await registry().applyCommand(ref.model, ref.version, command, actor);
  const lifecycleNotified = await notifyLifecycle(client, ref, event);
  return { status: 200, body: { ...versionSummary(version), lifecycleNotified } };
}

defineRoute({
  name: 'approveVersion',
  method: 'POST',
  route: 'models/{model}/versions/{version}/approve',
  summary: 'Approve a version pending approval, quoting the evidence hash you read',
  description: 'Not by its registrant (separation of duties). A stale evidence hash is refused with 409 and the current one.',
  tags: ['decisions'],
  access: DECISION_ROLE,
  params: versionParamsSchema,
  body: { json: approveBodySchema },
  responses: { 200: { description: 'Approved; the lifecycle promotes it unless the policy leaves that to an admin', schema: decisionResultSchema } },
  handler: ({ params, body, actor, client }) =>
    decide(params, { type: 'approve', ...body }, { decision: 'approved', by: actor!.id }, actor!, client),
});

defineRoute({
  name: 'rejectVersion',
  method: 'POST',
  route: 'models/{model}/versions/{version}/reject',
  summary: 'Reject a version pending approval, quoting the evidence hash you read',
  tags: ['decisions'],
  access: DECISION_ROLE,
  params: versionParamsSchema,
  body: { json: rejectBodySchema },
  responses: { 200: { description: 'Rejected', schema: decisionResultSchema } },
  handler: ({ params, body, actor, client }) =>
    decide(params, { type: 'reject', ...body }, { decision: 'rejected', by: actor!.id }, actor!, client),
});

defineRoute({
  name: 'retireVersion',
  method: 'POST',
  route: 'models/{model}/versions/{version}/retire',
  summary: 'Retire a version that is not in production (its lifecycle stops waiting)',
  tags: ['decisions'],
  access: ROLES.admin,
  params: versionParamsSchema,
  body: { json: retireBodySchema, optional: true },
  responses: { 200: { description: 'Retired', schema: decisionResultSchema } },
  handler: ({ params, body, actor, client }) =>
    decide(params, { type: 'retire', ...(body?.reason ? { reason: body.reason } : {}) }, { decision: 'retired', by: actor!.id }, actor!, client),
});

/**
 * The approvals inbox route (`GET /api/approvals`, functions/http/approvals.ts) invoked through
 * devhost's worker as the host invokes it: a real HttpRequest with the principal App Service
 * Authentication sets, the in-memory registry and lake behind the composition root, and the real
 * Durable client talking to a stand-in of the extension's status API. What the handler adds to the
 * use case: the caller, the role the decision routes need, the query, each lifecycle's deadline
 * read through the client, and the links.
 */
import { defaultWorker } from '../../../devhost/worker';
import { lakePaths } from '../../../shared/domain/lake-paths';
import { approvalsInboxSchema } from '../../../shared/schemas/approvals';
import type { ValidationEvidence } from '../../../shared/schemas/evidence';
import type { Actor } from '../../../shared/schemas/lifecycle';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, sha } from '../../support/builders';
import { type DurableStatusStandIn, startDurableStatusStandIn, waitingLifecycle } from '../../support/durable-status-stand-in';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { MemoryLake } from '../../support/memory-lake';

const mockRegistry = new InMemoryModelRegistry();
const mockLake = new MemoryLake();
jest.mock('../../../shared/composition', () => ({ registryStore: () => mockRegistry, dataLake: () => mockLake }));
import '../../../functions/http/approvals';

const worker = defaultWorker();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The handler reads the wall clock: the versions began to wait relative to it. */
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const carlos = anActor({ id: 'carlos@example.com', roles: ['MLOps.Contributor'] });
const admin = anActor({ id: 'adam@example.com', roles: ['MLOps.Admin'] });
const system = anActor({ id: 'system:modelLifecycle', kind: 'system', roles: [] });

let standIn: DurableStatusStandIn;

/** A version of `model` by carlos that entered pending_approval at `since`, with its evidence in the lake. */
async function pendingVersion(useCases: RegistryUseCases, setClock: (at: number) => void, model: string, since: number): Promise<number> {
  setClock(since);
  const { version } = await useCases.registerVersion(model, aModelVersionInput(), carlos);
  const hash = sha(`${model}-${version}`);
  const evidence: ValidationEvidence = {
    schemaVersion: 1,
    model,
    version,
    validatedAt: iso(since),
    artifactSha256: sha('artifact'),
    champion: null,
    dataset: null,
    checks: [],
    splits: [],
    decision: 'pass',
    reasons: [],
  };
  await mockLake.write(lakePaths.evidence(model, version, hash), Buffer.from(JSON.stringify(evidence)));
  await useCases.applyCommand(model, version, { type: 'start_validation' }, system);
  await useCases.applyCommand(model, version, { type: 'pass_validation', evidenceHash: hash }, system);
  return version;
}

beforeAll(async () => {
  standIn = await startDurableStatusStandIn();
  worker.setInputBindingProvider('durableClient', () => standIn.payload);
  let clock = new Date(NOW - 10 * DAY);
  const useCases = new RegistryUseCases({ registry: mockRegistry, clock: { now: () => clock } });
  const setClock = (at: number) => (clock = new Date(at));
  await useCases.createModel(aModelDefinition({ name: 'churn', policies: { approval: { timeout: 'P3D' } } }), carlos);
  await useCases.createModel(aModelDefinition({ name: 'fraud', policies: { approval: { timeout: 'P7D' } } }), carlos);
  await pendingVersion(useCases, setClock, 'churn', NOW - 2 * DAY);
  await pendingVersion(useCases, setClock, 'churn', NOW - DAY);
  await pendingVersion(useCases, setClock, 'fraud', NOW - 12 * HOUR);
  // churn's v1 lifecycle read P3D as it started: it expires the version a day from now, whatever the policy says since.
  setClock(NOW - HOUR);
  await useCases.updateModel('churn', { policies: { approval: { timeout: 'P30D' } } }, admin);
  standIn.statuses.set('lifecycle:churn:1', waitingLifecycle(iso(NOW - 2 * DAY + 3 * DAY)));
  // fraud's lifecycle ended (terminated) without deciding: its last custom status is no deadline anyone keeps.
  standIn.statuses.set('lifecycle:fraud:1', { runtimeStatus: 'Terminated', customStatus: waitingLifecycle(iso(NOW + HOUR)).customStatus });
  // churn v2 has no instance at all (404).
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.asked.splice(0);
  standIn.down.clear();
});

/** The principal header App Service Authentication sets for `actor`. */
const principal = (actor: Actor) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims: [{ typ: 'name', val: actor.id }, ...actor.roles.map((r) => ({ typ: 'roles', val: r }))] })).toString('base64');

/** `GET /api/approvals{query}` as `actor` (anonymous when absent). */
async function getApprovals(actor: Actor | undefined, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = `http://127.0.0.1:7071/api/approvals${query}`;
  const result = await worker.invoke('listApprovals', {
    triggerData: { http: { method: 'GET', url, headers: actor ? { 'x-ms-client-principal': principal(actor) } : {}, query: Object.fromEntries(new URL(url).searchParams), params: {} } },
    quiet: true,
  });
  const response = result.http as { status: number; body: Buffer };
  return { status: response.status, body: JSON.parse(response.body.toString('utf8')) as Record<string, unknown> };
}

/** The inbox as its documented schema reads it, with `[model, version, deadline, deadlineSource]` per entry. */
function deadlines(body: Record<string, unknown>) {
  return approvalsInboxSchema.parse(body).approvals.map((a) => [a.model, a.version, a.deadline, a.deadlineSource]);
}

describe('GET /api/approvals', () => {
  it("when an approver reads it, then each waiting version has the deadline its running lifecycle reports, or the policy's when its instance is gone or ended, soonest first, with links to read and decide it", async () => {
    const answer = await getApprovals(anActor({ id: 'ana@example.com', roles: ['MLOps.Approver'] }));
    expect(answer.status).toBe(200);
    expect(deadlines(answer.body)).toEqual([
      ['churn', 1, iso(NOW + DAY), 'lifecycle'],
      ['fraud', 1, iso(NOW - 12 * HOUR + 7 * DAY), 'policy'],
      ['churn', 2, iso(NOW - DAY + 30 * DAY), 'policy'],
    ]);
    const inbox = approvalsInboxSchema.parse(answer.body);
    expect(inbox.approvals.map((a) => [a.youMayDecide, a.whyNot, a.links])).toEqual([
      [true, undefined, { version: '/api/models/churn/versions/1', approve: '/api/models/churn/versions/1/approve', reject: '/api/models/churn/versions/1/reject' }],
      [true, undefined, { version: '/api/models/fraud/versions/1', approve: '/api/models/fraud/versions/1/approve', reject: '/api/models/fraud/versions/1/reject' }],
      [true, undefined, { version: '/api/models/churn/versions/2', approve: '/api/models/churn/versions/2/approve', reject: '/api/models/churn/versions/2/reject' }],
    ]);
    expect(inbox.unreadable).toEqual([]);
    // One status per waiting version, under the lifecycle's instance id.
    expect([...standIn.asked].sort()).toEqual(['lifecycle:churn:1', 'lifecycle:churn:2', 'lifecycle:fraud:1']);
  });

  it('when a reader without the approver role reads it, then every version is listed as one they may not decide, naming the role approve and reject need', async () => {
    const reader = anActor({ id: 'rita@example.com', roles: ['MLOps.Reader'] });
    const answer = await getApprovals(reader);
    expect(answer.status).toBe(200);
    expect(approvalsInboxSchema.parse(answer.body).approvals.map((a) => [a.model, a.version, a.youMayDecide, a.whyNot])).toEqual([
      ['churn', 1, false, 'approve and reject need the role MLOps.Approver'],
      ['fraud', 1, false, 'approve and reject need the role MLOps.Approver'],
      ['churn', 2, false, 'approve and reject need the role MLOps.Approver'],
    ]);
    expect(approvalsInboxSchema.parse((await getApprovals(reader, '?youMayDecide=true')).body).approvals).toEqual([]);
  });

  it('when ?model= names one model, then only its versions are listed (and a model that does not exist is a 404); a query it does not know is a 400', async () => {
    const ana = anActor({ id: 'ana@example.com', roles: ['MLOps.Approver'] });
    expect(deadlines((await getApprovals(ana, '?model=fraud')).body)).toEqual([['fraud', 1, iso(NOW - 12 * HOUR + 7 * DAY), 'policy']]);
    expect(standIn.asked).toEqual(['lifecycle:fraud:1']);
    expect(await getApprovals(ana, '?model=nope')).toMatchObject({ status: 404, body: { code: 'MODEL_NOT_FOUND' } });
    expect(await getApprovals(ana, '?modle=fraud')).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR' } });
  });

  it("when the Durable host fails to answer a lifecycle's status, then the inbox still answers 200, that version with the policy's deadline", async () => {
    standIn.down.add('lifecycle:churn:1');
    const answer = await getApprovals(anActor({ id: 'ana@example.com', roles: ['MLOps.Approver'] }));
    expect(standIn.asked).toContain('lifecycle:churn:1');
    expect(answer.status).toBe(200);
    expect(deadlines(answer.body)).toEqual([
      ['fraud', 1, iso(NOW - 12 * HOUR + 7 * DAY), 'policy'],
      ['churn', 1, iso(NOW - 2 * DAY + 30 * DAY), 'policy'],
      ['churn', 2, iso(NOW - DAY + 30 * DAY), 'policy'],
    ]);
  });

  it('when nobody is signed in, then 401 and nothing is read', async () => {
    expect(await getApprovals(undefined)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(standIn.asked).toEqual([]);
  });
});

/**
 * The model lifecycle end to end on devhost, over real HTTP, with real ONNX models, real files in
 * Azurite and the real Service Bus SDK against the local broker: define -> register (multipart)
 * -> validation -> pending_approval -> approval -> production, and every way off that path.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';

jest.setTimeout(120_000);

const VALIDATION = 'datasets/regional/validation.csv';
const policies = {
  validation: {
    metric: 'rmse',
    maxRegressionVsChampion: 1.0,
    maxSegmentRegression: 0.5,
    minSegmentRows: 30,
    bootstrapResamples: 200,
    splits: [
      { kind: 'random', testFraction: 0.5, seed: 1 },
      { kind: 'kfold', k: 3, seed: 2 },
    ],
  },
};
const withValidation = (uri: string) => ({ datasets: [{ role: 'validation', uri }] });

let devhost: ProductDevhost;
let dataDir: string;

async function upload(name: string, body: string | Buffer): Promise<void> {
  const blob = devhost.container().getBlockBlobClient(name);
  await blob.upload(body, Buffer.byteLength(body));
}

/** Polls the version until its state is one of `states`; returns the version detail. */
async function until(model: string, version: number, ...states: string[]) {
  const reader = apiClient(devhost.origin, 'reader');
  return eventually(`${model} v${version} to be ${states.join(' or ')}`, async () => {
    const res = await reader.get(`models/${model}/versions/${version}`);
    if (res.status === 200 && states.includes(res.body.version.state)) return res.body;
    if (res.status === 200 && ['validation_failed', 'rejected', 'expired', 'retired'].includes(res.body.version.state) && !states.includes(res.body.version.state)) {
      throw new Error(`v${version} ended ${res.body.version.state}: ${JSON.stringify(res.body.evidence?.reasons ?? res.body.lifecycle)}`);
    }
    return undefined;
  });
}

/** The lifecycle instance of a version reached its end. */
async function lifecycleDone(model: string, version: number) {
  const reader = apiClient(devhost.origin, 'reader');
  return eventually(`the lifecycle of ${model} v${version} to complete`, async () => {
    const res = await reader.get(`models/${model}/versions/${version}`);
    return res.body?.lifecycle?.runtimeStatus === 'Completed' ? res.body : undefined;
  });
}

/** Small, so a refused artifact is cheap to send: the test models are a few hundred bytes. */
const MAX_ARTIFACT_BYTES = 1024 * 1024;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-e2e-'));
  devhost = await startProductDevhost({ dataDir, env: { MAX_ARTIFACT_BYTES: String(MAX_ARTIFACT_BYTES) } });
  await devhost.container().createIfNotExists();
  await upload(VALIDATION, toCsv(regionalRows(400, 11)));
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('model lifecycle over HTTP on devhost', () => {
  const contributor = () => apiClient(devhost.origin, 'contributor');
  const approver = () => apiClient(devhost.origin, 'approver');
  const admin = () => apiClient(devhost.origin, 'admin');
  const reader = () => apiClient(devhost.origin, 'reader');
  let v1 = 0;
  let v1PendingAt = '';

  it('when there is no token, then 401; a forged x-ms-client-principal from the client is ignored; a missing role is 403', async () => {
    expect((await apiClient(devhost.origin).get('models')).status).toBe(401);
    const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'name', val: 'eve' }, { typ: 'roles', val: 'MLOps.Admin' }] })).toString('base64');
    const withForged = await apiClient(devhost.origin).post('models', aRegionalModel('forged'), { 'x-ms-client-principal': forged });
    expect(withForged.status).toBe(401);
    expect(withForged.headers.get('content-type')).toBe('application/problem+json');
    expect(withForged.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', type: 'urn:mlops:problem:unauthenticated' });
    // A reader with a forged admin principal is still a reader.
    const readerForged = await reader().post('models', aRegionalModel('forged'), { 'x-ms-client-principal': forged });
    expect(readerForged).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', requiredRole: 'MLOps.Contributor' } });
    expect((await apiClient(devhost.origin).get('health')).status).toBe(200);
  });

  it('when a contributor defines a model, then 201 with the defaults; invalid definitions are 400 with the issues', async () => {
    const created = await contributor().post('models', aRegionalModel('regional', policies));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/models/regional');
    expect(created.body).toMatchObject({ modelName: 'regional', createdBy: 'carlos.contributor@contoso.example', definition: { policies: { approval: { timeout: 'P7D' } } } });
    expect((await contributor().post('models', aRegionalModel('regional'))).body).toMatchObject({ status: 409, code: 'MODEL_ALREADY_EXISTS' });
    const invalid = await contributor().post('models', { name: 'Bad Name', task: 'regression', features: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['name', 'idColumn', 'features']));
  });

  it('when a version is registered, then it validates on every split and segment and waits for approval with its evidence', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, withValidation(VALIDATION));
    const res = await contributor().register('regional', pkg.manifest, pkg.onnx);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ model: 'regional', version: 1, created: true });
    expect(res.headers.get('location')).toBe('/api/models/regional/versions/1');
    v1 = res.body.version;
    const detail = await until('regional', v1, 'pending_approval');
    v1PendingAt = new Date().toISOString();
    expect(detail.version.evidenceHash).toMatch(/^[a-f0-9]{64}$/);
    expect(detail.evidence).toMatchObject({ decision: 'pass', champion: null, dataset: { path: VALIDATION, rowsRead: 400, rowsEvaluated: 400 } });
    expect(detail.evidence.splits.map((s: { name: string }) => s.name)).toEqual(['random', 'kfold:1/3', 'kfold:2/3', 'kfold:3/3']);
    const random = detail.evidence.splits[0];
    expect(random.challenger.segments.map((s: { segment: string }) => s.segment)).toEqual(['region=north', 'region=south']);
    expect(random.challenger.overall.metrics.rmse.value).toBeLessThan(0.7);
    expect(random.challenger.overall.metrics.rmse.ci).toMatchObject({ method: 'bootstrap_percentile' });
    expect(detail.evidence.checks.find((c: { check: string }) => c.check === 'parity')).toMatchObject({ passed: true });
    // The activity moves the version first; the orchestration says so on its next episode.
    const lifecycle = await eventually('the lifecycle to wait for approval', async () => {
      const res = await apiClient(devhost.origin, 'reader').get(`models/regional/versions/${v1}`);
      return res.body?.lifecycle?.customStatus?.step === 'pending_approval' ? res.body.lifecycle : undefined;
    });
    expect(lifecycle).toMatchObject({ instanceId: 'lifecycle:regional:1', runtimeStatus: 'Running', customStatus: { step: 'pending_approval' } });
    // The stored evidence is the bundle its hash names.
    const stored = await devhost.container().getBlobClient(`evidence/regional/1/${detail.version.evidenceHash}.json`).downloadToBuffer();
    expect(JSON.parse(stored.toString())).toEqual(detail.evidence);
  });

  it('when the same package is registered again, then the same version comes back, also for two simultaneous first calls', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, withValidation(VALIDATION));
    const again = await contributor().register('regional', pkg.manifest, pkg.onnx);
    expect(again).toMatchObject({ status: 202, body: { version: v1, created: false } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const other = regionalPackage(TRUE_WEIGHTS, 0.05, withValidation(VALIDATION));
    const [a, b] = await Promise.all([
      contributor().register('regional', other.manifest, other.onnx, { 'idempotency-key': 'train-run-77' }),
      contributor().register('regional', other.manifest, other.onnx, { 'idempotency-key': 'train-run-77' }),
    ]);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.version).toBe(b.body.version);
    expect([a.body.created, b.body.created].sort()).toEqual([false, true]);
    const reused = await contributor().register('regional', pkg.manifest, pkg.onnx, { 'idempotency-key': 'train-run-77' });
    expect(reused.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    // Retire it so it does not wait for approval for the rest of the test.
    await until('regional', a.body.version, 'pending_approval');
    expect((await admin().post(`models/regional/versions/${a.body.version}/retire`, { reason: 'duplicate of the test' })).body).toMatchObject({ state: 'retired', lifecycleNotified: true });
    await lifecycleDone('regional', a.body.version);
  });

  it('when approvals are refused: no approver role 403, stale evidence 409 with the current hash, bad body 400', async () => {
    const detail = await until('regional', v1, 'pending_approval');
    const hash = detail.version.evidenceHash as string;
    expect((await contributor().post(`models/regional/versions/${v1}/approve`, { evidenceHash: hash })).body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const stale = await approver().post(`models/regional/versions/${v1}/approve`, { evidenceHash: 'f'.repeat(64) });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'EVIDENCE_MISMATCH', currentEvidenceHash: hash });
    const bad = await approver().post(`models/regional/versions/${v1}/approve`, { evidenceHash: 'nope', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['evidenceHash']));
    const text = await fetch(`${devhost.origin}/api/models/regional/versions/${v1}/approve`, { method: 'POST', headers: { authorization: 'Bearer token-approver', 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
  });

  it('when an approver approves with the evidence they read, then the lifecycle promotes it to production', async () => {
    const detail = await until('regional', v1, 'pending_approval');
    const res = await approver().post(`models/regional/versions/${v1}/approve`, { evidenceHash: detail.version.evidenceHash, comment: 'fine on both regions' });
    expect(res).toMatchObject({ status: 200, body: { state: 'approved', lifecycleNotified: true } });
    const done = await lifecycleDone('regional', v1);
    expect(done.version.state).toBe('production');
    expect((await reader().get('models/regional/champion')).body).toMatchObject({ version: v1 });
    const history = done.version.history.map((h: { command: string; actor: { id: string } }) => [h.command, h.actor.id]);
    expect(history).toEqual([
      ['start_validation', 'system:modelLifecycle'],
      ['pass_validation', 'system:modelLifecycle'],
      ['approve', 'ana.approver@contoso.example'],
      ['promote', 'system:modelLifecycle'],
    ]);
  });

  it('when a version is worse on one segment, then validation fails naming that segment in its evidence', async () => {
    const worse = regionalPackage([2, 3, 9, 0], 0, withValidation(VALIDATION));
    const res = await contributor().register('regional', worse.manifest, worse.onnx);
    const detail = await until('regional', res.body.version, 'validation_failed');
    expect(detail.evidence.decision).toBe('fail');
    expect(detail.evidence.champion).toMatchObject({ version: v1 });
    expect(detail.evidence.reasons.some((r: string) => /segment region=north: rmse .* worse than the champion's/.test(r))).toBe(true);
    expect(detail.evidence.reasons.some((r: string) => /region=south/.test(r))).toBe(false);
    expect(detail.version.history.at(-1)).toMatchObject({ command: 'fail_validation', reason: expect.stringContaining('region=north') });
    await lifecycleDone('regional', res.body.version);
  });

  it('when an approver rejects, then the version is rejected and its lifecycle ends', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0.01, withValidation(VALIDATION));
    const res = await contributor().register('regional', pkg.manifest, pkg.onnx);
    const detail = await until('regional', res.body.version, 'pending_approval');
    const rejected = await approver().post(`models/regional/versions/${res.body.version}/reject`, { evidenceHash: detail.version.evidenceHash, reason: 'not needed' });
    expect(rejected.body).toMatchObject({ state: 'rejected' });
    expect((await lifecycleDone('regional', res.body.version)).lifecycle.customStatus).toMatchObject({ step: 'done', state: 'rejected' });
  });

  it('when the lifecycle of a pending version was terminated, then an approval is recorded and says the lifecycle was not notified', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0.06, withValidation(VALIDATION));
    const version = (await contributor().register('regional', pkg.manifest, pkg.onnx)).body.version as number;
    const detail = await until('regional', version, 'pending_approval');
    const instance = encodeURIComponent(`lifecycle:regional:${version}`);
    const terminated = await fetch(`${devhost.origin}/runtime/webhooks/durabletask/instances/${instance}/terminate?reason=test&code=local-master-key`, { method: 'POST' });
    expect(terminated.status).toBe(202);
    await eventually('terminated', async () => ((await reader().get(`models/regional/versions/${version}`)).body?.lifecycle?.runtimeStatus === 'Terminated' ? true : undefined));
    const approved = await approver().post(`models/regional/versions/${version}/approve`, { evidenceHash: detail.version.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { state: 'approved', lifecycleNotified: false } });
    // Nothing will promote it: take it out of the way of the tests that follow.
    expect((await admin().post(`models/regional/versions/${version}/retire`)).body).toMatchObject({ state: 'retired' });
  });

  it('when the registrant approves their own version, then 403 for separation of duties', async () => {
    const lead = apiClient(devhost.origin, 'lead');
    const pkg = regionalPackage(TRUE_WEIGHTS, 0.02, withValidation(VALIDATION));
    const res = await lead.register('regional', pkg.manifest, pkg.onnx);
    const detail = await until('regional', res.body.version, 'pending_approval');
    const own = await lead.post(`models/regional/versions/${res.body.version}/approve`, { evidenceHash: detail.version.evidenceHash });
    expect(own.status).toBe(403);
    expect(own.body.detail).toMatch(/separation of duties/);
    // The retire body is optional: no body at all retires as {} does.
    const retired = await admin().post(`models/regional/versions/${res.body.version}/retire`);
    expect(retired).toMatchObject({ status: 200, body: { state: 'retired' } });
  });

  it('when two approvers approve at once, then one wins, the other gets 409, and there is one promotion', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0.03, withValidation(VALIDATION));
    const res = await contributor().register('regional', pkg.manifest, pkg.onnx);
    const version = res.body.version as number;
    const detail = await until('regional', version, 'pending_approval');
    const body = { evidenceHash: detail.version.evidenceHash };
    const answers = await Promise.all([
      approver().post(`models/regional/versions/${version}/approve`, body),
      apiClient(devhost.origin, 'approver2').post(`models/regional/versions/${version}/approve`, body),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const done = await lifecycleDone('regional', version);
    expect(done.version.state).toBe('production');
    const ledger = await reader().get('models/regional/audit?limit=1000');
    expect(ledger.body).toMatchObject({ continuationToken: null, nextLink: null });
    const audit = ledger.body.entries;
    expect(audit.filter((e: { kind: string; to: number }) => e.kind === 'champion_changed' && e.to === version)).toHaveLength(1);
    expect(done.version.history.filter((h: { command: string }) => h.command === 'approve')).toHaveLength(1);
  });

  it('when an admin rolls back, then the previous champion returns and champion?at= answers before and after', async () => {
    const before = (await reader().get('models/regional/champion')).body.version as number;
    expect(before).not.toBe(v1);
    const beforeRollback = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    expect((await approver().post('models/regional/rollback', { reason: 'x' })).status).toBe(403);
    const rolled = await admin().post('models/regional/rollback', { reason: 'complaints from the north' });
    expect(rolled).toMatchObject({ status: 200, body: { version: v1 } });
    expect((await reader().get(`models/regional/champion?at=${encodeURIComponent(beforeRollback)}`)).body.version).toBe(before);
    expect((await reader().get(`models/regional/champion?at=${encodeURIComponent(new Date().toISOString())}`)).body.version).toBe(v1);
    expect((await reader().get(`models/regional/champion?at=${encodeURIComponent(v1PendingAt)}`)).body.version).toBe(null);
    expect((await reader().get('models/regional/champion?at=yesterday')).status).toBe(400);
    const versions = (await reader().get('models/regional')).body.versions as { version: number; state: string }[];
    expect(versions.find((v) => v.version === before)?.state).toBe('archived');
    expect(versions.find((v) => v.version === v1)?.state).toBe('production');
  });

  it('when the models and a ledger are read a page at a time, then following nextLink lists each entry once, in the order of one large page, with the filters kept', async () => {
    /** Each page's entries, following nextLink (a path under /api/) as a client would. */
    const walk = async (first: string, list: 'models' | 'entries') => {
      const pages: Record<string, unknown>[][] = [];
      for (let path: string | null = first; path !== null; ) {
        const page = await reader().get(path);
        expect(page.status).toBe(200);
        pages.push(page.body[list] as Record<string, unknown>[]);
        path = page.body.nextLink === null ? null : (page.body.nextLink as string).replace(/^\/api\//, '');
      }
      return pages;
    };
    const whole = (await reader().get('models/regional/audit?limit=1000')).body as { entries: { id: string; at: string; version?: number }[]; nextLink: string | null };
    expect(whole.nextLink).toBeNull();
    expect(whole.entries.length).toBeGreaterThan(6);
    const pages = await walk('models/regional/audit?limit=2', 'entries');
    expect(pages.flat().map((e) => e.id)).toEqual(whole.entries.map((e) => e.id));
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    const at = whole.entries.map((e) => Date.parse(e.at));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    const from = whole.entries[2]!.at;
    const ofV1 = await walk(`models/regional/audit?version=${v1}&from=${encodeURIComponent(from)}&limit=1`, 'entries');
    expect(ofV1.flat().length).toBeGreaterThan(1);
    expect(ofV1.flat().map((e) => e.id)).toEqual(whole.entries.filter((e) => e.version === v1 && Date.parse(e.at) >= Date.parse(from)).map((e) => e.id));
    const models = (await reader().get('models?limit=1000')).body as { models: { name: string }[]; nextLink: string | null };
    expect(models.nextLink).toBeNull();
    expect((await walk('models?limit=1', 'models')).flat().map((m) => m.name)).toEqual(models.models.map((m) => m.name));
    expect(await reader().get('models/regional/audit?continuationToken=not-a-token')).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR', detail: expect.stringContaining('continuationToken') } });
  });

  it('when nobody decides before the approval timeout, then the version expires, saying why', async () => {
    await contributor().post('models', aRegionalModel('expiring', { ...policies, approval: { timeout: 'PT2S' } }));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, withValidation(VALIDATION));
    const res = await contributor().register('expiring', pkg.manifest, pkg.onnx);
    const detail = await until('expiring', res.body.version, 'expired');
    expect(detail.version.history.at(-1)).toMatchObject({
      command: 'expire',
      actor: { id: 'system:modelLifecycle' },
      reason: expect.stringMatching(/^no decision by \d{4}-\d\d-\d\dT[\d:.]+Z: the approval timeout \(policies\.approval\.timeout\) is PT2S$/),
    });
  });

  it('when the policy auto-approves (development models), then a passing version reaches production without a person', async () => {
    await contributor().post('models', aRegionalModel('sandbox', { ...policies, approval: { autoApprove: true } }));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, withValidation(VALIDATION));
    const res = await contributor().register('sandbox', pkg.manifest, pkg.onnx);
    const detail = await until('sandbox', res.body.version, 'production');
    expect(detail.version.history.find((h: { command: string }) => h.command === 'approve')).toMatchObject({ actor: { kind: 'system' }, reason: expect.stringContaining('autoApprove') });
  });

  it('when a package is dropped in Blob Storage, then it registers and validates; a broken one is quarantined with its reason', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0.04, withValidation(VALIDATION));
    await upload('models/regional/incoming/run-900/model.onnx', pkg.onnx);
    await upload('models/regional/incoming/run-900/manifest.json', JSON.stringify(pkg.manifest));
    const versions = await eventually('the package to register', async () => {
      const list = (await reader().get('models/regional')).body.versions as { version: number; registrant: string }[];
      return list.find((v) => v.registrant === 'package:regional/run-900');
    });
    await until('regional', versions.version, 'pending_approval');
    // The trigger empties the inbox after it started the lifecycle, and says so last.
    await eventually('the package trigger to finish', async () =>
      devhost.output.some((l) => l.includes(`registerModelPackage: package regional/run-900 registered as v${versions.version}`)) ? true : undefined,
    );
    expect(await devhost.container().getBlobClient('models/regional/incoming/run-900/manifest.json').exists()).toBe(false);
    expect(await devhost.container().getBlobClient(`models/regional/${versions.version}/model.onnx`).exists()).toBe(true);

    await upload('models/regional/incoming/run-901/model.onnx', pkg.onnx);
    await upload('models/regional/incoming/run-901/manifest.json', '{"signature": "not one"');
    // The package gets a quarantine folder of its own (per dropped manifest); its manifest moves last.
    await eventually('the broken package to be quarantined', async () =>
      (await devhost.container().getBlobClient('models/regional/incoming/run-901/manifest.json').exists()) ? undefined : true,
    );
    const quarantined: string[] = [];
    for await (const blob of devhost.container().listBlobsFlat({ prefix: 'quarantine/regional/packages/run-901/' })) quarantined.push(blob.name);
    const folder = quarantined.find((name) => name.endsWith('/reason.json'))?.replace(/reason\.json$/, '') ?? 'no reason.json';
    expect(folder).toMatch(/^quarantine\/regional\/packages\/run-901\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-[0-9a-f]{12}\/$/);
    expect(quarantined.sort()).toEqual([`${folder}manifest.json`, `${folder}model.onnx`, `${folder}reason.json`]);
    const reason = JSON.parse((await devhost.container().getBlobClient(`${folder}reason.json`).downloadToBuffer()).toString());
    expect(reason).toMatchObject({ code: 'VALIDATION_ERROR', reason: expect.stringMatching(/not valid JSON/), files: ['manifest.json', 'model.onnx'] });
    expect(await devhost.container().getBlobClient('models/regional/incoming/run-901/model.onnx').exists()).toBe(false);
  });

  it('when uploads are wrong, then clear 4xx answers and nothing is left in storage', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, withValidation(VALIDATION));
    const noArtifact = new FormData();
    noArtifact.set('manifest', JSON.stringify(pkg.manifest));
    const missing = await fetch(`${devhost.origin}/api/models/regional/versions`, { method: 'POST', headers: { authorization: 'Bearer token-contributor' }, body: noArtifact });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(/'artifact' part/);
    const json = await contributor().post('models/regional/versions', pkg.manifest);
    expect(json.status).toBe(415);
    // A manifest refused as text (not JSON, a field named twice) also leaves the staged artifact behind it nowhere.
    const manifestText = JSON.stringify(pkg.manifest);
    for (const [text, detail] of [
      ['{"signature": "not one"', /the manifest is not valid JSON/],
      [`${manifestText.slice(0, -1)},"metrics":{"rmse":1}}`.replace('{', '{"metrics":{"rmse":2},'), /the manifest names 'metrics' twice in one object/],
    ] as const) {
      const form = new FormData();
      form.set('manifest', text);
      form.set('artifact', new Blob([pkg.onnx]), 'model.onnx');
      const refused = await fetch(`${devhost.origin}/api/models/regional/versions`, { method: 'POST', headers: { authorization: 'Bearer token-contributor' }, body: form });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(detail);
    }
    const unknownDataset = regionalPackage(TRUE_WEIGHTS, 0, withValidation('datasets/regional/nope.csv'));
    const res = await contributor().register('regional', unknownDataset.manifest, unknownDataset.onnx);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', detail: expect.stringMatching(/nope\.csv/) });
    const corrupt = await contributor().register('regional', { ...pkg.manifest, artifact: { sha256: 'a'.repeat(64) } }, pkg.onnx);
    expect(corrupt.body).toMatchObject({ status: 422, code: 'ARTIFACT_INTEGRITY' });
    expect((await contributor().register('nosuchmodel', pkg.manifest, pkg.onnx)).status).toBe(404);
    // Too large for the version's registry document: a clear 413 naming the part, not a 500 from the store.
    const metrics = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`fold_${i}_rmse`, 0.1234567891]));
    const huge = await contributor().register('regional', { ...pkg.manifest, metrics }, pkg.onnx);
    expect(huge.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', detail: expect.stringMatching(/trainingMetrics/) });
    // An artifact past MAX_ARTIFACT_BYTES is refused while it streams in: the answer still reaches the client.
    const tooLarge = await contributor().register('regional', pkg.manifest, Buffer.alloc(8 * MAX_ARTIFACT_BYTES, 1));
    expect(tooLarge.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const uploads: string[] = [];
    for await (const blob of devhost.container().listBlobsFlat({ prefix: 'models/regional/uploads/' })) uploads.push(blob.name);
    expect(uploads).toEqual([]);
  });

  it('when the OpenAPI document is fetched without a token, then it validates as OpenAPI 3.1 and lists every route', async () => {
    const res = await apiClient(devhost.origin).get('openapi.json');
    expect(res.status).toBe(200);
    const result = JSON.parse(
      execFileSync(process.execPath, [path.join(__dirname, '../support/validate-openapi.mjs')], { input: JSON.stringify(res.body) }).toString(),
    ) as { valid: boolean; version: string; errors?: unknown };
    expect(result).toEqual({ valid: true, version: '3.1' });
    expect(res.body.openapi).toBe('3.1.0');
    const operations = Object.entries(res.body.paths as Record<string, Record<string, { operationId: string }>>).flatMap(([p, ops]) =>
      Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} /api${p} ${op.operationId}`),
    );
    const served = devhost.output.filter((l) => /^ {2}\w+: \[(GET|POST|PATCH)\]/.test(l)).map((l) => {
      const m = /^ {2}(\w+): \[(\w+)\] http:\/\/[^/]+(\S+)/.exec(l)!;
      return `${m[2]} ${m[3]} ${m[1]}`;
    });
    expect(operations.sort()).toEqual(served.sort());
  });

  it('when the lifecycle moved, then every change was published on the model-events topic', async () => {
    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const events: { type: string; model: string; version?: number; data: Record<string, string | number | null> }[] = [];
      await eventually('the events', async () => {
        for (const m of await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 })) events.push(m.body);
        return events.some((e) => e.type === 'champion.changed' && e.data.cause === 'rollback') ? true : undefined;
      });
      const v1Changes = events.filter((e) => e.model === 'regional' && e.version === v1 && e.type === 'lifecycle.changed').map((e) => `${e.data.from}->${e.data.to}`);
      expect(v1Changes).toEqual(expect.arrayContaining(['registered->validating', 'validating->pending_approval', 'pending_approval->approved', 'approved->production']));
      const approval = events.find((e) => e.version === v1 && e.data.command === 'approve');
      expect(approval?.data).toMatchObject({ actor: 'ana.approver@contoso.example', evidenceHash: expect.stringMatching(/^[a-f0-9]{64}$/) });
      const ids = events.map((e) => JSON.stringify([e.type, e.model, e.version, e.data]));
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await client.close();
    }
  });
});

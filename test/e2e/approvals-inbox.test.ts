/**
 * The approvals inbox (GET /api/approvals) end to end on devhost, over real HTTP: versions whose
 * lifecycles wait for a decision are listed with their deadline, evidence summary, links and
 * whether the caller may decide them; deciding through those links takes a version off the inbox;
 * the approval watch run through the admin API reports the deadlines the lifecycles keep.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { regionalPackage, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, regionalChampion, startProductDevhost, type TestIdentity } from '../support/product-devhost';

jest.setTimeout(120_000);

const MODEL = 'inbox';
let devhost: ProductDevhost;
let dataDir: string;
/** The version the contributor registered, and the one the lead (contributor and approver) registered. */
let byContributor = 0;
let byLead = 0;

const as = (who: TestIdentity) => apiClient(devhost.origin, who);

interface InboxEntry {
  model: string;
  version: number;
  pendingSince: string;
  deadline: string;
  deadlineSource: 'lifecycle' | 'policy';
  timeLeftMs: number;
  evidenceHash: string;
  registeredBy: string;
  validation: { decision: string; championVersion: number | null; headline: { metric: string; challenger: number; champion: number } | null } | null;
  youMayDecide: boolean;
  whyNot?: string;
  links: { version: string; approve: string; reject: string };
}

async function inbox(who: TestIdentity, query = ''): Promise<InboxEntry[]> {
  const res = await as(who).get(`approvals${query}`);
  expect(res.status).toBe(200);
  expect(res.body.unreadable).toEqual([]);
  return res.body.approvals;
}

const MASTER_KEY = 'local-master-key'; // DEVHOST_MASTER_KEY in local.settings.sample.json

/** Runs the approval watch through the admin API and waits until that run succeeded. */
async function runApprovalWatch(): Promise<void> {
  const succeeded = () => devhost.output.filter((l) => /Executed 'approvalWatch' \(timerTrigger, \d+ ms\) Succeeded/.test(l)).length;
  const before = succeeded();
  const res = await fetch(`${devhost.origin}/admin/functions/approvalWatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': MASTER_KEY },
    body: JSON.stringify({ input: '' }),
  });
  expect(res.status).toBe(202);
  await eventually('the approval watch to finish', async () => (succeeded() > before ? true : undefined));
}

/** A version registered by `who` whose lifecycle waits for a decision. */
async function pendingVersionBy(who: TestIdentity, bias: number): Promise<number> {
  const pkg = regionalPackage(TRUE_WEIGHTS, bias, { datasets: [{ role: 'validation', uri: `datasets/${MODEL}/validation.csv` }] });
  const registered = await as(who).register(MODEL, pkg.manifest, pkg.onnx);
  expect(registered.status).toBe(202);
  const version = registered.body.version as number;
  await eventually(`v${version} to wait for approval`, async () => {
    const v = await as('reader').get(`models/${MODEL}/versions/${version}`);
    return v.body?.lifecycle?.customStatus?.step === 'pending_approval' ? true : undefined;
  });
  return version;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'approvals-inbox-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
  const upload = (name: string, body: string) => devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
  // v1 is champion, so the waiting versions' evidence compares them with it.
  await regionalChampion(devhost.origin, MODEL, upload);
  byContributor = await pendingVersionBy('contributor', 0.01);
  byLead = await pendingVersionBy('lead', 0.02);
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the approvals inbox over HTTP on devhost', () => {
  it('when an approver reads the inbox, then both waiting versions are listed, soonest deadline first, with the links to read and decide them', async () => {
    const entries = await inbox('approver');
    expect(entries.map((e) => [e.model, e.version])).toEqual([
      [MODEL, byContributor],
      [MODEL, byLead],
    ]);
    const [first] = entries;
    expect(first).toMatchObject({
      registeredBy: 'carlos.contributor@contoso.example',
      evidenceHash: expect.stringMatching(/^[a-f0-9]{64}$/),
      validation: { decision: 'pass', championVersion: 1, headline: { metric: 'rmse', challenger: expect.any(Number), champion: expect.any(Number) } },
      youMayDecide: true,
      links: {
        version: `/api/models/${MODEL}/versions/${byContributor}`,
        approve: `/api/models/${MODEL}/versions/${byContributor}/approve`,
        reject: `/api/models/${MODEL}/versions/${byContributor}/reject`,
      },
    });
    expect(first!.whyNot).toBeUndefined();
    // The deadline is the model's default approval timeout (P7D) after the version began to wait.
    expect(Date.parse(first!.deadline) - Date.parse(first!.pendingSince)).toBe(7 * 86_400_000);
    expect(first!.timeLeftMs).toBeGreaterThan(7 * 86_400_000 - 120_000);
    // The link leads to the version the entry describes, with the evidence hash to quote.
    const detail = await as('reader').get(first!.links.version.replace(/^\/api\//, ''));
    expect(detail.body.version).toMatchObject({ state: 'pending_approval', evidenceHash: first!.evidenceHash, registrant: first!.registeredBy });
  });

  it('when the person who registered a version reads the inbox, then they may not decide that one, and the approve link refuses them as the inbox said', async () => {
    const entries = await inbox('lead');
    expect(entries.map((e) => [e.version, e.youMayDecide, e.whyNot])).toEqual([
      [byContributor, true, undefined],
      [byLead, false, 'you registered this version (separation of duties)'],
    ]);
    const own = entries[1]!;
    const refused = await as('lead').post(own.links.approve.replace(/^\/api\//, ''), { evidenceHash: own.evidenceHash });
    expect(refused.body).toMatchObject({ status: 403, code: 'FORBIDDEN', detail: expect.stringMatching(/separation of duties/) });
    expect((await inbox('lead', '?youMayDecide=false')).map((e) => e.version)).toEqual([byLead]);
    expect((await inbox('lead', '?youMayDecide=true')).map((e) => e.version)).toEqual([byContributor]);
  });

  it('when a reader reads the inbox, then every version is listed but none offered: the decision routes need the approver role', async () => {
    const entries = await inbox('reader', `?model=${MODEL}`);
    expect(entries.map((e) => [e.version, e.youMayDecide, e.whyNot])).toEqual([
      [byContributor, false, 'approve and reject need the role MLOps.Approver'],
      [byLead, false, 'approve and reject need the role MLOps.Approver'],
    ]);
  });

  it('when the query is not one the route takes, then 400; an unknown model is 404; no principal is 401', async () => {
    expect((await as('reader').get('approvals?state=pending')).body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect((await as('reader').get('approvals?youMayDecide=yes')).body).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', issues: [expect.objectContaining({ path: 'youMayDecide' })] });
    expect((await as('reader').get('approvals?model=Not%20A%20Name')).status).toBe(400);
    expect((await as('reader').get('approvals?model=nope')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await apiClient(devhost.origin).get('approvals')).status).toBe(401);
  });

  it("when the model's approval timeout is changed while versions wait, then each deadline is still the one its lifecycle keeps, in the inbox and in the approval watch's log, not the new policy's", async () => {
    const patched = await fetch(`${devhost.origin}/api/models/${MODEL}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer token-admin', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ policies: { approval: { timeout: 'P30D' } }, reason: 'approvers are on holiday' }),
    });
    expect(patched.status).toBe(200);
    const entries = await inbox('approver');
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      const lifecycle = (await as('reader').get(entry.links.version.replace(/^\/api\//, ''))).body.lifecycle;
      expect([entry.version, entry.deadline, entry.deadlineSource]).toEqual([entry.version, lifecycle.customStatus.approvalDeadline, 'lifecycle']);
      expect(Date.parse(entry.deadline) - Date.parse(entry.pendingSince)).toBe(7 * 86_400_000);
    }

    // The approval watch reports the same deadlines, from the lifecycles, not the new policy's.
    await runApprovalWatch();
    for (const entry of entries) {
      expect(devhost.output).toContainEqual(expect.stringContaining(`approvalWatch: ${MODEL} v${entry.version} pending since ${entry.pendingSince}, expires ${entry.deadline} (its lifecycle's deadline, `));
    }
  });

  it('when an approver approves through the inbox link, then the version leaves the inbox and the other stays', async () => {
    const [first] = await inbox('approver');
    expect(first!.version).toBe(byContributor);
    const approved = await as('approver').post(first!.links.approve.replace(/^\/api\//, ''), { evidenceHash: first!.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { state: 'approved', lifecycleNotified: true } });
    expect((await inbox('approver')).map((e) => e.version)).toEqual([byLead]);
    // Rejecting the other empties the inbox.
    const [other] = await inbox('approver');
    const rejected = await as('approver').post(other!.links.reject.replace(/^\/api\//, ''), { evidenceHash: other!.evidenceHash, reason: 'one new version is enough' });
    expect(rejected).toMatchObject({ status: 200, body: { state: 'rejected' } });
    expect(await inbox('approver')).toEqual([]);
  });
});

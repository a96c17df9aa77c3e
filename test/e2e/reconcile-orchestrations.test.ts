/**
 * Reconciliation end to end on devhost: drops whose runs wait for a champion, one run's instance
 * terminated and another's purged through the Durable management API, then the
 * `reconcileOrchestrations` timer run through `POST /admin/functions/{name}`: those two runs are
 * failed with the reason and `run.failed` is on the topic; the run whose instance still waits is
 * left alone. Then a version whose lifecycle is terminated while it validates: reconciliation fails
 * its validation, and `lifecycle.changed` says so. Then a version whose lifecycle is terminated
 * while it waits for approval: reconciliation starts it again with the same deadline, and an
 * approval then promotes the version. Last, a version approved while its lifecycle is gone: the
 * approval leaves it approved (no lifecycle to tell), and reconciliation starts the lifecycle
 * again, which promotes it as the policy (promoteOnApproval) says; approved while the policy left
 * promotion to an admin, and the policy turned on since (PATCH), it rests approved.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import type { ModelEvent } from '../../shared/schemas/messages';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';

jest.setTimeout(180_000);

const MODEL = 'stuck';
const MASTER_KEY = 'local-master-key'; // DEVHOST_MASTER_KEY in local.settings.sample.json

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');

type Run = { runId: string; state: string; instanceId: string; error?: string; sources: { path: string }[] };

const runOf = async (drop: string): Promise<Run | undefined> =>
  ((await reader().get(`models/${MODEL}/runs`)).body?.runs as Run[] | undefined)?.find((r) => r.sources.some((s) => s.path === drop));

/** The Durable extension's management API, as an operator calls it with the master key. */
const durable = (instanceId: string, operation: string, method: 'GET' | 'POST' | 'DELETE') =>
  fetch(`${devhost.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}${operation}`, { method, headers: { 'x-functions-key': MASTER_KEY } });

type Status = { runtimeStatus?: string; customStatus?: { step?: string } | null };
const statusOf = async (instanceId: string) => (await (await durable(instanceId, '', 'GET')).json()) as Status;

/** Runs the reconciliation timer through the admin API and waits until that run succeeded. */
async function reconcile(): Promise<void> {
  const succeeded = () => devhost.output.filter((l) => /Executed 'reconcileOrchestrations' \(timerTrigger, \d+ ms\) Succeeded/.test(l)).length;
  const before = succeeded();
  const res = await fetch(`${devhost.origin}/admin/functions/reconcileOrchestrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': MASTER_KEY },
    body: JSON.stringify({ input: '' }),
  });
  expect(res.status).toBe(202);
  await eventually('the reconciliation to finish', async () => (succeeded() > before ? true : undefined));
}

/** Receives from the `all-events` subscription until `enough` holds for the events of `type` received so far. */
async function receiveEvents<T extends ModelEvent['type']>(type: T, enough: (events: Extract<ModelEvent, { type: T }>[]) => boolean): Promise<Extract<ModelEvent, { type: T }>[]> {
  const client = new ServiceBusClient(devhost.serviceBusConnectionString);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const received: Extract<ModelEvent, { type: T }>[] = [];
    const ofType = (e: ModelEvent): e is Extract<ModelEvent, { type: T }> => e.type === type;
    await eventually(`${type} events`, async () => {
      received.push(...(await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).map((m) => m.body as ModelEvent).filter(ofType));
      return enough(received) ? true : undefined;
    });
    return received;
  } finally {
    await client.close();
  }
}

/** Registers `model` and its v1 on a small validation set, and answers v1 once it waits for approval. */
async function aVersionWaitingForApproval(model: string) {
  expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel(model, { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 100 } }))).status).toBe(201);
  const validation = toCsv(regionalRows(300, 5));
  await devhost.container().getBlockBlobClient(`datasets/${model}/validation.csv`).upload(validation, Buffer.byteLength(validation));
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: `datasets/${model}/validation.csv` }] });
  expect((await apiClient(devhost.origin, 'contributor').register(model, pkg.manifest, pkg.onnx)).status).toBe(202);
  return eventually('the version to wait for approval', async () => {
    const res = await reader().get(`models/${model}/versions/1`);
    return res.body?.lifecycle?.customStatus?.step === 'pending_approval' ? res.body : undefined;
  });
}

/** Terminates an instance as an operator would, and waits until its status says so. */
async function terminate(instanceId: string): Promise<void> {
  expect((await durable(instanceId, '/terminate?reason=operator', 'POST')).status).toBe(202);
  await eventually('the lifecycle to be terminated', async () => ((await statusOf(instanceId)).runtimeStatus === 'Terminated' ? true : undefined));
}

/** Sets the model's promoteOnApproval as an admin would (PATCH /models/{model}). */
async function setPromoteOnApproval(model: string, on: boolean): Promise<void> {
  const res = await fetch(`${devhost.origin}/api/models/${model}`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer token-admin', 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ policies: { approval: { promoteOnApproval: on } } }),
  });
  expect(res.status).toBe(200);
}

/** v1 of `model` once its lifecycle completed. */
const whenLifecycleCompleted = (model: string) =>
  eventually('production', async () => {
    const res = await reader().get(`models/${model}/versions/1`);
    return res.body?.lifecycle?.runtimeStatus === 'Completed' ? res.body : undefined;
  });

async function dropWaiting(name: string): Promise<Run> {
  const drop = `drops/${MODEL}/${name}.csv`;
  const body = toCsv(regionalRows(10, 7, { idPrefix: `${name}-` }));
  await devhost.container().getBlockBlobClient(drop).upload(body, Buffer.byteLength(body));
  return eventually(`the run of ${drop} to wait for a champion`, async () => {
    const run = await runOf(drop);
    if (run?.state !== 'waiting_for_champion') return undefined;
    // The instance waits for the champion event once its status says so.
    const status = await statusOf(run.instanceId);
    return status.customStatus?.step === 'waiting_for_champion' ? run : undefined;
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-e2e-'));
  // The schedule is far away: only the admin call runs reconciliation in this test.
  devhost = await startProductDevhost({ dataDir, env: { RECONCILE_SCHEDULE: '0 0 0 1 1 *' } });
  await devhost.container().createIfNotExists();
  expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel(MODEL))).status).toBe(201);
});

afterAll(async () => {
  await devhost?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('reconcileOrchestrations on devhost, run through POST /admin/functions/{name}', () => {
  it('when a run\'s instance was terminated and another\'s purged, then both runs are failed with the reason and run.failed is published; a run whose instance waits is left alone', async () => {
    const [terminated, purged, waiting] = [await dropWaiting('terminated'), await dropWaiting('purged'), await dropWaiting('waiting')];

    expect((await durable(terminated.instanceId, '/terminate?reason=operator', 'POST')).status).toBe(202);
    await eventually('the instance to be terminated', async () => ((await statusOf(terminated.instanceId)).runtimeStatus === 'Terminated' ? true : undefined));
    expect((await durable(purged.instanceId, '', 'DELETE')).status).toBe(200);
    expect((await durable(purged.instanceId, '', 'GET')).status).toBe(404);
    // What an operator's termination leaves: the run says it waits, for good.
    expect((await runOf(`drops/${MODEL}/terminated.csv`))?.state).toBe('waiting_for_champion');

    await reconcile();

    const terminatedError = `the orchestration instance '${terminated.instanceId}' ended (Terminated) without recording the outcome; drop the file again to score it`;
    const purgedError = `the orchestration instance '${purged.instanceId}' no longer exists (purged, or its task hub was reset) and did not record the outcome; drop the file again to score it`;
    expect(await runOf(`drops/${MODEL}/terminated.csv`)).toMatchObject({ state: 'failed', error: terminatedError });
    expect(await runOf(`drops/${MODEL}/purged.csv`)).toMatchObject({ state: 'failed', error: purgedError });
    expect(await runOf(`drops/${MODEL}/waiting.csv`)).toMatchObject({ state: 'waiting_for_champion', runId: waiting.runId });
    expect((await statusOf(waiting.instanceId)).runtimeStatus).toBe('Running');
    expect(devhost.output).toContainEqual(expect.stringContaining(`reconcileOrchestrations: ${MODEL}: run ${terminated.runId} failed: ${terminatedError}`));

    const failed = await receiveEvents('run.failed', (events) => events.length >= 2);
    expect(failed.map((e) => [e.eventId, e.model, e.data]).sort()).toEqual(
      [
        [`run:${terminated.runId}:failed`, MODEL, { runId: terminated.runId, error: terminatedError }],
        [`run:${purged.runId}:failed`, MODEL, { runId: purged.runId, error: purgedError }],
      ].sort(),
    );
  });

  it('when a version\'s lifecycle is terminated while it validates, then reconciliation fails its validation with the status and what to do, and lifecycle.changed says so', async () => {
    const model = 'stranded';
    const instanceId = `lifecycle:${model}:1`;
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel(model, { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 1000 } }))).status).toBe(201);
    // Enough rows that the validate activity takes a while: the lifecycle is suspended while it runs.
    const validation = toCsv(regionalRows(50_000, 1));
    await devhost.container().getBlockBlobClient(`datasets/${model}/validation.csv`).upload(validation, Buffer.byteLength(validation));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: `datasets/${model}/validation.csv` }] });
    expect((await apiClient(devhost.origin, 'contributor').register(model, pkg.manifest, pkg.onnx)).status).toBe(202);
    // The lifecycle logs 'validating' in the episode that schedules the validate activity; suspended
    // before that activity's result is taken, the version stays validating whatever validate does.
    await eventually('the lifecycle to validate', async () => (devhost.output.some((l) => l.includes(`[${instanceId}] ${model} v1: validating`)) ? true : undefined), 60_000, 10);
    expect((await durable(instanceId, '/suspend?reason=operator', 'POST')).status).toBe(202);
    await eventually('the lifecycle to be suspended', async () => ((await statusOf(instanceId)).runtimeStatus === 'Suspended' ? true : undefined));
    await terminate(instanceId);
    // What an operator's termination leaves: the version says it validates, for good.
    expect((await reader().get(`models/${model}/versions/1`)).body?.version).toMatchObject({ state: 'validating' });

    await reconcile();

    const reason = `validation could not be completed: the orchestration instance '${instanceId}' ended (Terminated) without recording the outcome; once the cause is fixed, register the package again as a new version (a new Idempotency-Key, or a changed manifest) to validate it, and retire this one`;
    const version = (await reader().get(`models/${model}/versions/1`)).body?.version;
    expect(version).toMatchObject({ state: 'validation_failed' });
    expect(version.history.at(-1)).toMatchObject({ command: 'fail_validation', to: 'validation_failed', reason, actor: { id: 'system:reconcileOrchestrations' } });
    expect(devhost.output).toContainEqual(expect.stringContaining(`reconcileOrchestrations: ${model}: version 1 failed: ${reason}`));
    const changed = await receiveEvents('lifecycle.changed', (events) => events.some((e) => e.model === model && e.version === 1 && e.data.to === 'validation_failed'));
    expect(changed.find((e) => e.model === model && e.data.to === 'validation_failed')).toMatchObject({ version: 1, data: { from: 'validating', command: 'fail_validation', reason } });
  });

  it('when a version\'s lifecycle is terminated while it waits for approval, then reconciliation starts it again under its id with the same deadline, and an approval promotes the version', async () => {
    const model = 'waiting';
    const instanceId = `lifecycle:${model}:1`;
    const pending = await aVersionWaitingForApproval(model);
    const deadline = pending.lifecycle.customStatus.approvalDeadline as string;
    await terminate(instanceId);
    // What an operator's termination leaves: nobody would expire the version, and an approval wakes no one.
    expect((await reader().get(`models/${model}/versions/1`)).body?.version).toMatchObject({ state: 'pending_approval' });

    await reconcile();

    const cause = `the orchestration instance '${instanceId}' ended (Terminated) without recording the outcome`;
    expect(devhost.output).toContainEqual(expect.stringContaining(`reconcileOrchestrations: ${model}: version 1 (pending_approval): lifecycle ${instanceId} started again (restart 1): ${cause}`));
    const restarted = await eventually('the restarted lifecycle to wait for approval', async () => {
      const res = await reader().get(`models/${model}/versions/1`);
      return res.body?.lifecycle?.runtimeStatus === 'Running' && res.body.lifecycle.customStatus?.step === 'pending_approval' ? res.body : undefined;
    });
    // The deadline runs from the version's entry into pending_approval (the default timeout, P7D),
    // not from the restart, and so did the first wait's: the deadline the approval watch computes.
    const pendingSince = (restarted.version.history as { to: string; at: string }[]).filter((t) => t.to === 'pending_approval').at(-1)!.at;
    const restartedDeadline = restarted.lifecycle.customStatus.approvalDeadline as string;
    expect(restartedDeadline).toBe(new Date(Date.parse(pendingSince) + 7 * 86_400_000).toISOString());
    expect(deadline).toBe(restartedDeadline);
    expect(restarted.version).toMatchObject({ state: 'pending_approval', lifecycleRestarts: [{ state: 'pending_approval', cause }] });

    const approved = await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/1/approve`, { evidenceHash: pending.version.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { lifecycleNotified: true } });
    const done = await whenLifecycleCompleted(model);
    expect(done.version.state).toBe('production');
    expect((await reader().get(`models/${model}/champion`)).body.version).toBe(1);
  });

  it('when a version is approved while its lifecycle is gone (terminated), then it stays approved, and reconciliation starts the lifecycle again, which promotes it', async () => {
    const model = 'unpromoted';
    const instanceId = `lifecycle:${model}:1`;
    const pending = await aVersionWaitingForApproval(model);
    await terminate(instanceId);

    // The approval is written, but no lifecycle hears it: the version rests approved, unpromoted.
    const approved = await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/1/approve`, { evidenceHash: pending.version.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { state: 'approved', lifecycleNotified: false } });
    expect((await reader().get(`models/${model}/champion`)).body.version).toBeNull();

    await reconcile();

    const cause = `the orchestration instance '${instanceId}' ended (Terminated) without recording the outcome`;
    const done = await whenLifecycleCompleted(model);
    expect(done.version).toMatchObject({ state: 'production', lifecycleRestarts: [{ state: 'approved', cause }] });
    expect(done.version.history.at(-1)).toMatchObject({ command: 'promote', from: 'approved', to: 'production', actor: { id: 'system:modelLifecycle' } });
    const approvedAt = (done.version.history as { to: string; at: string }[]).find((t) => t.to === 'approved')!.at;
    expect(devhost.output).toContainEqual(
      expect.stringContaining(`reconcileOrchestrations: ${model}: version 1 (approved): lifecycle ${instanceId} started again (restart 1): ${cause}; it was approved at ${approvedAt} and its lifecycle promotes it now`),
    );
    expect((await reader().get(`models/${model}/champion`)).body.version).toBe(1);
  });

  it('when a version is approved while its lifecycle is gone and the policy leaves promotion to an admin, and an admin turns promoteOnApproval on after, then reconciliation leaves it approved', async () => {
    const model = 'resting';
    const instanceId = `lifecycle:${model}:1`;
    const pending = await aVersionWaitingForApproval(model);
    await setPromoteOnApproval(model, false);
    await terminate(instanceId);
    const approved = await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/1/approve`, { evidenceHash: pending.version.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { state: 'approved', lifecycleNotified: false } });
    await setPromoteOnApproval(model, true);

    await reconcile();

    expect(devhost.output).toContainEqual(expect.stringMatching(/reconcileOrchestrations: .*, [1-9]\d* approved version\(s\) left approved as promoting them would undo a later decision or act on an approval not given to promote/));
    const after = (await reader().get(`models/${model}/versions/1`)).body;
    expect(after.version.state).toBe('approved');
    expect(after.version.lifecycleRestarts).toBeUndefined();
    expect((await statusOf(instanceId)).runtimeStatus).toBe('Terminated');
    expect((await reader().get(`models/${model}/champion`)).body.version).toBeNull();
  });
});

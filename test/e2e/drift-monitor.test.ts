/**
 * The drift monitor on devhost, run on demand through the host's admin API as a user would run
 * it: the product under devhost (child process), a champion approved over HTTP (its reference
 * profile written by its real validation), window profiles in Blob Storage as batch inference
 * writes them, `POST /admin/functions/driftMonitor`, and the verdicts read back over the API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { windowLengthMs, windowOf } from '../../shared/domain/windows';
import { modelInputSchema } from '../../shared/schemas/model';
import { referenceProfileSchema, type WindowSpan } from '../../shared/schemas/monitoring';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { shifted, usual, windowProfileOf } from '../support/monitoring-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';

jest.setTimeout(180_000);

const VALIDATION = 'datasets/regional/validation.csv';
const policies = {
  validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 0 },
  drift: { consecutiveWindows: 2, cooldown: 'PT0S' },
};
const MASTER_KEY = 'local-master-key'; // DEVHOST_MASTER_KEY in local.settings.sample.json
const day = windowLengthMs('P1D');
/** The last three whole days: the monitor only judges windows that are over. */
const windows: WindowSpan[] = [3, 2, 1].map((daysAgo) => windowOf(Date.now() - daysAgo * day, day));

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');

async function upload(name: string, body: string | Buffer): Promise<void> {
  await devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

const runMonitor = (headers: Record<string, string> = { 'x-functions-key': MASTER_KEY }, name = 'driftMonitor') =>
  fetch(`${devhost.origin}/admin/functions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ input: '' }) });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-monitor-e2e-'));
  // The schedule is far away: only the admin call runs the monitor in this test.
  devhost = await startProductDevhost({ dataDir, env: { DRIFT_MONITOR_SCHEDULE: '0 0 0 1 1 *' } });
  await devhost.container().createIfNotExists();
  await upload(VALIDATION, toCsv(regionalRows(200, 3)));

  // v1 becomes the champion the way a team makes it one: define, register, approve.
  expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('regional', policies))).status).toBe(201);
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: VALIDATION }] });
  expect((await apiClient(devhost.origin, 'contributor').register('regional', pkg.manifest, pkg.onnx)).status).toBe(202);
  const pending = await eventually('v1 to wait for approval', async () => {
    const res = await reader().get('models/regional/versions/1');
    return res.body?.version?.state === 'pending_approval' ? res.body : undefined;
  }, 60_000);
  await apiClient(devhost.origin, 'approver').post('models/regional/versions/1/approve', { evidenceHash: pending.version.evidenceHash });
  await eventually('v1 in production', async () => ((await reader().get('models/regional/champion')).body?.version === 1 ? true : undefined), 60_000);

  // What batch inference leaves for the monitor: one run profile per window, against v1's reference.
  const definition = modelInputSchema.parse(aRegionalModel('regional', policies));
  const reference = referenceProfileSchema.parse(JSON.parse((await devhost.container().getBlobClient('profiles/regional/v1/reference.json').downloadToBuffer()).toString()));
  const rows = [usual(1), shifted(2), shifted(3)];
  for (const [i, window] of windows.entries()) {
    await upload(`profiles/regional/windows/${window.id}/runs/run-${i}.json`, JSON.stringify(windowProfileOf(definition, reference, window, rows[i]!)));
  }
});

afterAll(async () => {
  await devhost?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('driftMonitor on devhost, run through POST /admin/functions/{name}', () => {
  it('when the master key is missing or the function unknown, then 401 or 404 and nothing runs', async () => {
    expect((await runMonitor({})).status).toBe(401);
    expect((await runMonitor({ 'x-functions-key': 'local-function-key' })).status).toBe(401);
    expect((await runMonitor({ 'x-functions-key': MASTER_KEY }, 'noSuchFunction')).status).toBe(404);
    expect((await reader().get('models/regional/monitoring')).body).toEqual({ model: 'regional', monitor: null, windows: [], unreadable: [], continuationToken: null, nextLink: null });
  });

  it('when an admin runs the monitor, then 202, and the windows come back judged, newest first, with one retraining request', async () => {
    const res = await runMonitor();
    expect(res.status).toBe(202);

    // The run is over when the host says so: a window is recorded before the monitor state moves past it.
    await eventually('the monitor run to finish', async () => (devhost.output.some((l) => /Executed 'driftMonitor'/.test(l)) ? true : undefined));
    const judged = (await reader().get('models/regional/monitoring')).body;
    expect(judged.windows).toHaveLength(3);
    const [w1, w2, w3] = windows.map((w) => w.id);
    expect(judged.windows.map((w: { window: { id: string } }) => w.window.id)).toEqual([w3, w2, w1]);
    expect(judged.windows.map((w: { drift: { evaluation: { verdict: string } } }) => w.drift.evaluation.verdict)).toEqual(['breach', 'warning', 'ok']);
    expect(judged.windows[0]).toMatchObject({
      version: 1,
      drift: { reference: 'profiles/regional/v1/reference.json', evaluation: { windowVerdict: 'drift', consecutive: 2, alert: true } },
      performanceVerdict: 'insufficient_data',
      retraining: { reason: 'drift', requestId: `retrain:regional:${w3}` },
    });
    expect(judged.monitor).toMatchObject({ evaluatedUntil: windows[2]!.end, recent: ['no_drift', 'drift', 'drift'] });
    expect(devhost.output).toContainEqual(expect.stringMatching(/Executed 'driftMonitor' \(timerTrigger, \d+ ms\) Succeeded/));
    expect(devhost.output).toContainEqual(expect.stringContaining(`retraining requested: retrain:regional:${w3}`));

    // Nothing new to judge: a second run changes nothing and requests nothing.
    expect((await runMonitor()).status).toBe(202);
    await eventually('the second run', async () => (devhost.output.filter((l) => /Executed 'driftMonitor'/.test(l)).length === 2 ? true : undefined));
    expect(devhost.output).toContainEqual(expect.stringContaining('driftMonitor: regional v1: 0 window(s); retraining requested: none'));
    expect((await reader().get('models/regional/monitoring')).body).toEqual(judged);
  });

  it('when the windows are asked for a period, then those overlapping [from, to) come back; a stranger gets 401, an unknown model 404', async () => {
    const [, w2, w3] = windows;
    const some = await reader().get(`models/regional/monitoring?from=${encodeURIComponent(w2!.start)}&to=${encodeURIComponent(w3!.start)}`);
    expect(some.body.windows.map((w: { window: { id: string } }) => w.window.id)).toEqual([w2!.id]);
    expect((await apiClient(devhost.origin).get('models/regional/monitoring')).status).toBe(401);
    expect((await reader().get('models/nope/monitoring')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect((await reader().get('models/regional/monitoring?since=yesterday')).status).toBe(400);
  });
});

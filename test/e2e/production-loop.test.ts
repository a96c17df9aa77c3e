/**
 * The whole production loop on devhost, driven only through what a user has: the HTTP API, files
 * written to Blob Storage, and the host's admin API to run the monitor now. v1 is approved; three
 * drops (one with bad rows) are scored exactly; actuals arrive and give realised metrics; the world
 * drifts over three days; the monitor judges all the windows and asks for exactly one retraining
 * although two breach; the built-in trainer registers v2 from the drifted labelled data; v2 is
 * validated against v1 and approved; the next drop is scored by v2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { windowLengthMs, windowOf } from '../../shared/domain/windows';
import type { WindowSpan } from '../../shared/schemas/monitoring';
import { drifted } from '../support/labelled-data';
import { aRegionalModel, regionalPackage, regionalRows, type Row, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(300_000);

const MODEL = 'loop';
const MASTER_KEY = 'local-master-key'; // DEVHOST_MASTER_KEY in local.settings.sample.json
const policies = {
  validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 0, maxRegressionVsChampion: 0.1 },
  drift: { consecutiveWindows: 2 },
  // The world changes fast: retraining learns from the alert's window alone.
  retraining: { windows: 1 },
};
const day = windowLengthMs('P1D');
/** Six whole days, oldest first: three as v1 knew the world, then three after it drifted. */
const days: WindowSpan[] = [6, 5, 4, 3, 2, 1].map((daysAgo) => windowOf(Date.now() - daysAgo * day, day));
const [usualDays, driftedDays] = [days.slice(0, 3), days.slice(3)];

interface TimedRow extends Row {
  ts: string;
}

/** Rows spread over a span; drifted ones have moved inputs and follow the drifted world's law. */
function rowsOn(
  span: { start: string; end: string },
  n: number,
  seed: number,
  world: 'usual' | 'drifted',
): TimedRow[] {
  const start = Date.parse(span.start);
  const length = Date.parse(span.end) - start;
  return regionalRows(n, seed, { idPrefix: `${world[0]}${seed}-` }).map((r, i) => {
    const ts = new Date(start + Math.floor(((i + 0.5) * length) / n)).toISOString();
    if (world === 'usual') return { ...r, ts };
    const moved = { ...r, x1: r.x1 + 4, x2: r.x2 + 2 };
    return {
      ...moved,
      ts,
      actual:
        Math.round(
          (drifted(moved) + (r.actual - (2 * r.x1 + 3 * r.x2 + (r.region === 'north' ? 10 : 0))) * 0.2) * 1e6,
        ) / 1e6,
    };
  });
}

/** A drop as a data pipeline writes it: features and time, no target. */
const dropCsv = (rows: readonly TimedRow[], extraLines: string[] = []) =>
  `id,ts,x1,x2,region\n${[...rows.map((r) => [r.id, r.ts, r.x1, r.x2, r.region].join(',')), ...extraLines].join('\n')}\n`;
const actualsCsv = (rows: readonly TimedRow[]) =>
  `id,actual\n${rows.map((r) => `${r.id},${r.actual}`).join('\n')}\n`;

/** A monitoring window as `GET .../monitoring` returns it (the parts this test reads). */
interface WindowDoc {
  window: { id: string };
  drift?: { evaluation: { verdict: string } };
  performanceVerdict?: string;
  performance: { metrics: { overall: { metrics: { rmse: { value: number } } } } } | null;
  retraining?: { reason: string; requestId: string | null; blockedBy?: string };
}

interface RequestDoc {
  requestId: string;
  state: string;
  outcome?: string;
  error?: string;
}

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');
const approver = () => apiClient(devhost.origin, 'approver');

async function upload(name: string, body: string | Buffer): Promise<void> {
  await devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

async function versionIn(version: number, state: string) {
  return eventually(
    `v${version} to be ${state}`,
    async () => {
      const res = await reader().get(`models/${MODEL}/versions/${version}`);
      if (['validation_failed', 'rejected', 'expired'].includes(res.body?.version?.state)) {
        throw new Error(
          `v${version} ended ${res.body.version.state}: ${JSON.stringify(res.body.evidence?.reasons)}`,
        );
      }
      return res.body?.version?.state === state ? res.body : undefined;
    },
    120_000,
  );
}

/** The completed run of a drop, with its predictions manifest. */
async function completedRun(dropPath: string) {
  return eventually(
    `the run of ${dropPath}`,
    async () => {
      const runs = (await reader().get(`models/${MODEL}/runs`)).body?.runs as
        { runId: string; state: string; sources: { path: string }[] }[] | undefined;
      const run = runs?.find((r) => r.sources.some((s) => s.path === dropPath));
      if (run?.state === 'failed') throw new Error(`the run of ${dropPath} failed: ${JSON.stringify(run)}`);
      return run?.state === 'completed'
        ? (await reader().get(`models/${MODEL}/runs/${run.runId}`)).body
        : undefined;
    },
    120_000,
  );
}

async function predictionsOf(detail: { manifest: { parts: { path: string }[] } }) {
  const rows: Record<string, unknown>[] = [];
  for (const part of detail.manifest.parts)
    rows.push(
      ...(await readParquetRows(await devhost.container().getBlobClient(part.path).downloadToBuffer())),
    );
  return rows;
}

/** Uploads actuals and waits until the join recorded them. */
async function joinActuals(name: string, rows: readonly TimedRow[]) {
  await upload(`actuals/${MODEL}/${name}`, actualsCsv(rows));
  return eventually(
    `the actuals ${name} joined`,
    async () => {
      const found = (
        (await reader().get(`models/${MODEL}/actuals`)).body?.actuals as
          { source: { path: string }; state: string; error?: string }[] | undefined
      )?.find((a) => a.source.path === `actuals/${MODEL}/${name}`);
      if (found?.state === 'failed') throw new Error(`the join of ${name} failed: ${found.error}`);
      return found?.state === 'completed' ? found : undefined;
    },
    120_000,
  );
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-e2e-'));
  devhost = await startProductDevhost({
    dataDir,
    // Only the admin call runs the monitor.
    env: { DRIFT_MONITOR_SCHEDULE: '0 0 0 1 1 *' },
  });
  await devhost.container().createIfNotExists();
});

afterAll(async () => {
  await devhost?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('when the world drifts, then the loop retrains once, and after approval the next drop is scored by the new version', async () => {
  // v1: defined, registered with its validation data, validated, approved.
  const contributor = apiClient(devhost.origin, 'contributor');
  expect(
    (await contributor.post('models', { ...aRegionalModel(MODEL, policies), timestampColumn: 'ts' })).status,
  ).toBe(201);
  const validation = rowsOn(days[0]!, 400, 100, 'usual');
  await upload(
    `datasets/${MODEL}/validation.csv`,
    `id,ts,x1,x2,region,actual\n${validation.map((r) => [r.id, r.ts, r.x1, r.x2, r.region, r.actual].join(',')).join('\n')}\n`,
  );
  const v1 = regionalPackage(TRUE_WEIGHTS, 0, {
    datasets: [{ role: 'validation', uri: `datasets/${MODEL}/validation.csv` }],
  });
  expect((await contributor.register(MODEL, v1.manifest, v1.onnx)).status).toBe(202);
  const pendingV1 = await versionIn(1, 'pending_approval');
  expect(
    (
      await approver().post(`models/${MODEL}/versions/1/approve`, {
        evidenceHash: pendingV1.version.evidenceHash,
      })
    ).status,
  ).toBe(200);
  await versionIn(1, 'production');

  // Three drops as v1 knew the world; the second one with bad rows.
  const usual = usualDays.map((window, i) => rowsOn(window, 300, i + 1, 'usual'));
  const badLines = [
    'bad-1,2026-01-01T00:00:00Z,not-a-number,1,north',
    `bad-2,${usualDays[1]!.start},1,2,`,
    `,${usualDays[1]!.start},1,2,south`,
  ];
  for (const [i, rows] of usual.entries())
    await upload(`drops/${MODEL}/usual-${i}.csv`, dropCsv(rows, i === 1 ? badLines : []));
  for (const [i, rows] of usual.entries()) {
    const detail = await completedRun(`drops/${MODEL}/usual-${i}.csv`);
    expect(detail.run).toMatchObject({
      version: 1,
      rowsScored: 300,
      rowsQuarantined: i === 1 ? 3 : 0,
      windows: [usualDays[i]!.id],
    });
    const predicted = await predictionsOf(detail);
    expect(predicted).toHaveLength(300);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const p of predicted) expect(p.prediction).toBeCloseTo(v1.predict(byId.get(p.id as string)!), 4);
    if (i === 1) {
      const quarantined = (
        await devhost
          .container()
          .getBlobClient(`quarantine/${MODEL}/${detail.run.runId}/chunk-00000.jsonl`)
          .downloadToBuffer()
      )
        .toString()
        .trim()
        .split('\n');
      expect(quarantined.map((l) => JSON.parse(l) as { row: number; reason: string })).toEqual([
        expect.objectContaining({ row: 301, reason: expect.stringMatching(/x1/) }),
        expect.objectContaining({ row: 302, reason: expect.stringMatching(/region/) }),
        expect.objectContaining({ row: 303, reason: expect.stringMatching(/id/) }),
      ]);
    }
  }

  // Actuals for them: realised metrics per window, with full label coverage, and v1 does well.
  for (const [i, rows] of usual.entries()) {
    const record = await joinActuals(`usual-${i}.csv`, rows);
    expect(record).toMatchObject({ rows: 300, matched: 300, unmatched: 0, windows: [usualDays[i]!.id] });
  }
  const realised = (await reader().get(`models/${MODEL}/monitoring`)).body.windows as WindowDoc[];
  for (const window of usualDays) {
    const doc = realised.find((w) => w.window.id === window.id)!;
    expect(doc).toMatchObject({
      predictions: 300,
      labelled: 300,
      labelCoverage: 1,
      performance: { provisional: false },
    });
    expect(doc.performance!.metrics.overall.metrics.rmse.value).toBeLessThan(1);
  }

  // The world drifts for three days: drops, then their actuals.
  const drifting = driftedDays.map((window, i) => rowsOn(window, 300, i + 11, 'drifted'));
  for (const [i, rows] of drifting.entries()) await upload(`drops/${MODEL}/drifted-${i}.csv`, dropCsv(rows));
  for (const [i] of drifting.entries())
    expect((await completedRun(`drops/${MODEL}/drifted-${i}.csv`)).run).toMatchObject({
      version: 1,
      rowsScored: 300,
    });
  for (const [i, rows] of drifting.entries()) await joinActuals(`drifted-${i}.csv`, rows);

  // The timer fires (run now through the host's admin API): every window judged. Realised
  // performance breaches on the first drifted day (no consecutive rule for it) and asks for
  // retraining; the data drift alert a day later and the next breach find that request open.
  const monitor = await fetch(`${devhost.origin}/admin/functions/driftMonitor`, {
    method: 'POST',
    headers: { 'x-functions-key': MASTER_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ input: '' }),
  });
  expect(monitor.status).toBe(202);
  const judged = await eventually('the monitor to judge six windows', async () => {
    const body = (await reader().get(`models/${MODEL}/monitoring`)).body;
    return (body?.windows as WindowDoc[] | undefined)?.filter((w) => w.drift).length === 6 ? body : undefined;
  });
  const verdicts = Object.fromEntries(
    (judged.windows as WindowDoc[]).map((w) => [w.window.id, w.drift?.evaluation.verdict]),
  );
  expect(days.map((d) => verdicts[d.id])).toEqual(['ok', 'ok', 'ok', 'warning', 'breach', 'breach']);
  const performance = Object.fromEntries(
    (judged.windows as WindowDoc[]).map((w) => [w.window.id, w.performanceVerdict]),
  );
  // Before the drift the realised error is within the policy's 10% tolerance of validation's
  // (sampling noise may make it a warning); after it, far beyond.
  expect(usualDays.map((d) => performance[d.id]).filter((v) => v !== 'ok' && v !== 'warning')).toEqual([]);
  expect(driftedDays.map((d) => performance[d.id])).toEqual(['breach', 'breach', 'breach']);
  const alertWindow = driftedDays[0]!.id;
  const requestId = `retrain:${MODEL}:${alertWindow}`;
  const raised = Object.fromEntries(
    (judged.windows as WindowDoc[]).filter((w) => w.retraining).map((w) => [w.window.id, w.retraining]),
  );
  expect(raised).toEqual({
    [alertWindow]: { reason: 'performance', requestId },
    [driftedDays[1]!.id]: {
      reason: 'performance',
      requestId: null,
      blockedBy: expect.stringContaining(requestId),
    },
    [driftedDays[2]!.id]: {
      reason: 'performance',
      requestId: null,
      blockedBy: expect.stringContaining(requestId),
    },
  });
  const requests = await eventually(
    'the retraining to register v2',
    async () => {
      const list = (await reader().get(`models/${MODEL}/retraining`)).body?.requests as
        RequestDoc[] | undefined;
      if (list?.[0]?.state === 'failed') throw new Error(`retraining failed: ${list[0].error}`);
      return list?.[0]?.state === 'registered' ? list : undefined;
    },
    120_000,
  );
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatchObject({
    requestId,
    reason: 'performance',
    trainer: 'builtin',
    resultVersion: 2,
    training: { source: 'labelled', from: [alertWindow] },
  });

  // v2 is validated against v1 on held-out drifted data, and wins.
  const pendingV2 = await versionIn(2, 'pending_approval');
  expect(pendingV2.version.lineage).toEqual({ source: 'builtin', parentVersion: 1, trainingRun: requestId });
  expect(pendingV2.evidence).toMatchObject({ decision: 'pass', champion: { version: 1 } });
  const [split] = pendingV2.evidence.splits;
  expect(split.challenger.overall.metrics.rmse.value).toBeLessThan(
    split.champion.overall.metrics.rmse.value / 4,
  );
  expect(
    (
      await approver().post(`models/${MODEL}/versions/2/approve`, {
        evidenceHash: pendingV2.version.evidenceHash,
      })
    ).status,
  ).toBe(200);
  await versionIn(2, 'production');
  await eventually('the request to close', async () => {
    const [request] = (await reader().get(`models/${MODEL}/retraining`)).body.requests;
    return request.state === 'closed' && request.outcome === 'production' ? true : undefined;
  });

  // The next drop is scored by v2, which knows the drifted world.
  const next = rowsOn(
    { start: new Date(Date.now() - day / 2).toISOString(), end: new Date().toISOString() },
    200,
    21,
    'drifted',
  );
  await upload(`drops/${MODEL}/next.csv`, dropCsv(next));
  const detail = await completedRun(`drops/${MODEL}/next.csv`);
  expect(detail.run).toMatchObject({ version: 2, rowsScored: 200 });
  const byId = new Map(next.map((r) => [r.id, r]));
  const errors = (await predictionsOf(detail)).map((p) =>
    Math.abs((p.prediction as number) - drifted(byId.get(p.id as string)!)),
  );
  expect(Math.max(...errors)).toBeLessThan(1);
});

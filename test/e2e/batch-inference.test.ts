/**
 * Data drops scored end to end on devhost: a CSV or Parquet file written to
 * `drops/{model}/...` in Azurite is scored by the champion through the `batchInference`
 * orchestration; predictions, quarantine, run records, window profiles and events are checked
 * against a direct computation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { aRegionalModel, regionalPackage, regionalRows, type Row, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(180_000);

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');

async function upload(name: string, body: string | Buffer): Promise<void> {
  await devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

/** Registers, validates and approves a version of `model`; resolves when it is champion. */
async function championOf(model: string, weights: readonly number[], bias: number): Promise<number> {
  const pkg = regionalPackage(weights, bias, { datasets: [{ role: 'validation', uri: `datasets/${model}/validation.csv` }] });
  const res = await apiClient(devhost.origin, 'contributor').register(model, pkg.manifest, pkg.onnx);
  const version = res.body.version as number;
  const pending = await eventually(`v${version} pending`, async () => {
    const v = await reader().get(`models/${model}/versions/${version}`);
    return v.body?.version?.state === 'pending_approval' ? v.body : undefined;
  });
  await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/${version}/approve`, { evidenceHash: pending.version.evidenceHash });
  await eventually('production', async () => ((await reader().get(`models/${model}/champion`)).body?.version === version ? true : undefined));
  return version;
}

async function runsOf(model: string) {
  return (await reader().get(`models/${model}/runs`)).body?.runs as { runId: string; state: string; sources: { path: string }[] }[];
}

/** The run of a drop once it ended (completed or failed), with its detail. */
async function finishedRun(model: string, dropPath: string) {
  return eventually(`the run of ${dropPath}`, async () => {
    const run = (await runsOf(model))?.find((r) => r.sources.some((s) => s.path === dropPath));
    return run?.state === 'completed' || run?.state === 'failed' ? (await reader().get(`models/${model}/runs/${run.runId}`)).body : undefined;
  }, 60_000);
}

async function completedRun(model: string, dropPath: string) {
  const detail = await finishedRun(model, dropPath);
  expect(detail.run).toMatchObject({ state: 'completed' });
  return detail;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-e2e-'));
  devhost = await startProductDevhost({ dataDir, env: { SCORE_MAX_ROWS: '50', SCHEDULED_INFERENCE_CHECK: '*/2 * * * * *' } });
  await devhost.container().createIfNotExists();
  await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('demand', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } }));
  await upload('datasets/demand/validation.csv', toCsv(regionalRows(300, 1)));
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('batch inference of data drops on devhost', () => {
  it('when a drop arrives before there is a champion, then it waits, and is scored once a champion is promoted', async () => {
    const rows = regionalRows(120, 50, { idPrefix: 'early-' });
    await upload('drops/demand/2026/12/early.csv', toCsv(rows));
    const waiting = await eventually('a waiting run', async () => (await runsOf('demand'))?.find((r) => r.state === 'waiting_for_champion'));
    expect(waiting.sources[0]!.path).toBe('drops/demand/2026/12/early.csv');
    await championOf('demand', TRUE_WEIGHTS, 0);
    const run = await completedRun('demand', 'drops/demand/2026/12/early.csv');
    expect(run.run).toMatchObject({ state: 'completed', version: 1, rowsRead: 120, rowsScored: 120, rowsQuarantined: 0 });
  });

  it('when a drop arrives before its model is registered, then its run waits in the model\'s runs and is scored once the model has a champion', async () => {
    expect((await reader().get('models/latecomer/runs')).status).toBe(404);
    await upload('drops/latecomer/first.csv', toCsv(regionalRows(80, 51, { idPrefix: 'late-' })));
    const waiting = await eventually('a waiting run', async () => (await reader().get('models/latecomer/runs')).body?.runs?.[0]);
    expect(waiting).toMatchObject({ state: 'waiting_for_champion', version: null, sources: [{ path: 'drops/latecomer/first.csv' }] });
    expect((await reader().get('models/latecomer')).status).toBe(404);
    await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('latecomer', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } }));
    await upload('datasets/latecomer/validation.csv', toCsv(regionalRows(300, 52)));
    await championOf('latecomer', TRUE_WEIGHTS, 0);
    const run = await completedRun('latecomer', 'drops/latecomer/first.csv');
    expect(run.run).toMatchObject({ runId: waiting.runId, state: 'completed', version: 1, rowsRead: 80, rowsScored: 80, rowsQuarantined: 0 });
  });

  it('when a drop has bad rows, then good rows are predicted exactly and bad ones quarantined with reasons', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const rows = regionalRows(500, 2, { idPrefix: 'b-' });
    const lines = toCsv(rows).trimEnd().split('\n');
    lines.push('bad-1,not-a-number,1,north,0', 'bad-2,1,2,3,4,5', 'bad-3,1,2,,0');
    await upload('drops/demand/2026/12/batch-1.csv', `${lines.join('\n')}\n`);
    const detail = await completedRun('demand', 'drops/demand/2026/12/batch-1.csv');
    expect(detail.run).toMatchObject({ rowsRead: 503, rowsScored: 500, rowsQuarantined: 3 });
    expect(Object.values(detail.run.rejectionReasons as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3);
    const manifest = detail.manifest as { parts: { path: string; rows: number }[] };
    const predicted: Record<string, unknown>[] = [];
    for (const part of manifest.parts) predicted.push(...(await readParquetRows(await devhost.container().getBlobClient(part.path).downloadToBuffer())));
    expect(predicted).toHaveLength(500);
    const byId = new Map<string, Row>(rows.map((r) => [r.id, r]));
    for (const p of predicted) {
      const row = byId.get(p.id as string)!;
      expect(p.prediction).toBeCloseTo(pkg.predict(row), 4);
      expect(p).toMatchObject({ region: row.region, model_version: 1, run_id: detail.run.runId });
    }
    const quarantine = (await devhost.container().getBlobClient(`quarantine/demand/${detail.run.runId}/chunk-00000.jsonl`).downloadToBuffer()).toString().trim().split('\n');
    expect(quarantine.map((l) => (JSON.parse(l) as { row: number }).row)).toEqual([501, 502, 503]);
    expect(JSON.parse(quarantine[0]!)).toMatchObject({ reason: expect.stringMatching(/x1/) });
  });

  it('when the same blob event is delivered 5 more times, then there is one run; a new version of the blob is a new run', async () => {
    const body = toCsv(regionalRows(50, 3, { idPrefix: 'dup-' }));
    await upload('drops/demand/2026/12/dup.csv', body);
    const first = await completedRun('demand', 'drops/demand/2026/12/dup.csv');
    // The same blob event delivered five more times (the host's admin API invokes the trigger with it).
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${devhost.origin}/admin/functions/scoreDrop`, {
        method: 'POST',
        headers: { 'x-functions-key': 'local-master-key', 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'mlops/drops/demand/2026/12/dup.csv' }),
      });
      expect(res.status).toBe(202);
    }
    await eventually('the five invocations', async () => (devhost.output.filter((l) => l.includes('dup.csv is already run')).length >= 5 ? true : undefined));
    expect((await runsOf('demand')).filter((r) => r.sources[0]!.path === 'drops/demand/2026/12/dup.csv')).toHaveLength(1);
    await upload('drops/demand/2026/12/dup.csv', body); // a new ETag
    await eventually('a second run', async () => {
      const runs = (await runsOf('demand')).filter((r) => r.sources[0]!.path === 'drops/demand/2026/12/dup.csv' && r.state === 'completed');
      return runs.length === 2 ? runs : undefined;
    });
    expect(first.run.runId).toBeDefined();
  });

  it('when a drop holds a region the champion never saw, then it is scored, the new value is on the run and an event is published', async () => {
    const rows = regionalRows(90, 4, { idPrefix: 'east-', regions: ['north', 'south', 'east'] });
    await upload('drops/demand/2026/12/east.parquet', Buffer.from(toCsv(rows))); // CSV named .parquet: the run fails, the file is kept
    await upload('drops/demand/2026/12/east.csv', toCsv(rows));
    const detail = await completedRun('demand', 'drops/demand/2026/12/east.csv');
    expect(detail.run.flavours.newSegmentValues).toEqual({ region: ['east'] });
    expect(detail.run.flavours.unseenCategories.region).toMatchObject({ rows: 30, values: ['east'] });
    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const seen: { type: string; data: Record<string, unknown> }[] = [];
      await eventually('the flavour event', async () => {
        for (const m of await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })) seen.push(m.body);
        return seen.find((e) => e.type === 'flavour.detected');
      });
      expect(seen.find((e) => e.type === 'flavour.detected')?.data).toMatchObject({ runId: detail.run.runId, newSegmentValues: { region: ['east'] } });
    } finally {
      await client.close();
    }
    const broken = await finishedRun('demand', 'drops/demand/2026/12/east.parquet');
    expect(broken.run).toMatchObject({ state: 'failed', error: expect.stringMatching(/not a readable Parquet file/) });
    expect(broken.quarantine.sort()).toEqual([`quarantine/demand/${broken.run.runId}/file-east.parquet`, `quarantine/demand/${broken.run.runId}/reason.json`]);
  });

  it('when a few rows are posted to /score, then they are scored as batch scoring would, bad rows with their reason', async () => {
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const rows = regionalRows(3, 9);
    const res = await reader().post('models/demand/score', {
      rows: [...rows.map(({ actual: _a, ...r }) => r), { id: 'bad', x1: 'abc', x2: 1, region: 'north' }, { id: 'none', x2: 1, region: 'south' }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model: 'demand', version: 1, scored: 3, rejected: 2 });
    rows.forEach((r, i) => expect(res.body.results[i]).toMatchObject({ row: i, id: r.id, prediction: expect.closeTo(pkg.predict(r), 4) }));
    expect(res.body.results[3]).toMatchObject({ row: 3, id: 'bad', error: { code: expect.stringMatching(/x1/), reason: expect.stringMatching(/x1/) } });
    expect(res.body.results[4]).toMatchObject({ row: 4, id: 'none', error: { reason: expect.stringMatching(/x1/) } });
    const tooMany = await reader().post('models/demand/score', { rows: Array.from({ length: 51 }, (_, i) => ({ id: `r${i}`, x1: 1, x2: 1, region: 'north' })) });
    expect(tooMany.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect((await apiClient(devhost.origin).post('models/demand/score', { rows: [{ id: 'a' }] })).status).toBe(401);
  });

  it('when ids are JSON numbers a double cannot hold as sent (an int64 key, 1e400, more digits than it keeps), then those rows are refused inexact_id with no id, and the same ids as strings are scored as sent', async () => {
    // Raw text: a JavaScript number would already be rounded before it is sent.
    const body =
      '{"rows": [{"id": 9007199254740993, "x1": 1, "x2": 1, "region": "north"}, {"id": 1e400, "x1": 1, "x2": 1, "region": "north"}, {"id": "9007199254740993", "x1": 1, "x2": 1, "region": "north"}, {"id": 42, "x1": 1, "x2": 1, "region": "north"}, {"id": 1234567890.123456789, "x1": 1, "x2": 1, "region": "north"}, {"id": 1.5, "x1": 1, "x2": 1, "region": "north"}]}';
    const response = await fetch(`${devhost.origin}/api/models/demand/score`, { method: 'POST', headers: { authorization: 'Bearer token-reader', 'content-type': 'application/json' }, body });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { scored: number; rejected: number; results: unknown[] };
    expect(answer).toMatchObject({ scored: 3, rejected: 3 });
    expect(answer.results).toEqual([
      { row: 0, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/send such ids as strings$/) } },
      { row: 1, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/send such ids as strings$/) } },
      { row: 2, id: '9007199254740993', prediction: expect.any(Number) },
      { row: 3, id: '42', prediction: expect.any(Number) },
      { row: 4, id: null, error: { code: 'inexact_id', reason: expect.stringMatching(/^the id is the number 1234567890\.1234567 as JSON read it.*send such ids as strings$/) } },
      { row: 5, id: '1.5', prediction: expect.any(Number) },
    ]);
  });

  it("when a completed run's predictions manifest is gone (a retention policy) or damaged, then the run still answers, saying why it has none", async () => {
    await upload('drops/demand/2026/12/aged.csv', toCsv(regionalRows(20, 60, { idPrefix: 'aged-' })));
    const detail = await completedRun('demand', 'drops/demand/2026/12/aged.csv');
    expect(detail.manifest).toMatchObject({ parts: [expect.anything()] });
    const path = `predictions/demand/v${detail.run.version}/${detail.run.runId}/_manifest.json`;
    await devhost.container().getBlobClient(path).delete();
    const gone = await reader().get(`models/demand/runs/${detail.run.runId}`);
    expect(gone).toMatchObject({ status: 200, body: { run: { runId: detail.run.runId, state: 'completed' }, manifest: null, manifestUnreadable: expect.stringContaining(`${path}: `) } });
    await upload(path, '{"parts": [');
    const damaged = await reader().get(`models/demand/runs/${detail.run.runId}`);
    expect(damaged).toMatchObject({ status: 200, body: { manifest: null, manifestUnreadable: expect.stringContaining(`${path}: `) } });
    await upload(path, '{"parts": 3}');
    const invalid = await reader().get(`models/demand/runs/${detail.run.runId}`);
    expect(invalid).toMatchObject({ status: 200, body: { manifest: null, manifestUnreadable: expect.stringMatching(/invalid predictions manifest/) } });
  });

  it('when the runs are read a page at a time, then following nextLink lists every run once, newest first, as one large page does, with the filter kept', async () => {
    const whole = (await reader().get('models/demand/runs?limit=1000')).body as { runs: { runId: string; state: string }[]; continuationToken: string | null; nextLink: string | null };
    expect(whole).toMatchObject({ continuationToken: null, nextLink: null });
    expect(whole.runs.length).toBeGreaterThan(4);
    /** Each page's run ids, following nextLink (a path under /api/) as a client would. */
    const walk = async (first: string) => {
      const pages: string[][] = [];
      for (let path: string | null = first; path !== null; ) {
        const page = await reader().get(path);
        expect(page.status).toBe(200);
        pages.push((page.body.runs as { runId: string }[]).map((r) => r.runId));
        path = page.body.nextLink === null ? null : (page.body.nextLink as string).replace(/^\/api\//, '');
      }
      return pages;
    };
    const pages = await walk('models/demand/runs?limit=2');
    expect(pages.flat()).toEqual(whole.runs.map((r) => r.runId));
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    const completed = await walk('models/demand/runs?state=completed&limit=3');
    expect(completed.flat()).toEqual(whole.runs.filter((r) => r.state === 'completed').map((r) => r.runId));
    expect(completed.slice(0, -1).every((p) => p.length === 3)).toBe(true);
    const tampered = await reader().get('models/demand/runs?continuationToken=not-a-token');
    expect(tampered).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR', detail: expect.stringContaining('continuationToken') } });
  });

  it('when a model has a schedule, then drops in scheduled/ wait for it and one run scores what accumulated', async () => {
    const policies = { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } };
    await apiClient(devhost.origin, 'contributor').post('models', { ...aRegionalModel('nightly', policies), schedule: '*/6 * * * * *' });
    await upload('datasets/nightly/validation.csv', toCsv(regionalRows(300, 1)));
    await championOf('nightly', TRUE_WEIGHTS, 0);
    await upload('drops/nightly/scheduled/part-1.csv', toCsv(regionalRows(40, 21, { idPrefix: 's1-' })));
    await upload('drops/nightly/scheduled/part-2.csv', toCsv(regionalRows(30, 22, { idPrefix: 's2-' })));
    // Both files usually fall in one occurrence; if a tick lands between the uploads, two runs share them.
    const runs = await eventually('the scheduled runs', async () => {
      const all = (await runsOf('nightly')) as unknown as { kind: string; state: string; rowsScored: number; sources: unknown[]; scheduledFor?: string }[];
      const scheduled = all.filter((r) => r.kind === 'scheduled' && r.state === 'completed');
      return scheduled.reduce((n, r) => n + r.rowsScored, 0) === 70 ? scheduled : undefined;
    }, 60_000);
    expect(runs.flatMap((r) => r.sources)).toHaveLength(2);
    for (const run of runs) expect(new Date(run.scheduledFor!).getTime() % 6000).toBe(0); // an occurrence of */6 seconds
    // Each prediction names the drop it came from: both drops number their rows from 1.
    const predicted: Record<string, unknown>[] = [];
    for (const run of runs as unknown as { runId: string }[]) {
      const detail = (await reader().get(`models/nightly/runs/${run.runId}`)).body as { manifest: { parts: { path: string }[] } };
      for (const part of detail.manifest.parts) predicted.push(...(await readParquetRows(await devhost.container().getBlobClient(part.path).downloadToBuffer())));
    }
    const dropOf = (id: string) => (id.startsWith('s1-') ? 'drops/nightly/scheduled/part-1.csv' : 'drops/nightly/scheduled/part-2.csv');
    expect(predicted.map((p) => [p.source_file, p.source_row])).toEqual(predicted.map((p) => [dropOf(p.id as string), Number((p.id as string).split('-').at(-1)) + 1]));
    expect((await runsOf('nightly')).filter((r) => r.sources.some((s) => s.path.includes('/scheduled/')) && (r as { kind?: string }).kind === 'batch')).toEqual([]);
  });

  it('when a drop lands in scheduled/ of a model with no schedule, then the log says it is not scored, and no run starts', async () => {
    const before = (await runsOf('demand')).length;
    await upload('drops/demand/scheduled/stuck.csv', toCsv(regionalRows(5, 31)));
    const warning = "scoreDrop: drops/demand/scheduled/stuck.csv waits for a schedule, and model 'demand' has none: it is not scored (drops/demand/ is scored on arrival)";
    await eventually('the warning', async () => (devhost.output.some((l) => l.includes(warning)) ? true : undefined));
    expect((await runsOf('demand')).length).toBe(before);
  });
});

/**
 * Actuals joined to predictions end to end on devhost: a champion scores a data drop through
 * `batchInference`, then an actuals file in Azurite fires the `joinActuals` blob trigger and
 * `actualsJoin` labels the predictions: the record over HTTP, the labelled data against the
 * model's own predictions, the window document batch inference counted, the event on the broker;
 * the same blob event delivered again (the host's admin API) adds nothing; a corrected file
 * uploaded over the same path replaces the first version in the window; a run whose predictions
 * part was damaged is left out of a later version's join, named on its record.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { actualsIdOf } from '../../shared/domain/actuals';
import type { ModelEvent } from '../../shared/schemas/messages';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(180_000);

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');

async function upload(name: string, body: string | Buffer) {
  return devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

/** Registers v1 of a defined regional model and approves it: the champion that scores drops. */
async function regionalChampion(model: string) {
  await upload(`datasets/${model}/validation.csv`, toCsv(regionalRows(300, 1)));
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: `datasets/${model}/validation.csv` }] });
  const version = (await apiClient(devhost.origin, 'contributor').register(model, pkg.manifest, pkg.onnx)).body.version as number;
  const pending = await eventually('v1 pending approval', async () => {
    const v = await reader().get(`models/${model}/versions/${version}`);
    return v.body?.version?.state === 'pending_approval' ? v.body : undefined;
  });
  await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/${version}/approve`, { evidenceHash: pending.version.evidenceHash });
  await eventually('v1 champion', async () => ((await reader().get(`models/${model}/champion`)).body?.version === version ? true : undefined));
  return { pkg, version };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actuals-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('actuals join on devhost', () => {
  it('when actuals land after a drop was scored, then the trigger joins them to the predictions: record, labelled data, window performance, event; the same blob event again adds nothing', async () => {
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('demand', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } }))).status).toBe(201);
    expect(await reader().get('models/demand/actuals')).toMatchObject({ status: 200, body: { model: 'demand', actuals: [] } });
    expect((await apiClient(devhost.origin).get('models/demand/actuals')).status).toBe(401);
    expect((await reader().get('models/nope/actuals')).body).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });

    // A champion scores a drop of 60 rows (batch inference, the lead's part of the loop).
    const { pkg, version } = await regionalChampion('demand');
    const rows = regionalRows(60, 70, { idPrefix: 'c' });
    await upload('drops/demand/day-1.csv', toCsv(rows));
    const run = await eventually('the drop scored', async () => {
      const found = (await reader().get('models/demand/runs')).body?.runs?.find((r: { state: string }) => r.state === 'completed');
      return found as { runId: string; windows: string[] } | undefined;
    }, 60_000);
    const [windowId] = run.windows;

    // 40 actuals of scored ids (c0 twice: the later row counts), one never scored, one without an id.
    const actuals = [...rows.slice(0, 40).map((r) => [r.id, r.actual]), [rows[0]!.id, 99], ['ghost', 1], ['', 3]];
    const body = `id,actual\n${actuals.map((a) => a.join(',')).join('\n')}\n`;
    const uploaded = await upload('actuals/demand/2026-12/sales.csv', body);
    const actualsId = actualsIdOf('actuals/demand/2026-12/sales.csv', uploaded.etag!);
    const record = await eventually('the actuals record to complete', async () => {
      const found = (await reader().get('models/demand/actuals')).body?.actuals?.[0];
      if (found?.state === 'failed') throw new Error(`the join failed: ${found.error}`);
      return found?.state === 'completed' ? found : undefined;
    }, 60_000);
    expect(record).toMatchObject({
      actualsId,
      source: { path: 'actuals/demand/2026-12/sales.csv', etag: uploaded.etag, size: Buffer.byteLength(body) },
      instanceId: `actuals:demand:${actualsId}`,
      rows: 43,
      matched: 40,
      unmatched: 1,
      duplicateIds: 1,
      duplicateRows: 1,
      rescoredIds: 0,
      rejectionReasons: { missing_id: 1 },
      windows: [windowId],
      quarantineFolder: `quarantine/demand/${actualsId}/`,
    });
    expect(record.metrics.overall.rows).toBe(40);
    expect(record.metrics.segments.map((s: { segment: string }) => s.segment)).toEqual(['region=north', 'region=south']);

    // Labelled rows: the champion's own predictions, with the actuals.
    const labelled = await readParquetRows(await devhost.container().getBlobClient(`datasets/demand/labelled/${windowId}/${actualsId}.parquet`).downloadToBuffer());
    expect(labelled).toHaveLength(40);
    for (const l of labelled) {
      const row = rows.find((r) => r.id === l.id)!;
      expect(l).toMatchObject({ run_id: run.runId, model_version: version, actual: row.id === 'c70-0' ? 99 : row.actual });
      expect(l.prediction).toBeCloseTo(pkg.predict(row), 5);
    }

    // The window batch inference counted: 40 of its 60 predictions labelled.
    const monitoring = await reader().get('models/demand/monitoring');
    const window = monitoring.body.windows.find((w: { window: { id: string } }) => w.window.id === windowId);
    expect(window).toMatchObject({ predictions: 60, labelled: 40, performance: { provisional: false, metrics: { overall: { rows: 40 } } } });
    expect(window.labelCoverage).toBeCloseTo(40 / 60, 10);

    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const seen: ModelEvent[] = [];
      await eventually('the run.completed event of the join', async () => {
        seen.push(...(await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).map((m) => m.body as ModelEvent));
        return seen.some((e) => e.type === 'run.completed' && e.data.kind === 'actuals-join') ? true : undefined;
      });
      expect(seen.find((e) => e.type === 'run.completed' && e.data.kind === 'actuals-join')).toMatchObject({ model: 'demand', data: { runId: actualsId, rows: 43, quarantinedRows: 3 } });
    } finally {
      await client.close();
    }

    // The same blob event twice more: the trigger finds the join and starts nothing.
    for (let i = 0; i < 2; i += 1) {
      const res = await fetch(`${devhost.origin}/admin/functions/joinActuals`, {
        method: 'POST',
        headers: { 'x-functions-key': 'local-master-key', 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'mlops/actuals/demand/2026-12/sales.csv' }),
      });
      expect(res.status).toBe(202);
    }
    await eventually('the two deliveries', async () => (devhost.output.filter((l) => l.includes(`already joined or joining as actuals:demand:${actualsId}`)).length >= 2 ? true : undefined));
    const after = (await reader().get('models/demand/actuals')).body.actuals;
    expect(after).toEqual([record]);

    // A corrected file over the same path (30 of the ids): it replaces the first version in the window.
    const corrected = `id,actual\n${rows.slice(0, 30).map((r) => `${r.id},${r.actual}`).join('\n')}\n`;
    const second = await upload('actuals/demand/2026-12/sales.csv', corrected);
    const secondId = actualsIdOf('actuals/demand/2026-12/sales.csv', second.etag!);
    const replaced = await eventually('the first version replaced', async () => {
      const list = (await reader().get('models/demand/actuals')).body?.actuals as { actualsId: string; state: string; error?: string; replacedBy?: unknown }[] | undefined;
      if (list?.find((a) => a.actualsId === secondId)?.state === 'failed') throw new Error('the corrected file\'s join failed');
      const first = list?.find((a) => a.actualsId === actualsId);
      return first?.replacedBy ? first : undefined;
    }, 60_000);
    expect(replaced).toMatchObject({ state: 'completed', matched: 40, replacedBy: { actualsId: secondId, labelledFolder: `datasets/demand/replaced/${actualsId}/` } });
    const windowNow = (await reader().get('models/demand/monitoring')).body.windows.find((w: { window: { id: string } }) => w.window.id === windowId);
    expect(windowNow).toMatchObject({ predictions: 60, labelled: 30, performance: { metrics: { overall: { rows: 30 } } } });

    // The run's predictions part damaged in the lake (an operator's bad copy): a third version
    // completes, the run left out with the part named, its ids quarantined as unmatched.
    const part = `predictions/demand/v${version}/${run.runId}/part-00000.parquet`;
    expect(await devhost.container().getBlobClient(part).exists()).toBe(true);
    await upload(part, 'not parquet at all');
    const third = await upload('actuals/demand/2026-12/sales.csv', corrected);
    const thirdId = actualsIdOf('actuals/demand/2026-12/sales.csv', third.etag!);
    const skipped = await eventually('the third version to end', async () => {
      const found = ((await reader().get('models/demand/actuals')).body?.actuals as { actualsId: string; state: string }[] | undefined)?.find((a) => a.actualsId === thirdId);
      return found && found.state !== 'running' ? found : undefined;
    }, 60_000);
    expect(skipped).toMatchObject({
      state: 'completed',
      rows: 30,
      matched: 0,
      unmatched: 30,
      skippedRuns: [{ runId: run.runId, reason: expect.stringMatching(new RegExp(`^its predictions part '${part}' is damaged: not a readable Parquet file`)) }],
    });
    // The replacement of the second version runs once the third's record says completed: wait for its mark.
    await eventually('the second version replaced by the third', async () => {
      const list = (await reader().get('models/demand/actuals')).body?.actuals as { actualsId: string; replacedBy?: { actualsId: string } }[] | undefined;
      return list?.find((a) => a.actualsId === secondId)?.replacedBy?.actualsId === thirdId ? true : undefined;
    }, 60_000);
    const windowAfter = (await reader().get('models/demand/monitoring')).body.windows.find((w: { window: { id: string } }) => w.window.id === windowId);
    expect(windowAfter).toMatchObject({ predictions: 60, labelled: 0 });
  });

  it('when actuals land before their drop is scored (all unmatched), then the run that scores the drop matches them late: the record counts them matched, the window has the labelled rows and realised metrics', async () => {
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('early', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } }))).status).toBe(201);
    const { pkg, version } = await regionalChampion('early');
    const rows = regionalRows(60, 80, { idPrefix: 'e' });

    // Labels from a fast source: 40 of the drop's ids and one never scored, before the drop exists.
    const body = `id,actual\n${[...rows.slice(0, 40).map((r) => [r.id, r.actual]), ['ghost', 1]].map((a) => a.join(',')).join('\n')}\n`;
    const uploaded = await upload('actuals/early/labels.csv', body);
    const actualsId = actualsIdOf('actuals/early/labels.csv', uploaded.etag!);
    const joined = await eventually('the early actuals joined', async () => {
      const found = (await reader().get('models/early/actuals')).body?.actuals?.[0];
      if (found?.state === 'failed') throw new Error(`the join failed: ${found.error}`);
      return found?.state === 'completed' ? found : undefined;
    }, 60_000);
    expect(joined).toMatchObject({ actualsId, rows: 41, matched: 0, unmatched: 41, metrics: null, windows: [], quarantineFolder: `quarantine/early/${actualsId}/` });

    // The drop is scored later; its completed run matches the 40 actuals.
    await upload('drops/early/day-1.csv', toCsv(rows));
    const run = await eventually('the drop scored', async () => {
      const found = (await reader().get('models/early/runs')).body?.runs?.find((r: { state: string }) => r.state === 'completed');
      return found as { runId: string; windows: string[] } | undefined;
    }, 60_000);
    const [windowId] = run.windows;
    const record = await eventually('the late match recorded', async () => {
      const found = (await reader().get('models/early/actuals')).body?.actuals?.[0];
      return found?.lateMatches?.length === 1 ? found : undefined;
    }, 60_000);
    expect(record).toMatchObject({ rows: 41, matched: 40, unmatched: 1, windows: [windowId], lateMatches: [{ runId: run.runId, matched: 40, windows: [windowId] }] });
    expect(record.metrics.overall.rows).toBe(40);

    const labelled = await readParquetRows(await devhost.container().getBlobClient(`datasets/early/labelled/${windowId}/${actualsId}~${run.runId}.parquet`).downloadToBuffer());
    expect(labelled).toHaveLength(40);
    for (const l of labelled) {
      const row = rows.find((r) => r.id === l.id)!;
      expect(l).toMatchObject({ run_id: run.runId, model_version: version, actual: row.actual, actuals_id: actualsId });
      expect(l.prediction).toBeCloseTo(pkg.predict(row), 5);
    }
    const window = await eventually('the window refreshed', async () => {
      const found = (await reader().get('models/early/monitoring')).body?.windows?.find((w: { window: { id: string } }) => w.window.id === windowId);
      return found?.labelled === 40 ? found : undefined;
    }, 60_000);
    expect(window).toMatchObject({ predictions: 60, labelled: 40, performance: { provisional: false, metrics: { overall: { rows: 40 } } } });

    // The quarantine keeps its 41 unmatched lines (what the join saw); the record counts only the one left.
    const quarantine = (await devhost.container().getBlobClient(`quarantine/early/${actualsId}/bucket-00000.jsonl`).downloadToBuffer()).toString().trim().split('\n');
    expect(quarantine.filter((l) => JSON.parse(l).code === 'unmatched')).toHaveLength(41);

    // Listeners hear of the rows labelled late: one actuals.late_matched for the pair.
    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const late: ModelEvent[] = [];
      await eventually('the actuals.late_matched event', async () => {
        late.push(...(await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).map((m) => m.body as ModelEvent).filter((e) => e.model === 'early' && e.type === 'actuals.late_matched'));
        return late.length > 0 ? true : undefined;
      });
      expect(late).toEqual([
        {
          type: 'actuals.late_matched',
          eventId: `actuals-late-match:${actualsId}:${run.runId}`,
          model: 'early',
          occurredAt: record.lateMatches[0].at,
          data: { actualsId, runId: run.runId, matched: 40, windows: [windowId] },
        },
      ]);
    } finally {
      await client.close();
    }
  });

  it('when actuals are joined while their drop waits for a champion, then the run matches them once a champion scores it', async () => {
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('waiting', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 50 } }))).status).toBe(201);
    const rows = regionalRows(30, 90, { idPrefix: 'w' });
    await upload('drops/waiting/day-1.csv', toCsv(rows));
    await eventually('the run waiting for a champion', async () => {
      const found = (await reader().get('models/waiting/runs')).body?.runs?.find((r: { state: string }) => r.state === 'waiting_for_champion');
      return found ? true : undefined;
    }, 60_000);
    const uploaded = await upload('actuals/waiting/labels.csv', `id,actual\n${rows.map((r) => `${r.id},${r.actual}`).join('\n')}\n`);
    const actualsId = actualsIdOf('actuals/waiting/labels.csv', uploaded.etag!);
    await eventually('the actuals joined, all unmatched', async () => {
      const found = (await reader().get('models/waiting/actuals')).body?.actuals?.[0];
      return found?.state === 'completed' && found.unmatched === 30 ? true : undefined;
    }, 60_000);

    await regionalChampion('waiting');
    const run = await eventually('the drop scored', async () => {
      const found = (await reader().get('models/waiting/runs')).body?.runs?.find((r: { state: string }) => r.state === 'completed');
      return found as { runId: string; windows: string[] } | undefined;
    }, 60_000);
    const record = await eventually('the late match recorded', async () => {
      const found = (await reader().get('models/waiting/actuals')).body?.actuals?.[0];
      return found?.lateMatches?.length === 1 ? found : undefined;
    }, 60_000);
    expect(record).toMatchObject({ actualsId, matched: 30, unmatched: 0, windows: run.windows, lateMatches: [{ runId: run.runId, matched: 30 }] });
  });

  it('when files land under names the join cannot read (a folder starting with a space, a .json file), then each ends on a failed record with the reason', async () => {
    expect((await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('names'))).status).toBe(201);
    await upload('actuals/names/ 2026/sales.csv', 'id,actual\nc0,1\n');
    await upload('actuals/names/notes.json', '{"id": "c0"}');
    const records = await eventually('two failed records', async () => {
      const found = ((await reader().get('models/names/actuals')).body?.actuals ?? []) as { state: string; source: { path: string }; error?: string }[];
      return found.length === 2 && found.every((r) => r.state === 'failed') ? found : undefined;
    }, 60_000);
    const byPath = Object.fromEntries(records.map((r) => [r.source.path, r.error]));
    expect(byPath).toEqual({
      'actuals/names/ 2026/sales.csv': expect.stringMatching(/cannot be joined under this name: path segments must not start or end with spaces/),
      'actuals/names/notes.json': expect.stringMatching(/cannot tell the format of 'actuals\/names\/notes.json'/),
    });
  });

  it('when actuals land for a model nobody registered, then the file ends on a failed record that names the missing model', async () => {
    expect((await reader().get('models/nobody/actuals')).status).toBe(404);
    await upload('actuals/nobody/sales.csv', 'id,actual\nc0,1\n');
    const record = await eventually('a failed record', async () => {
      const found = ((await reader().get('models/nobody/actuals')).body?.actuals ?? []) as { state: string; source: { path: string }; error?: string }[];
      return found[0]?.state === 'failed' ? found[0] : undefined;
    }, 60_000);
    expect(record).toMatchObject({ source: { path: 'actuals/nobody/sales.csv' }, error: expect.stringMatching(/model 'nobody' does not exist/) });
  });
});

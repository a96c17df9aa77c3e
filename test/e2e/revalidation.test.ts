/**
 * A new data flavour end to end on devhost: the champion was validated on north and south; a drop
 * with a new region (east) is scored and flagged; when actuals for it arrive, the actuals join
 * starts a revalidation of the champion on its validation data plus the labelled east rows. The
 * new evidence shows how the champion does on east; the ledger and the events say so; the
 * version's state and approval evidence stay; the reference profile now knows east, so the next
 * actuals file for east revalidates nothing. Actuals of a new region (west) that arrive before
 * their drop is scored are matched late, and that late match revalidates the champion the same way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { actualsIdOf } from '../../shared/domain/actuals';
import { lakePaths } from '../../shared/domain/lake-paths';
import type { ModelEvent } from '../../shared/schemas/messages';
import {
  aRegionalModel,
  regionalPackage,
  regionalRows,
  type Row,
  toCsv,
  TRUE_WEIGHTS,
} from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';

jest.setTimeout(180_000);

const MODEL = 'flavours';
const policies = { validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 0 } };

let devhost: ProductDevhost;
let dataDir: string;
const reader = () => apiClient(devhost.origin, 'reader');

async function upload(name: string, body: string | Buffer) {
  return devhost.container().getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

async function readJson(name: string) {
  return JSON.parse((await devhost.container().getBlobClient(name).downloadToBuffer()).toString('utf8'));
}

async function joined(name: string, rows: readonly Row[], model = MODEL): Promise<string> {
  const uploaded = await upload(name, `id,actual\n${rows.map((r) => `${r.id},${r.actual}`).join('\n')}\n`);
  const actualsId = actualsIdOf(name, uploaded.etag!);
  await eventually(
    `the join of ${name}`,
    async () => {
      const found = (
        (await reader().get(`models/${model}/actuals`)).body?.actuals as
          { actualsId: string; state: string }[] | undefined
      )?.find((a) => a.actualsId === actualsId);
      return found?.state === 'completed' ? true : undefined;
    },
    60_000,
  );
  // The join's orchestration goes on after the record completes (a revalidation, if any): wait for its end.
  await eventually(
    `the join's orchestration of ${name} to end`,
    async () => {
      const res = await fetch(
        `${devhost.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(`actuals:${model}:${actualsId}`)}?code=local-master-key`,
      );
      return res.status === 200 &&
        ((await res.json()) as { runtimeStatus?: string }).runtimeStatus === 'Completed'
        ? true
        : undefined;
    },
    60_000,
  );
  return actualsId;
}

const revalidations = async (model = MODEL) =>
  ((await reader().get(`models/${model}/audit?version=1&limit=1000`)).body.entries as { kind: string }[]).filter(
    (e) => e.kind === 'version_revalidated',
  ) as {
    kind: string;
    id: string;
    evidenceHash: string;
    decision: string;
    reason: string;
    actor: { id: string };
  }[];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'revalidation-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
});

afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Registers v1 of `model`, validated on north and south, and approves it: the champion. Its approval evidence hash. */
async function championOf(model: string): Promise<string> {
  const contributor = apiClient(devhost.origin, 'contributor');
  expect((await contributor.post('models', aRegionalModel(model, policies))).status).toBe(201);
  await upload(`datasets/${model}/validation.csv`, toCsv(regionalRows(200, 1)));
  const pkg = regionalPackage(TRUE_WEIGHTS, 0, {
    datasets: [{ role: 'validation', uri: `datasets/${model}/validation.csv` }],
  });
  expect((await contributor.register(model, pkg.manifest, pkg.onnx)).status).toBe(202);
  const pending = await eventually('v1 pending approval', async () => {
    const v = await reader().get(`models/${model}/versions/1`);
    return v.body?.version?.state === 'pending_approval' ? v.body : undefined;
  });
  await apiClient(devhost.origin, 'approver').post(`models/${model}/versions/1/approve`, {
    evidenceHash: pending.version.evidenceHash,
  });
  // The champion pointer moves before v1's state does; the lifecycle ends after both.
  await eventually('the lifecycle of v1 to end', async () =>
    (await reader().get(`models/${model}/versions/1`)).body?.lifecycle?.runtimeStatus === 'Completed' ? true : undefined,
  );
  await eventually('v1 champion', async () =>
    (await reader().get(`models/${model}/champion`)).body?.version === 1 ? true : undefined,
  );
  return pending.version.evidenceHash as string;
}

it('when actuals label a region the champion never saw, then the champion is revalidated with them: evidence per region, ledger, event; its state stays', async () => {
  const approvedEvidence = await championOf(MODEL);
  expect(Object.keys((await readJson(lakePaths.referenceProfile(MODEL, 1))).segments).sort()).toEqual([
    'region=north',
    'region=south',
  ]);

  // A drop with a third region: scored and flagged.
  const rows = regionalRows(90, 5, { idPrefix: 'e-', regions: ['north', 'south', 'east'] });
  await upload(`drops/${MODEL}/with-east.csv`, toCsv(rows, ['id', 'x1', 'x2', 'region']));
  const run = await eventually(
    'the drop scored',
    async () => {
      const found = (
        (await reader().get(`models/${MODEL}/runs`)).body?.runs as
          { state: string; flavours?: unknown }[] | undefined
      )?.find((r) => r.state === 'completed');
      return found;
    },
    60_000,
  );
  expect(run.flavours).toMatchObject({ newSegmentValues: { region: ['east'] } });
  expect(await revalidations()).toEqual([]);

  // Actuals for it: the join revalidates the champion with the labelled rows.
  const actualsId = await joined(`actuals/${MODEL}/with-east.csv`, rows);
  const [entry, ...more] = await eventually(
    'the revalidation on the ledger',
    async () => {
      const found = await revalidations();
      return found.length > 0 ? found : undefined;
    },
    60_000,
  );
  expect(more).toEqual([]);
  expect(entry).toMatchObject({
    decision: 'pass',
    actor: { id: 'system:revalidateChampion' },
    reason: `new segment value(s) region=east labelled by actuals ${actualsId}`,
  });

  // The evidence: validation rows and the labelled ones, with the new region reported on its own.
  const evidence = await readJson(lakePaths.evidence(MODEL, 1, entry!.evidenceHash));
  expect(evidence).toMatchObject({
    version: 1,
    champion: null,
    decision: 'pass',
    dataset: { path: lakePaths.revalidationDataset(MODEL, actualsId), rowsRead: 290, rowsEvaluated: 290 },
  });
  const [split] = evidence.splits;
  const east = split.challenger.segments.find((s: { segment: string }) => s.segment === 'region=east');
  expect(east.rows).toBeGreaterThan(0);
  // The champion treats east as neither region: its error there is the north offset it lacks, 0.
  expect(east.report.metrics.rmse.value).toBeLessThan(1);
  expect(Object.keys((await readJson(lakePaths.referenceProfile(MODEL, 1))).segments).sort()).toEqual([
    'region=east',
    'region=north',
    'region=south',
  ]);

  // The version itself is untouched: production, approved on its original evidence.
  const v1 = (await reader().get(`models/${MODEL}/versions/1`)).body.version;
  expect(v1).toMatchObject({ state: 'production', evidenceHash: approvedEvidence });

  const client = new ServiceBusClient(devhost.serviceBusConnectionString);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const seen: ModelEvent[] = [];
    // The drop's run is recorded complete before its flavour.detected goes out, and nothing after
    // waits for that: wait for both events.
    await eventually('the version.revalidated and flavour.detected events', async () => {
      seen.push(
        ...(await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 })).map((m) => m.body as ModelEvent),
      );
      return seen.some((e) => e.type === 'version.revalidated') && seen.some((e) => e.type === 'flavour.detected')
        ? true
        : undefined;
    });
    expect(seen.find((e) => e.type === 'version.revalidated')).toMatchObject({
      model: MODEL,
      version: 1,
      data: { evidenceHash: entry!.evidenceHash, decision: 'pass' },
    });
    expect(seen.find((e) => e.type === 'flavour.detected')).toMatchObject({
      data: { newSegmentValues: { region: ['east'] } },
    });
  } finally {
    await client.close();
  }

  // More actuals for east: the reference knows east now, nothing is revalidated again.
  const later = regionalRows(30, 6, { idPrefix: 'f-', regions: ['east'] });
  await upload(`drops/${MODEL}/east-only.csv`, toCsv(later, ['id', 'x1', 'x2', 'region']));
  await eventually(
    'the second drop scored',
    async () => {
      const runs = (await reader().get(`models/${MODEL}/runs`)).body?.runs as { state: string }[];
      return runs.filter((r) => r.state === 'completed').length === 2 ? true : undefined;
    },
    60_000,
  );
  await joined(`actuals/${MODEL}/east-only.csv`, later);
  expect(await revalidations()).toHaveLength(1);
});

it('when actuals of a region the champion never saw arrive before their drop is scored, then the late match announces the rows and revalidates the champion with them', async () => {
  const model = 'lateflavours';
  await championOf(model);
  // Labels of a drop with a third region (west), before the drop exists: all unmatched at the join.
  const rows = regionalRows(60, 8, { idPrefix: 'w-', regions: ['north', 'south', 'west'] });
  const actualsId = await joined(`actuals/${model}/before-the-drop.csv`, rows, model);
  expect((await reader().get(`models/${model}/actuals`)).body.actuals[0]).toMatchObject({ actualsId, matched: 0, unmatched: 60 });
  expect(await revalidations(model)).toEqual([]);

  // The drop is scored: its run matches the actuals late, and the west rows revalidate the champion.
  await upload(`drops/${model}/with-west.csv`, toCsv(rows, ['id', 'x1', 'x2', 'region']));
  const record = await eventually(
    'the late match recorded',
    async () => {
      const found = (await reader().get(`models/${model}/actuals`)).body?.actuals?.[0];
      return found?.lateMatches?.length === 1 ? found : undefined;
    },
    60_000,
  );
  const { runId, windows } = (record.lateMatches as { runId: string; windows: string[] }[])[0]!;
  expect(record).toMatchObject({ matched: 60, unmatched: 0 });
  const [entry, ...more] = await eventually(
    'the revalidation on the ledger',
    async () => {
      const found = await revalidations(model);
      return found.length > 0 ? found : undefined;
    },
    60_000,
  );
  expect(more).toEqual([]);
  expect(entry).toMatchObject({
    actor: { id: 'system:revalidateChampion' },
    reason: `new segment value(s) region=west labelled by actuals ${actualsId} matched late with run ${runId}`,
  });

  // Its evidence: the validation rows and the late-labelled ones, west reported on its own.
  const evidence = await readJson(lakePaths.evidence(model, 1, entry!.evidenceHash));
  expect(evidence).toMatchObject({
    version: 1,
    dataset: { path: lakePaths.lateRevalidationDataset(model, actualsId, runId), rowsRead: 260, rowsEvaluated: 260 },
  });
  const west = evidence.splits[0].challenger.segments.find((s: { segment: string }) => s.segment === 'region=west');
  expect(west.rows).toBeGreaterThan(0);
  expect(Object.keys((await readJson(lakePaths.referenceProfile(model, 1))).segments).sort()).toEqual([
    'region=north',
    'region=south',
    'region=west',
  ]);

  const client = new ServiceBusClient(devhost.serviceBusConnectionString);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const seen: ModelEvent[] = [];
    await eventually('the actuals.late_matched and version.revalidated events', async () => {
      seen.push(
        ...(await receiver.receiveMessages(100, { maxWaitTimeInMs: 500 }))
          .map((m) => m.body as ModelEvent)
          .filter((e) => e.model === model),
      );
      return seen.some((e) => e.type === 'actuals.late_matched') && seen.some((e) => e.type === 'version.revalidated')
        ? true
        : undefined;
    });
    expect(seen.filter((e) => e.type === 'actuals.late_matched')).toEqual([
      expect.objectContaining({ data: { actualsId, runId, matched: 60, windows } }),
    ]);
    expect(seen.find((e) => e.type === 'version.revalidated')).toMatchObject({ version: 1, data: { evidenceHash: entry!.evidenceHash } });
  } finally {
    await client.close();
  }
});

/**
 * @jest-environment ./test/support/host-typed-arrays-environment.js
 *
 * The actuals join on devhost: a real actuals blob in Azurite fires the `joinActuals` blob
 * trigger, `actualsJoin` runs on the Durable engine, the record is read back over HTTP, the
 * window document from Cosmos, the event from the broker. Stored predictions are made here the
 * way batch inference makes them (scoreChunk parts, manifest, run document).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Container } from '@azure/cosmos';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';

import { LOCAL_COSMOS_KEY } from '../../devhost/services/cosmos';
import { localCosmosClient } from '../../devhost/services/cosmos-snapshot';
import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { actualsIdOf } from '../../shared/domain/actuals';
import { lakePaths } from '../../shared/domain/lake-paths';
import type { RunStore } from '../../shared/ports/run-store';
import type { ModelEvent } from '../../shared/schemas/messages';
import { actualsCsv, aDemandModel, type DropRow, scoredRun, scoringVersion } from '../support/actuals-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(180_000);

const runtime = new OnnxModelRuntime();
let devhost: ProductDevhost;
let dataDir: string;

/** devhost's Cosmos DB server, as its start-up summary names it. */
function devhostRunStore(host: ProductDevhost): RunStore {
  const endpoint = host.output.map((l) => /^cosmos\s+(https:\/\/\S+)/.exec(l)?.[1]).find((e) => e !== undefined)!;
  const database = localCosmosClient({ endpoint, key: LOCAL_COSMOS_KEY }).database('mlops');
  const containers = { models: database.container('models'), runs: database.container('runs'), audit: database.container('audit') } as Record<'models' | 'runs' | 'audit', Container>;
  return cosmosRunStore(() => Promise.resolve(containers));
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actuals-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
});

afterAll(async () => {
  await devhost?.stop();
  await runtime.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const rows: DropRow[] = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, ts: `2026-03-0${1 + (i % 2)}T${String(i % 24).padStart(2, '0')}:00:00Z`, x1: i % 4, x2: i % 3, region: i % 3 ? 'north' : 'south' }));

describe('actuals join on devhost', () => {
  it('when an actuals file lands in actuals/{model}/, then the trigger joins it: record over HTTP, labelled data, window performance, the run.completed event; the same blob event again adds nothing', async () => {
    const definition = aDemandModel();
    const contributor = apiClient(devhost.origin, 'contributor');
    const reader = apiClient(devhost.origin, 'reader');
    expect((await contributor.post('models', definition)).status).toBe(201);
    expect(await reader.get('models/demand/actuals')).toMatchObject({ status: 200, body: { model: 'demand', actuals: [] } });
    expect((await apiClient(devhost.origin).get('models/demand/actuals')).status).toBe(401);
    expect((await reader.get('models/nope/actuals')).status).toBe(404);

    const container = devhost.container();
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const runs = devhostRunStore(devhost);
    await scoredRun({ lake, files: new LakeTabularFiles(lake), runs, version: await scoringVersion(runtime, definition) }, { runId: 'run-1', createdAt: new Date().toISOString(), rows, chunkBytes: 300 });

    const body = actualsCsv(['id', 'sales'], [...rows.slice(0, 20).map((r, i) => [r.id, i]), ['c0', 99], ['ghost', 1], ['', 3]]);
    const uploaded = await container.getBlockBlobClient('actuals/demand/2026-03/sales.csv').upload(body, Buffer.byteLength(body));
    const actualsId = actualsIdOf('actuals/demand/2026-03/sales.csv', uploaded.etag!);

    const record = await eventually('the actuals record to complete', async () => {
      const res = await reader.get('models/demand/actuals');
      const found = res.body?.actuals?.[0];
      if (found?.state === 'failed') throw new Error(`the join failed: ${found.error}`);
      return found?.state === 'completed' ? found : undefined;
    }, 60_000);
    expect(record).toMatchObject({
      actualsId,
      source: { path: 'actuals/demand/2026-03/sales.csv', etag: uploaded.etag, size: Buffer.byteLength(body) },
      instanceId: `actuals:demand:${actualsId}`,
      rows: 23,
      matched: 20,
      unmatched: 1,
      duplicateIds: 1,
      duplicateRows: 1,
      rejectionReasons: { missing_id: 1 },
      windows: ['20260301T0000Z', '20260302T0000Z'],
      quarantineFolder: `quarantine/demand/${actualsId}/`,
    });
    expect(record.metrics.overall.rows).toBe(20);

    const labelled = await readParquetRows(await lake.readBuffer(lakePaths.labelled('demand', '20260301T0000Z', actualsId)));
    expect(labelled.map((r) => r.id)).toEqual(['c0', 'c2', 'c4', 'c6', 'c8', 'c10', 'c12', 'c14', 'c16', 'c18']);
    expect(labelled[0]).toMatchObject({ actual: 99, run_id: 'run-1', actuals_id: actualsId });
    const window = (await runs.windows.get('demand', '20260301T0000Z'))!.value;
    expect(window).toMatchObject({ labelled: 10, predictions: 0, performance: { provisional: true, metrics: { overall: { rows: 10 } } } });

    const client = new ServiceBusClient(devhost.serviceBusConnectionString);
    try {
      const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
      const events = await eventually('the run.completed event', async () => {
        const got = (await receiver.receiveMessages(50, { maxWaitTimeInMs: 500 })).map((m) => m.body as ModelEvent);
        return got.some((e) => e.type === 'run.completed') ? got : undefined;
      });
      expect(events.find((e) => e.type === 'run.completed')).toMatchObject({ model: 'demand', data: { runId: actualsId, kind: 'actuals-join', rows: 23, quarantinedRows: 3 } });
    } finally {
      await client.close();
    }

    // The same event again: forget devhost's receipt for this blob version and restart it, so the
    // trigger fires once more for the same path and ETag.
    const receipt = `blobreceipts/devhost/joinActuals/${uploaded.etag!.replace(/"/g, '')}/mlops/actuals/demand/2026-03/sales.csv`;
    await BlobServiceClient.fromConnectionString(devhost.blobConnectionString).getContainerClient('azure-webjobs-hosts').deleteBlob(receipt);
    await devhost.stop();
    devhost = await startProductDevhost({ dataDir });
    await eventually('the trigger to see the blob again', async () => (devhost.output.some((l) => l.includes(`already joined or joining as actuals:demand:${actualsId}`)) ? true : undefined));
    const after = await apiClient(devhost.origin, 'reader').get('models/demand/actuals');
    expect(after.body.actuals).toHaveLength(1);
    expect(after.body.actuals[0]).toEqual(record);
  });
});

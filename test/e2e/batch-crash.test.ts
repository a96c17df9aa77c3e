/**
 * A data drop's run survives a crashed host: devhost is killed with SIGKILL in the middle of the
 * fan-out, started again on the same data, and the run completes with every row scored once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(240_000);

// Small chunks one at a time, so that the run is still scoring once its document is on disk.
const env = { BATCH_TARGET_CHUNK_BYTES: '8192', BATCH_MAX_PARALLEL_CHUNKS: '1' };

describe('batch inference across a devhost crash', () => {
  let dataDir: string;
  let devhost: ProductDevhost | undefined;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-crash-'));
  });
  afterAll(async () => {
    await devhost?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when devhost is killed mid fan-out and restarted, then the run completes with no row duplicated or lost', async () => {
    devhost = await startProductDevhost({ dataDir, env });
    const container = devhost.container();
    await container.createIfNotExists();
    const put = (name: string, body: string) => container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
    await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('crash', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 20 } }));
    await put('datasets/crash/validation.csv', toCsv(regionalRows(200, 1)));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: 'datasets/crash/validation.csv' }] });
    await apiClient(devhost.origin, 'contributor').register('crash', pkg.manifest, pkg.onnx);
    const pending = await eventually('pending approval', async () => {
      const v = await apiClient(devhost!.origin, 'reader').get('models/crash/versions/1');
      return v.body?.version?.state === 'pending_approval' ? v.body : undefined;
    });
    await apiClient(devhost.origin, 'approver').post('models/crash/versions/1/approve', { evidenceHash: pending.version.evidenceHash });
    await eventually('a champion', async () => ((await apiClient(devhost!.origin, 'reader').get('models/crash/champion')).body?.version === 1 ? true : undefined));

    const rows = regionalRows(20_000, 77, { idPrefix: 'k-' });
    await put('drops/crash/big.csv', toCsv(rows));
    const run = await eventually('the run to start', async () => (await apiClient(devhost!.origin, 'reader').get('models/crash/runs')).body?.runs?.[0] as { runId: string } | undefined);
    const statusUrl = () => `${devhost!.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(`batch:crash:${run.runId}`)}?code=local-master-key`;
    // Killed as soon as scoring began, without waiting for the local Cosmos to take a snapshot:
    // its journal must give the restarted host every write it had answered (the run's own record).
    const midway = await eventually('some chunks scored', async () => {
      const status = (await (await fetch(statusUrl())).json()) as { customStatus?: { step?: string; scored?: number; chunks?: number } };
      const s = status.customStatus;
      return s?.step === 'scoring' && (s.scored ?? 0) >= 1 ? s : undefined;
    }, 60_000, 50);
    expect(midway.chunks).toBeGreaterThan(8);
    await devhost.kill();
    const scoredBeforeKill = midway.scored!;
    expect(scoredBeforeKill).toBeLessThan(midway.chunks!);

    devhost = await startProductDevhost({ dataDir, env });
    const done = await eventually('the run to complete', async () => {
      const detail = await apiClient(devhost!.origin, 'reader').get(`models/crash/runs/${run.runId}`);
      return detail.body?.run?.state === 'completed' ? detail.body : undefined;
    }, 120_000);
    expect(done.run).toMatchObject({ rowsRead: 20_000, rowsScored: 20_000, rowsQuarantined: 0, chunks: midway.chunks });
    const ids: string[] = [];
    for (const part of done.manifest.parts as { path: string }[]) {
      for (const row of await readParquetRows(await devhost.container().getBlobClient(part.path).downloadToBuffer())) ids.push(row.id as string);
    }
    expect(ids).toHaveLength(20_000);
    expect(new Set(ids).size).toBe(20_000);
    const listed: string[] = [];
    for await (const blob of devhost.container().listBlobsFlat({ prefix: `predictions/crash/v1/${run.runId}/` })) listed.push(blob.name);
    expect(listed.filter((n) => n.endsWith('.parquet'))).toHaveLength(midway.chunks!);
  });
});

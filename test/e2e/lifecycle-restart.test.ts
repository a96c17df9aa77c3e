/**
 * A version waiting for approval survives a crashed host: devhost is killed with SIGKILL while
 * the lifecycle waits, started again on the same data, and the approval then completes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readSnapshotFile } from '../../devhost/services/cosmos-snapshot';
import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';

jest.setTimeout(120_000);

describe('model lifecycle across a devhost crash', () => {
  let dataDir: string;
  let devhost: ProductDevhost | undefined;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-restart-'));
  });
  afterAll(async () => {
    await devhost?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when devhost is killed while a version waits for approval and restarted, then the wait holds and the approval promotes it', async () => {
    devhost = await startProductDevhost({ dataDir });
    const container = devhost.container();
    await container.createIfNotExists();
    const csv = toCsv(regionalRows(300, 5));
    await container.getBlockBlobClient('datasets/crash/validation.csv').upload(csv, Buffer.byteLength(csv));
    await apiClient(devhost.origin, 'contributor').post('models', aRegionalModel('crash', { validation: { metric: 'rmse', minSegmentRows: 30, bootstrapResamples: 100 } }));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: 'datasets/crash/validation.csv' }] });
    const registered = await apiClient(devhost.origin, 'contributor').register('crash', pkg.manifest, pkg.onnx);
    expect(registered.status).toBe(202);
    const pending = await eventually('pending_approval', async () => {
      const res = await apiClient(devhost!.origin, 'reader').get('models/crash/versions/1');
      return res.body?.lifecycle?.customStatus?.step === 'pending_approval' ? res.body : undefined;
    });
    // A killed host keeps only what its Cosmos snapshot holds (written once the writes pause for a
    // moment): kill once the snapshot has the version waiting for approval.
    const pendingInSnapshot = () =>
      readSnapshotFile(path.join(dataDir, 'cosmos.json'))?.databases.some((db) =>
        db.containers.some((c) => c.items.some((i) => i.docType === 'version' && i.modelName === 'crash' && i.version === 1 && i.state === 'pending_approval')),
      ) ?? false;
    await eventually('the Cosmos snapshot to hold the version waiting for approval', async () => (pendingInSnapshot() ? true : undefined));
    await devhost.kill();

    devhost = await startProductDevhost({ dataDir });
    const reader = apiClient(devhost.origin, 'reader');
    const after = await reader.get('models/crash/versions/1');
    if (after.status !== 200) throw new Error(`${after.status} ${JSON.stringify(after.body)}\n${devhost.output.join('\n')}`);
    expect(after.body.version).toMatchObject({ state: 'pending_approval', evidenceHash: pending.version.evidenceHash });
    expect(after.body.lifecycle).toMatchObject({ runtimeStatus: 'Running', customStatus: { step: 'pending_approval' } });

    const approved = await apiClient(devhost.origin, 'approver').post('models/crash/versions/1/approve', { evidenceHash: pending.version.evidenceHash });
    expect(approved).toMatchObject({ status: 200, body: { lifecycleNotified: true } });
    const done = await eventually('production', async () => {
      const res = await reader.get('models/crash/versions/1');
      return res.body?.lifecycle?.runtimeStatus === 'Completed' ? res.body : undefined;
    });
    expect(done.version.state).toBe('production');
    expect((await reader.get('models/crash/champion')).body.version).toBe(1);
  });
});

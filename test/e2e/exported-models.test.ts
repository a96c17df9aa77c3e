/**
 * Models as the exporters write them, through the product on devhost: a scikit-learn Pipeline
 * (ColumnTransformer + LogisticRegression) converted by skl2onnx with one input per column and
 * ZipMap on, registered over HTTP with no fitted transforms, validated, approved and then scoring
 * drops, with every prediction equal to a direct computation.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { seededRandom } from '../../shared/domain/random';
import { type ColumnTransformerFit, sklearnLogisticRegressionPipeline } from '../fixtures/onnx-models';
import { apiClient, eventually, type ProductDevhost, startProductDevhost } from '../support/product-devhost';
import { readParquetRows } from '../support/scoring-fixtures';

jest.setTimeout(120_000);

const fit: ColumnTransformerFit = {
  numeric: [
    { name: 'age', mean: 45, std: 12 },
    { name: 'income', mean: 80, std: 40 },
  ],
  categorical: [{ name: 'plan', categories: ['basic', 'pro', 'team'] }],
};
const fx = sklearnLogisticRegressionPipeline(fit, [1.2, -0.8, 0.3, -0.4, 0.9], -0.2);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Customer {
  customer: string;
  age: number;
  income: number;
  plan: string;
  actual: string;
}

function customers(n: number, seed: number): Customer[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const row = { customer: `c${seed}-${i}`, age: Math.round(18 + random.next() * 60), income: Math.round(10 + random.next() * 190), plan: fit.categorical[0]!.categories[random.int(3)]! };
    return { ...row, actual: random.next() < fx.predict(row).probabilities[1] ? '1' : '0' };
  });
}
const csv = (rows: Customer[]) => `customer,age,income,plan,actual\n${rows.map((r) => `${r.customer},${r.age},${r.income},${r.plan},${r.actual}`).join('\n')}\n`;

let devhost: ProductDevhost;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exported-e2e-'));
  devhost = await startProductDevhost({ dataDir });
  await devhost.container().createIfNotExists();
});
afterAll(async () => {
  await devhost?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('models as exporters write them, on devhost', () => {
  it('when an skl2onnx pipeline with ZipMap is registered without transforms, then its ZipMap is cut off at registration and it validates, promotes and scores drops exactly', async () => {
    const contributor = apiClient(devhost.origin, 'contributor');
    const reader = apiClient(devhost.origin, 'reader');
    await contributor.post('models', {
      name: 'churn',
      task: 'binary',
      idColumn: 'customer',
      features: [
        { name: 'age', type: 'numeric' },
        { name: 'income', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
      ],
      classLabels: ['0', '1'],
      policies: { validation: { minSegmentRows: 30, bootstrapResamples: 50 } },
    });
    const validation = csv(customers(400, 1));
    await devhost.container().getBlockBlobClient('datasets/churn/validation.csv').upload(validation, validation.length);
    const manifest = { signature: fx.signature, artifact: { sha256: sha256(fx.bytes) }, datasets: [{ role: 'validation', uri: 'datasets/churn/validation.csv' }] };
    const registered = await contributor.register('churn', manifest, fx.bytes);
    expect(registered.status).toBe(202);

    const pending = await eventually('pending approval', async () => {
      const v = await reader.get('models/churn/versions/1');
      if (v.body?.version?.state === 'validation_failed') throw new Error(JSON.stringify(v.body.evidence.reasons));
      return v.body?.version?.state === 'pending_approval' ? v.body : undefined;
    });
    expect(pending.version.artifact.sourceSha256).toBe(sha256(fx.bytes));
    expect(pending.version.artifact.sha256).not.toBe(sha256(fx.bytes));
    expect(pending.version.transformSpecHash).toBeUndefined();
    const stored = await devhost.container().getBlobClient('models/churn/1/model.onnx').downloadToBuffer();
    expect(sha256(stored)).toBe(pending.version.artifact.sha256);
    expect(pending.evidence.splits[0].challenger.overall.metrics.roc_auc.value).toBeGreaterThan(0.6);

    await apiClient(devhost.origin, 'approver').post('models/churn/versions/1/approve', { evidenceHash: pending.version.evidenceHash });
    await eventually('a champion', async () => ((await reader.get('models/churn/champion')).body?.version === 1 ? true : undefined));

    const drop = customers(200, 2);
    const body = csv(drop);
    await devhost.container().getBlockBlobClient('drops/churn/today.csv').upload(body, body.length);
    const run = await eventually('the run', async () => {
      const runs = (await reader.get('models/churn/runs')).body?.runs as { runId: string; state: string }[] | undefined;
      return runs?.find((r) => r.state === 'completed' || r.state === 'failed');
    });
    const detail = (await reader.get(`models/churn/runs/${run.runId}`)).body;
    expect(detail.run).toMatchObject({ state: 'completed', rowsScored: 200 });
    const predicted = await readParquetRows(await devhost.container().getBlobClient(detail.manifest.parts[0].path).downloadToBuffer());
    const byId = new Map(drop.map((r) => [r.customer, r]));
    for (const p of predicted) {
      const expected = fx.predict({ ...byId.get(p.customer as string)! });
      expect(p.prediction).toBe(String(expected.label));
      expect(p.probability_1).toBeCloseTo(expected.probabilities[1], 5);
      expect(p.probability_0).toBeCloseTo(expected.probabilities[0], 5);
    }

    const scored = await reader.post('models/churn/score', { rows: [{ customer: 'x', age: 30, income: 50, plan: 'pro' }] });
    const direct = fx.predict({ age: 30, income: 50, plan: 'pro' });
    expect(scored.body.results[0]).toMatchObject({ prediction: String(direct.label), probabilities: { '1': expect.closeTo(direct.probabilities[1], 5) } });
  });

  it('when the declared artifact hash is wrong or the graph does not match its signature, then registration refuses it (422) and stores nothing', async () => {
    const contributor = apiClient(devhost.origin, 'contributor');
    const wrongHash = await contributor.register('churn', { signature: fx.signature, artifact: { sha256: 'a'.repeat(64) } }, fx.bytes);
    expect(wrongHash.body).toMatchObject({ status: 422, code: 'ARTIFACT_INTEGRITY' });
    const wrongSignature = await contributor.register('churn', { signature: { ...fx.signature, inputs: fx.signature.inputs.slice(1) } }, fx.bytes);
    expect(wrongSignature.body).toMatchObject({ status: 422, code: 'SIGNATURE_MISMATCH' });
    expect((await apiClient(devhost.origin, 'reader').get('models/churn')).body.versions).toHaveLength(1);
  });
});

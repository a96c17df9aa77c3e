/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { BlobServiceClient } from '@azure/storage-blob';

import { BlobDataLake } from '../../shared/adapters/blob/data-lake';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { modelInputSchema } from '../../shared/schemas/model';
import { planChunks } from '../../shared/usecases/plan-chunks';
import { scoreChunk } from '../../shared/usecases/score-chunk';
import { linearRegressor } from '../fixtures/onnx-models';
import { artifactOf, passThroughTransform, readParquetRows } from '../support/scoring-fixtures';

describe('batch scoring against Azurite', () => {
  const runtime = new OnnxModelRuntime();
  afterAll(() => runtime.close());

  it('when a CSV drop with quoted newlines is planned and scored chunk by chunk from Blob Storage, then every row is scored once and retries overwrite', async () => {
    const service = BlobServiceClient.fromConnectionString(process.env.STORAGE_CONNECTION_STRING!);
    const container = service.getContainerClient(`scoring-${Date.now()}`);
    await container.create();
    const lake = new BlobDataLake(() => Promise.resolve(container));
    const files = new LakeTabularFiles(lake, { csvWindowBytes: 64 * 1024 });
    const definition = modelInputSchema.parse({
      name: 'energy',
      task: 'regression',
      idColumn: 'meter',
      features: [
        { name: 'a', type: 'numeric' },
        { name: 'b', type: 'numeric' },
      ],
    });
    const fx = linearRegressor([1.5, -0.5], 2);
    const version = { definition, version: 2, transform: passThroughTransform(['a', 'b']), model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 2)) };
    const n = 20_000;
    const lines = ['meter,note,a,b'];
    for (let i = 0; i < n; i += 1) lines.push(`m${i},"note ${i}\nsecond line, ""quoted""",${i % 97},${(i * 7) % 31}`);
    await lake.write('drops/energy/2024/01.csv', Buffer.from(lines.join('\n')));

    const plan = await planChunks({ files }, definition, 'drops/energy/2024/01.csv', { targetChunkBytes: 200_000, targetChunkRows: 1 });
    expect(plan.rows).toBe(n);
    expect(plan.chunks.length).toBeGreaterThan(3);
    const summaries = [];
    for (const chunk of plan.chunks) summaries.push(await scoreChunk({ lake, files }, version, { source: plan.source, runId: 'run-a', chunk }));
    const retried = await scoreChunk({ lake, files }, version, { source: plan.source, runId: 'run-a', chunk: plan.chunks[2]! });
    expect(retried).toEqual(summaries[2]);

    const parts: string[] = [];
    for await (const o of lake.list('predictions/energy/v2/run-a/')) parts.push(o.path);
    expect(parts).toEqual(summaries.map((s) => s.partPath));
    const rows = (await Promise.all(parts.map(async (p) => readParquetRows(await lake.readBuffer(p))))).flat();
    expect(rows).toHaveLength(n);
    rows.forEach((r, i) => {
      expect(r.meter).toBe(`m${i}`);
      expect(r.source_row).toBe(i + 1);
      expect(r.prediction).toBe(fx.predict([i % 97, (i * 7) % 31]));
    });
    await container.delete();
  });
});

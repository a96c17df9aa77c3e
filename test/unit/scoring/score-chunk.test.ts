/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { type ModelInput, modelInputSchema } from '../../../shared/schemas/model';
import type { ChunkSummary } from '../../../shared/schemas/scoring';
import { checkVersion } from '../../../shared/usecases/check-version';
import { planChunks } from '../../../shared/usecases/plan-chunks';
import { MAX_INPUT_VALUES, scoreChunk, type ScoringVersion } from '../../../shared/usecases/score-chunk';
import { linearRegressor, logRegressor, type Stump, treeEnsembleClassifier } from '../../fixtures/onnx-models';
import { MemoryLake } from '../../support/memory-lake';
import { artifactOf, parquetOf, passThroughTransform, readParquetRows } from '../../support/scoring-fixtures';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const regression = (over: Partial<ModelInput> = {}) =>
  modelInputSchema.parse({
    name: 'churn',
    task: 'regression',
    idColumn: 'id',
    timestampColumn: 'ts',
    segmentKeys: ['region'],
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric', nullable: true },
      { name: 'x3', type: 'numeric', range: { min: -100, max: 100 }, strictRange: true },
    ],
    ...over,
  });

const weights = [0.5, -1.25, 2];
const bias = 0.75;

async function linearVersion(over: Partial<ModelInput> = {}): Promise<ScoringVersion & { predict(row: number[]): number }> {
  const fx = linearRegressor(weights, bias);
  const definition = regression(over);
  return {
    definition,
    version: 3,
    transform: passThroughTransform(['x1', 'x2', 'x3']),
    model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 3)),
    predict: fx.predict,
  };
}

async function scoreAll(lake: MemoryLake, version: ScoringVersion, source: string, targetChunkBytes = 64) {
  const files = new LakeTabularFiles(lake, { csvWindowBytes: 128 });
  const plan = await planChunks({ files }, version.definition, source, { targetChunkBytes, targetChunkRows: 3 });
  const summaries: ChunkSummary[] = [];
  for (const chunk of plan.chunks) summaries.push(await scoreChunk({ lake, files }, version, { source, runId: 'run-1', chunk }));
  return { plan, summaries };
}

function csvRows(n: number) {
  const rows: number[][] = [];
  for (let i = 0; i < n; i += 1) rows.push([((i * 37) % 23) - 11.5, (i % 7) * 0.25, ((i * 13) % 17) - 8]);
  return rows;
}

describe('scoreChunk with a linear regressor', () => {
  it('when a CSV is scored in several chunks, then every prediction equals x.w + b and carries id, timestamp, segment, version, run id', async () => {
    const lake = new MemoryLake();
    const rows = csvRows(40);
    const text =
      'id,region,x3,x1,ts,x2,unused\r\n' +
      rows.map((r, i) => `id-${i},"north, ""east""",${r[2]},${r[0]},2024-06-0${(i % 9) + 1}T10:00:00Z,${r[1]},"free\ntext"`).join('\r\n');
    await lake.write('drops/churn/a.csv', Buffer.from(text));
    const version = await linearVersion();
    const { plan, summaries } = await scoreAll(lake, version, 'drops/churn/a.csv');
    expect(plan.chunks.length).toBeGreaterThan(3);
    expect(summaries.reduce((s, c) => s + c.rowsScored, 0)).toBe(40);
    expect(summaries.every((s) => s.rowsRejected === 0 && s.quarantinePath === undefined)).toBe(true);
    const out = (await Promise.all(summaries.map((s) => readParquetRows(lake.body(s.partPath))))).flat();
    expect(summaries[0]!.partPath).toBe('predictions/churn/v3/run-1/part-00000.parquet');
    expect(out).toHaveLength(40);
    out.forEach((o, i) => {
      expect(o).toEqual({
        id: `id-${i}`,
        ts: new Date(`2024-06-0${(i % 9) + 1}T10:00:00Z`),
        region: 'north, "east"',
        prediction: version.predict(rows[i]!),
        model_version: 3,
        run_id: 'run-1',
        source_row: i + 1,
        source_file: 'drops/churn/a.csv',
      });
    });
  });

  it('when the same chunk is scored again, then the part and quarantine are byte-identical and overwrite the first', async () => {
    const lake = new MemoryLake();
    const text = 'id,ts,region,x1,x2,x3\n' + csvRows(500).map((r, i) => `${i},,r${i % 3},${r[0]},${i % 50 === 0 ? 'oops' : r[1]},${r[2]}`).join('\n');
    await lake.write('drops/churn/b.csv', Buffer.from(text));
    const version = await linearVersion();
    const files = new LakeTabularFiles(lake, { csvWindowBytes: 1000 });
    const plan = await planChunks({ files }, version.definition, 'drops/churn/b.csv', { targetChunkBytes: 4000, targetChunkRows: 1 });
    const chunk = plan.chunks[1]!;
    const first = await scoreChunk({ lake, files }, version, { source: 'drops/churn/b.csv', runId: 'r', chunk });
    const part = Buffer.from(lake.body(first.partPath));
    const quarantine = Buffer.from(lake.body(first.quarantinePath!));
    const objects = lake.objects.size;
    // A different window size changes how the bytes are batched, not the output.
    const other = new LakeTabularFiles(lake, { csvWindowBytes: 333 });
    const second = await scoreChunk({ lake, files: other }, version, { source: 'drops/churn/b.csv', runId: 'r', chunk });
    expect(second).toEqual(first);
    expect(lake.body(second.partPath).equals(part)).toBe(true);
    expect(lake.body(second.quarantinePath!).equals(quarantine)).toBe(true);
    expect(lake.objects.size).toBe(objects);
  });

  it('when cells are bad, then each bad row is quarantined with row number, reason and cells, and the counts add up', async () => {
    const lake = new MemoryLake();
    const lines = [
      'id,ts,region,x1,x2,x3,extra',
      'a,,n,1,2,3,x', // fine
      'b,,n,abc,2,3,x', // wrong type
      'c,,n,NaN,2,3,x', // NaN
      'd,,n,1,Infinity,3,x', // Infinity
      'e,,n,,2,3,x', // empty non-nullable
      'f,,n,1,,3,x', // empty nullable: the transform rejects it (no imputer)
      'g,,n,1,2', // ragged
      'h,,n,1,2,300,x', // strict range
    ];
    const body = Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from('i,,n,1,2,3,\xff\n', 'latin1'), Buffer.from('j,,n,4,5,6,x\n')]);
    await lake.write('drops/churn/c.csv', body);
    const version = await linearVersion();
    const { summaries } = await scoreAll(lake, version, 'drops/churn/c.csv', 1 << 20);
    expect(summaries).toHaveLength(1);
    const s = summaries[0]!;
    expect(s).toMatchObject({ rowsRead: 10, rowsScored: 2, rowsRejected: 8, quarantinePath: 'quarantine/churn/run-1/chunk-00000.jsonl' });
    expect(s.rejectionReasons).toEqual({
      'not_a_number:x1': 1,
      'not_finite:x1': 1,
      'not_finite:x2': 1,
      'missing_value:x1': 1,
      transform: 1,
      ragged_row: 1,
      'out_of_range:x3': 1,
      unreadable_row: 1,
    });
    const q = lake.body(s.quarantinePath!).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(q.map((r) => r.row)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(q[0]).toEqual({ row: 2, reason: `'x1' is "abc", not a number`, cells: ['b', '', 'n', 'abc', '2', '3', 'x'] });
    expect(q[4]).toEqual({ row: 6, reason: `'x2' is missing and no imputer covers it`, cells: ['f', '', 'n', '1', '', '3', 'x'] });
    expect(q[7]).toMatchObject({ row: 9, reason: 'the row is not valid UTF-8 (Latin-1 or another legacy encoding?): save the file as UTF-8', rawBase64: Buffer.from('i,,n,1,2,3,\xff\n', 'latin1').toString('base64') });
    const out = await readParquetRows(lake.body(s.partPath));
    expect(out.map((o) => [o.id, o.prediction, o.source_row])).toEqual([
      ['a', version.predict([1, 2, 3]), 1],
      ['j', version.predict([4, 5, 6]), 10],
    ]);
  });

  it('when the model answers some rows with NaN or an infinity, then those rows are quarantined as model_output with the reason and the others scored', async () => {
    const lake = new MemoryLake();
    await lake.write('drops/churn/log.csv', Buffer.from('id,ts,region,x1,x2,x3\na,,n,1,0,0\nb,,n,-1,0,0\nc,,n,0,0,0\nd,,n,4,0,0\n'));
    const fx = logRegressor();
    const definition = regression();
    const version: ScoringVersion = {
      definition,
      version: 3,
      transform: passThroughTransform(['x1']),
      model: await runtime.load(artifactOf(fx.bytes, fx.signature, { ...definition, name: 'log' }, 3)),
    };
    const { summaries } = await scoreAll(lake, version, 'drops/churn/log.csv', 1 << 20);
    const s = summaries[0]!;
    expect(s).toMatchObject({ rowsRead: 4, rowsScored: 2, rowsRejected: 2, rejectionReasons: { model_output: 2 } });
    const q = lake.body(s.quarantinePath!).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(q).toEqual([
      { row: 2, reason: "the model's prediction is NaN", cells: ['b', '', 'n', '-1', '0', '0'] },
      { row: 3, reason: "the model's prediction is -Infinity", cells: ['c', '', 'n', '0', '0', '0'] },
    ]);
    const out = await readParquetRows(lake.body(s.partPath));
    expect(out.map((o) => [o.id, o.prediction, o.source_row])).toEqual([
      ['a', 0, 1],
      ['d', Math.fround(Math.log(4)), 4],
    ]);
  });

  it('when the feature vector is very wide (a one-hot of 5000 categories), then a batch is transformed and scored in passes of rows, with the same predictions', async () => {
    const categories = Array.from({ length: 5000 }, (_, j) => `k${j}`);
    const outputs = categories.map((c) => `c_${c}`);
    const fx = linearRegressor(categories.map((_, j) => j), 0);
    const checked = await checkVersion(
      { runtime },
      {
        model: { name: 'wide', task: 'regression', idColumn: 'id', features: [{ name: 'c', type: 'categorical' }] },
        version: 1,
        artifact: fx.bytes,
        signature: fx.signature,
        transforms: {
          specVersion: 1,
          specHash: '0'.repeat(64),
          inputs: [{ name: 'c', kind: 'categorical' }],
          steps: [{ type: 'one_hot', column: 'c', categories, unseen: 'error', outputs }],
          output: outputs,
          trainingRows: 1,
          fittedRows: 1,
        },
      },
    );
    const fed: number[] = [];
    const version: ScoringVersion = {
      ...checked.scoring,
      model: {
        roles: checked.scoring.model.roles,
        predict: (inputs) => (fed.push(inputs.rows), checked.scoring.model.predict(inputs)),
      },
    };
    const lake = new MemoryLake();
    const rows = Array.from({ length: 2000 }, (_, i) => (i === 7 ? `r${i},nope` : `r${i},k${(i * 7) % 5000}`));
    await lake.write('drops/wide/w.csv', Buffer.from(`id,c\n${rows.join('\n')}\n`));
    const { summaries } = await scoreAll(lake, version, 'drops/wide/w.csv', 1 << 20);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ rowsRead: 2000, rowsScored: 1999, rowsRejected: 1, rejectionReasons: { transform: 1 } });
    expect(Math.max(...fed) * 5000).toBeLessThanOrEqual(MAX_INPUT_VALUES);
    const out = await readParquetRows(lake.body(summaries[0]!.partPath));
    expect(out.map((o) => [o.id, o.prediction])).toEqual(
      Array.from({ length: 2000 }, (_, i) => i)
        .filter((i) => i !== 7)
        .map((i) => [`r${i}`, (i * 7) % 5000]),
    );
  });

  it('when the file is empty, lacks required columns, or is not CSV/Parquet, then planning fails with INVALID_INPUT_FILE', async () => {
    const lake = new MemoryLake();
    const version = await linearVersion();
    await lake.write('drops/churn/empty.csv', Buffer.alloc(0));
    await lake.write('drops/churn/missing.csv', Buffer.from('id,x1,x2\n1,2,3\n'));
    await lake.write('drops/churn/data.xlsx', Buffer.from('PK'));
    const files = new LakeTabularFiles(lake);
    await expect(planChunks({ files }, version.definition, 'drops/churn/empty.csv')).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message: 'the file is empty: no header row',
    });
    await expect(planChunks({ files }, version.definition, 'drops/churn/missing.csv')).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message: "the file lacks required column(s) 'x3', 'ts', 'region'; its header reads \"id\", \"x1\", \"x2\"",
    });
    // A file separated by semicolons reads as one column: the message says why and what to do.
    await lake.write('drops/churn/semicolons.csv', Buffer.from('id;ts;region;x1;x2;x3\n1;2026-01-01;north;1;2;3\n'));
    await expect(planChunks({ files }, version.definition, 'drops/churn/semicolons.csv')).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message:
        "the file lacks required column(s) 'id', 'x1', 'x2', 'x3', 'ts', 'region'; its header is one column, \"id;ts;region;x1;x2;x3\": the file looks separated by ';', and only comma-separated files are read; save it as comma-separated CSV",
    });
    await expect(planChunks({ files }, version.definition, 'drops/churn/data.xlsx')).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
    await expect(planChunks({ files }, version.definition, 'drops/churn/none.csv')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('when the file has only a header, then the plan has no chunks and no rows', async () => {
    const lake = new MemoryLake();
    await lake.write('drops/churn/h.csv', Buffer.from('\uFEFFid,ts,region,x1,x2,x3\r\n'));
    const version = await linearVersion();
    const plan = await planChunks({ files: new LakeTabularFiles(lake) }, version.definition, 'drops/churn/h.csv');
    expect(plan).toMatchObject({ rows: 0, chunks: [] });
  });

  it('when a gzip CSV is scored, then it is one chunk and every row is scored with its file row number', async () => {
    const { gzipSync } = await import('node:zlib');
    const lake = new MemoryLake();
    const rows = csvRows(30);
    const text = 'id,ts,region,x1,x2,x3\r\n' + rows.map((r, i) => `g${i},,"a\nb",${r[0]},${r[1]},${r[2]}`).join('\r\n');
    await lake.write('drops/churn/z.csv.gz', gzipSync(Buffer.from(text)));
    const version = await linearVersion();
    const { plan, summaries } = await scoreAll(lake, version, 'drops/churn/z.csv.gz');
    expect(plan.chunks).toHaveLength(1);
    const out = await readParquetRows(lake.body(summaries[0]!.partPath));
    expect(out.map((o) => [o.id, o.region, o.prediction, o.source_row])).toEqual(rows.map((r, i) => [`g${i}`, 'a\nb', version.predict(r), i + 1]));
  });

  it('when a header-only gzip CSV is scored, then an empty part is written and nothing is rejected', async () => {
    const { gzipSync } = await import('node:zlib');
    const lake = new MemoryLake();
    await lake.write('drops/churn/h.csv.gz', gzipSync(Buffer.from('id,ts,region,x1,x2,x3\n')));
    const version = await linearVersion();
    const { plan, summaries } = await scoreAll(lake, version, 'drops/churn/h.csv.gz');
    expect(plan.chunks).toEqual([{ format: 'csv', index: 0, compression: 'gzip' }]);
    expect(summaries[0]).toMatchObject({ rowsRead: 0, rowsScored: 0, rowsRejected: 0 });
    expect(await readParquetRows(lake.body(summaries[0]!.partPath))).toEqual([]);
  });
});

describe('scoreChunk with a tree-ensemble classifier on Parquet', () => {
  const stumps: Stump[] = [
    { feature: 0, threshold: 0, left: [0.7, 0.2, 0.1], right: [0.1, 0.3, 0.6] },
    { feature: 1, threshold: 5, left: [0.2, 0.5, 0.3], right: [0.4, 0.4, 0.2] },
    { feature: 0, threshold: 2.5, left: [0.1, 0.1, 0.8], right: [0.6, 0.2, 0.2] },
  ];
  const definition = modelInputSchema.parse({
    name: 'tiers',
    task: 'multiclass',
    idColumn: 'customer',
    classLabels: ['bronze', 'silver', 'gold'],
    features: [
      { name: 'spend', type: 'numeric' },
      { name: 'visits', type: 'numeric' },
    ],
  });

  async function version(): Promise<ScoringVersion & { predict: ReturnType<typeof treeEnsembleClassifier>['predict'] }> {
    const fx = treeEnsembleClassifier(2, stumps, ['bronze', 'silver', 'gold']);
    return {
      definition,
      version: 1,
      transform: passThroughTransform(['spend', 'visits']),
      model: await runtime.load(artifactOf(fx.bytes, fx.signature, definition, 1)),
      predict: fx.predict,
    };
  }

  it('when row groups are scored as chunks, then labels and class probabilities match the summed leaf weights', async () => {
    const lake = new MemoryLake();
    const n = 25;
    const spend = Array.from({ length: n }, (_, i) => (i % 11) - 3.5);
    const visits = Array.from({ length: n }, (_, i) => (i * 7) % 13);
    await lake.write(
      'drops/tiers/p.parquet',
      parquetOf(
        [
          { name: 'customer', data: spend.map((_, i) => `c${i}`), type: 'STRING' },
          { name: 'visits', data: visits, type: 'DOUBLE' },
          { name: 'spend', data: spend, type: 'DOUBLE' },
        ],
        4,
      ),
    );
    const v = await version();
    const { plan, summaries } = await scoreAll(lake, v, 'drops/tiers/p.parquet');
    expect(plan.chunks.length).toBe(7);
    expect(plan.chunks[6]).toEqual({ format: 'parquet', index: 6, rowGroupStart: 6, rowGroupEnd: 7, firstRow: 25, rows: 1 });
    const out = (await Promise.all(summaries.map((s) => readParquetRows(lake.body(s.partPath))))).flat();
    expect(out).toHaveLength(n);
    out.forEach((o, i) => {
      const expected = v.predict([spend[i]!, visits[i]!]);
      expect(o).toEqual({
        customer: `c${i}`,
        prediction: expected.label,
        probability_bronze: expected.probabilities[0],
        probability_silver: expected.probabilities[1],
        probability_gold: expected.probabilities[2],
        model_version: 1,
        run_id: 'run-1',
        source_row: i + 1,
        source_file: 'drops/tiers/p.parquet',
      });
    });
  });

  it('when ids are int64 keys past 2^53 (a Parquet INT64 column, long digits in a CSV), then each prediction carries its id exactly, not rounded to a double', async () => {
    const lake = new MemoryLake();
    const ids = [9007199254740993n, -9223372036854775808n, 9223372036854775807n, 2n ** 53n + 2n];
    const cells = { visits: [1, 2, 3, 4], spend: [0.5, -1, 2, 3] };
    await lake.write(
      'drops/tiers/ids.parquet',
      parquetOf(
        [
          { name: 'customer', data: ids, type: 'INT64' },
          { name: 'visits', data: cells.visits, type: 'DOUBLE' },
          { name: 'spend', data: cells.spend, type: 'DOUBLE' },
        ],
        2,
      ),
    );
    await lake.write('drops/tiers/ids.csv', Buffer.from(`customer,visits,spend\n${ids.map((id, i) => `${id},${cells.visits[i]},${cells.spend[i]}`).join('\n')}\n`));
    const v = await version();
    for (const source of ['drops/tiers/ids.parquet', 'drops/tiers/ids.csv']) {
      const { summaries } = await scoreAll(lake, v, source);
      const out = (await Promise.all(summaries.map((s) => readParquetRows(lake.body(s.partPath))))).flat();
      expect(out.map((o) => o.customer)).toEqual(ids.map(String));
    }
  });

  it('when a Parquet file has the wrong schema, then missing columns fail the plan and wrong types are rejected per row', async () => {
    const lake = new MemoryLake();
    await lake.write('drops/tiers/missing.parquet', parquetOf([{ name: 'customer', data: ['a'], type: 'STRING' }], 10));
    await lake.write(
      'drops/tiers/types.parquet',
      parquetOf(
        [
          { name: 'customer', data: ['a', 'b', 'c'], type: 'STRING' },
          { name: 'spend', data: ['1.5', 'lots', null], type: 'STRING' },
          { name: 'visits', data: [true, false, true], type: 'BOOLEAN' },
        ],
        10,
      ),
    );
    const v = await version();
    const files = new LakeTabularFiles(lake);
    await expect(planChunks({ files }, definition, 'drops/tiers/missing.parquet')).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      message: "the file lacks required column(s) 'spend', 'visits'; its header reads \"customer\"",
    });
    const { summaries } = await scoreAll(lake, v, 'drops/tiers/types.parquet');
    expect(summaries[0]).toMatchObject({ rowsRead: 3, rowsScored: 1, rowsRejected: 2 });
    const q = lake.body(summaries[0]!.quarantinePath!).toString().trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(q).toEqual([
      { row: 2, reason: `'spend' is "lots", not a number`, cells: ['b', 'lots', 'false'] },
      { row: 3, reason: `'spend' is empty and not nullable`, cells: ['c', null, 'true'] },
    ]);
  });

  it('when a Parquet file is truncated, then planning and reading fail with INVALID_INPUT_FILE', async () => {
    const lake = new MemoryLake();
    const whole = parquetOf([{ name: 'customer', data: ['a', 'b'], type: 'STRING' }, { name: 'spend', data: [1, 2], type: 'DOUBLE' }, { name: 'visits', data: [1, 2], type: 'DOUBLE' }], 1);
    await lake.write('drops/tiers/cut.parquet', whole.subarray(0, whole.length - 20));
    await lake.write('drops/tiers/tiny.parquet', whole.subarray(0, 6));
    const files = new LakeTabularFiles(lake);
    await expect(planChunks({ files }, definition, 'drops/tiers/cut.parquet')).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
    await expect(planChunks({ files }, definition, 'drops/tiers/tiny.parquet')).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
    // Cut inside the data pages with an intact footer copied back: row groups fail to decode.
    const footerLength = whole.readUInt32LE(whole.length - 8) + 8;
    const damaged = Buffer.from(whole);
    damaged.fill(0xff, 4, damaged.length - footerLength);
    await lake.write('drops/tiers/damaged.parquet', damaged);
    const chunk = { format: 'parquet' as const, index: 0, rowGroupStart: 0, rowGroupEnd: 2, firstRow: 1, rows: 2 };
    await expect(scoreChunk({ lake, files }, await version(), { source: 'drops/tiers/damaged.parquet', runId: 'r', chunk })).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
    });
  });
});

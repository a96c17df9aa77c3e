/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * Models as the exporters write them (graphs built node by node in their exact structure, see
 * test/fixtures/onnx-models.ts), taken through what a data scientist does: `mlops package` with
 * sample rows and the outputs the trained model gave, `mlops check` (what registration checks),
 * `mlops score`, and the pipeline's own scoreChunk. Every prediction is compared with a direct
 * computation of the model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { checkCommand } from '../../../cli/check';
import { fitCommand } from '../../../cli/fit';
import { packageCommand } from '../../../cli/package';
import { scoreFiles } from '../../../cli/score';
import { readManifest, versionPackage } from '../../../cli/version-package';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { seededRandom } from '../../../shared/domain/random';
import { type FittedStep, fittedTransformsSchema } from '../../../shared/domain/transforms';
import { checkVersion } from '../../../shared/usecases/check-version';
import { planChunks } from '../../../shared/usecases/plan-chunks';
import { scoreChunk } from '../../../shared/usecases/score-chunk';
import {
  type ColumnTransformerFit,
  lightgbmRegressor,
  sklearnLinearRegressionPipeline,
  sklearnLogisticRegressionPipeline,
  torchBinaryClassifier,
} from '../../fixtures/onnx-models';
import { runCli } from '../../support/cli-run';
import { MemoryLake } from '../../support/memory-lake';
import { readParquetRows } from '../../support/scoring-fixtures';

const PLANS = ['basic', 'pro', 'team'];
const REGIONS = ['north', 'south'];
interface Row {
  customer: string;
  age: number;
  income: number;
  plan: string;
  region: string;
}
const random = seededRandom(11);
const rows: Row[] = Array.from({ length: 160 }, (_, i) => ({
  customer: `c${i}`,
  age: Number((18 + random.next() * 60).toFixed(2)),
  income: Number((10 + random.next() * 190).toFixed(3)),
  plan: PLANS[random.int(3)]!,
  region: REGIONS[random.int(2)]!,
}));
/** An unseen category (scored: the encoders ignore it) and two rows validation quarantines. */
const odd: Row = { customer: 'odd', age: 33, income: 77.5, plan: 'enterprise', region: 'north' };
const csvOf = (list: Row[]) =>
  `customer,age,income,plan,region,note\n${list.map((r) => `${r.customer},${r.age},${r.income},${r.plan},${r.region},x`).join('\n')}\n`;
const dataCsv = `${csvOf([...rows, odd])}bad1,n/a,20,pro,south,x\nbad2,40,,pro,south,x\n`;
const sample = rows.slice(0, 6);

function standardScaler(values: number[]) {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length) };
}
const scaler = {
  numeric: [
    { name: 'age', ...standardScaler(rows.map((r) => r.age)) },
    { name: 'income', ...standardScaler(rows.map((r) => r.income)) },
  ],
};

const features = [
  { name: 'age', type: 'numeric' },
  { name: 'income', type: 'numeric' },
  { name: 'plan', type: 'categorical', allowedValues: PLANS },
  { name: 'region', type: 'categorical' },
];

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-exporters-'));
  fs.writeFileSync(path.join(root, 'data.csv'), dataCsv);
  fs.writeFileSync(path.join(root, 'training.csv'), csvOf(rows));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Case {
  name: string;
  model: Record<string, unknown>;
  bytes: Buffer;
  /** A transform spec fitted with `mlops fit` on the training rows (models fed our features). */
  spec?: unknown;
  /** The direct computation; `fitted` is what `mlops fit` wrote. */
  expected(
    row: Row,
    fitted: FittedStep[],
  ): { prediction: number | string; probabilities?: Record<string, number> };
}

/** Writes the package folder the training side would have, runs `mlops package`, returns the folder. */
async function packageCase(c: Case): Promise<{ dir: string; fitted: FittedStep[] }> {
  const dir = path.join(root, c.name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'model.onnx'), c.bytes);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(c.model));
  let fitted: FittedStep[] = [];
  if (c.spec) {
    fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(c.spec));
    const fit = await runCli(fitCommand, [
      path.join(dir, 'spec.json'),
      path.join(root, 'training.csv'),
      '--out',
      path.join(dir, 'fitted.json'),
    ]);
    expect(fit).toMatchObject({ code: 0, err: '' });
    fitted = fittedTransformsSchema.parse(
      JSON.parse(fs.readFileSync(path.join(dir, 'fitted.json'), 'utf8')),
    ).steps;
  }
  fs.writeFileSync(path.join(dir, 'sample.csv'), csvOf(sample));
  const outputs = sample.map((r) => c.expected(r, fitted));
  const probabilityColumns = Object.keys(outputs[0]!.probabilities ?? {});
  fs.writeFileSync(
    path.join(dir, 'expected.csv'),
    [
      ['customer', 'prediction', ...probabilityColumns].join(','),
      ...sample.map((r, i) =>
        [
          r.customer,
          outputs[i]!.prediction,
          ...probabilityColumns.map((p) => outputs[i]!.probabilities![p]),
        ].join(','),
      ),
    ].join('\n'),
  );
  const packaged = await runCli(packageCommand, [
    dir,
    '--sample',
    path.join(dir, 'sample.csv'),
    '--expected',
    path.join(dir, 'expected.csv'),
    '--version',
    '3',
  ]);
  expect(packaged).toMatchObject({ code: 0, err: '' });
  expect(packaged.out).toContain('6 golden records');
  return { dir, fitted };
}

const close = (actual: unknown, expected: number) =>
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));

/** Every scored row against the direct computation; the quarantined rows are the two bad ones. */
function expectScored(scored: Record<string, unknown>[], c: Case, fitted: FittedStep[]) {
  const byId = new Map([...rows, odd].map((r) => [r.customer, r]));
  expect(scored.map((s) => s.customer)).toEqual([...rows, odd].map((r) => r.customer));
  for (const s of scored) {
    const want = c.expected(byId.get(s.customer as string)!, fitted);
    if (typeof want.prediction === 'number') close(s.prediction, want.prediction);
    else expect(s.prediction).toBe(want.prediction);
    for (const [column, p] of Object.entries(want.probabilities ?? {})) close(s[column], p);
    expect(s.model_version).toBe(3);
  }
}

async function checkScoreAndPipeline(c: Case) {
  const { dir, fitted } = await packageCase(c);
  const check = await runCli(checkCommand, [dir, '--data', path.join(root, 'data.csv')]);
  expect(check.err).toBe('');
  expect(check.code).toBe(0);
  const lines = check.out.trim().split('\n');
  expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
    'ok artifact',
    'ok signature',
    ...(c.spec ? ['ok transforms'] : []),
    'ok parity',
    'ok sample',
    'note datasets',
    expect.stringMatching(/^passed: /) as unknown as string,
  ]);
  expect(check.out).toContain('6 golden records match');
  expect(check.out).toContain(
    `${rows.length + 3} rows read, ${rows.length + 1} scored, 2 rejected (not_a_number:age: 1, missing_value:income: 1)`,
  );

  const out = path.join(dir, 'out', 'predictions.parquet');
  expect(
    await scoreFiles(path.join(dir, 'manifest.json'), path.join(root, 'data.csv'), out, () => undefined),
  ).toBe(0);
  expectScored(await readParquetRows(fs.readFileSync(out)), c, fitted);
  expect(
    fs
      .readFileSync(`${out}.rejected.jsonl`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { row: number }).row),
  ).toEqual([rows.length + 2, rows.length + 3]);

  // The pipeline's scoreChunk, with the version registration would store, over a chunked drop.
  const runtime = new OnnxModelRuntime();
  try {
    const manifestFile = path.join(dir, 'manifest.json');
    const checked = await checkVersion({ runtime }, versionPackage(manifestFile, readManifest(manifestFile)));
    const lake = new MemoryLake();
    await lake.write('drops/m/data.csv', Buffer.from(dataCsv));
    const files = new LakeTabularFiles(lake, { csvWindowBytes: 1024 });
    const plan = await planChunks({ files }, checked.definition, 'drops/m/data.csv', {
      targetChunkBytes: 2000,
      targetChunkRows: 1,
    });
    expect(plan.chunks.length).toBeGreaterThan(2);
    const scored: Record<string, unknown>[] = [];
    for (const chunk of plan.chunks) {
      const summary = await scoreChunk({ lake, files }, checked.scoring, {
        source: 'drops/m/data.csv',
        runId: 'run',
        chunk,
      });
      scored.push(...(await readParquetRows(lake.body(summary.partPath))));
    }
    expectScored(scored, c, fitted);
    return checked;
  } finally {
    await runtime.close();
  }
}

const f32 = Math.fround;

describe('models as the exporters write them: mlops package, check, score and the pipeline', () => {
  it('when skl2onnx exports Pipeline(ColumnTransformer(StandardScaler, OneHotEncoder(ignore)), LinearRegression) with one input per column, then it registers and scores like the pipeline computed directly', async () => {
    const fit: ColumnTransformerFit = {
      ...scaler,
      categorical: [
        { name: 'plan', categories: PLANS },
        { name: 'region', categories: REGIONS },
      ],
    };
    const fx = sklearnLinearRegressionPipeline(fit, [3.5, -2.25, 1, 2, 3, -0.5, 0.5], 10);
    const c: Case = {
      name: 'sklearn-regression',
      model: { name: 'spend', task: 'regression', idColumn: 'customer', features },
      bytes: fx.bytes,
      expected: (r) => ({ prediction: fx.predict({ ...r }) }),
    };
    const checked = await checkScoreAndPipeline(c);
    expect(checked.feeds.map((f) => [f.name, f.source, f.type])).toEqual([
      ['age', 'column', 'float32'],
      ['income', 'column', 'float32'],
      ['plan', 'column', 'string'],
      ['region', 'column', 'string'],
    ]);
    expect(checked.artifact.rewrites).toEqual([]);
    expect(checked.artifact.sha256).toBe(checked.artifact.sourceSha256);
  });

  it('when the same pipeline ends in LogisticRegression with ZipMap, then registration cuts the ZipMap off, takes its class labels and scores int64 labels as classes', async () => {
    const fit: ColumnTransformerFit = { ...scaler, categorical: [{ name: 'plan', categories: PLANS }] };
    const fx = sklearnLogisticRegressionPipeline(fit, [1.2, -0.8, 0.3, -0.4, 0.9], -0.2);
    const c: Case = {
      name: 'sklearn-logistic',
      // No classLabels: the ZipMap names the classes 0 and 1.
      model: { name: 'churn', task: 'binary', idColumn: 'customer', features: features.slice(0, 3) },
      bytes: fx.bytes,
      expected: (r) => {
        const p = fx.predict({ ...r });
        return {
          prediction: p.label,
          probabilities: { probability_0: p.probabilities[0], probability_1: p.probabilities[1] },
        };
      },
    };
    const checked = await checkScoreAndPipeline(c);
    expect(checked.definition.classLabels).toEqual(['0', '1']);
    expect(checked.artifact.rewrites).toEqual([
      "ZipMap 'ZipMap' removed: the output 'output_probability' (a sequence of maps) is now its input 'probabilities', float [N, 2], classes [\"0\",\"1\"]",
    ]);
    expect(checked.artifact.sha256).not.toBe(checked.artifact.sourceSha256);
    const manifest = readManifest(path.join(root, c.name, 'manifest.json'));
    expect(manifest.artifact.rewrittenSha256).toBe(checked.artifact.sha256);
    expect(manifest.model.classLabels).toEqual(['0', '1']);
    expect(manifest.signature.outputs.map((o) => [o.name, o.type])).toEqual([
      ['output_label', 'int64'],
      ['probabilities', 'float32'],
    ]);
  });

  it('when classes 0/1 are named in model.json and expected.csv gives probability_0, probability_1 (the docs snippet over pipe.classes_), then the golden records check those probabilities by position; a column naming no class is refused', async () => {
    const fit: ColumnTransformerFit = { ...scaler, categorical: [{ name: 'plan', categories: PLANS }] };
    const fx = sklearnLogisticRegressionPipeline(fit, [1.2, -0.8, 0.3, -0.4, 0.9], -0.2);
    const model = { name: 'churn', task: 'binary', idColumn: 'customer', classLabels: ['stay', 'churn'], features: features.slice(0, 3) };
    const write = (name: string, columns: [string, string], shift = 0) =>
      packageCase({
        name,
        model,
        bytes: fx.bytes,
        expected: (r) => {
          const p = fx.predict({ ...r });
          return { prediction: p.label, probabilities: { [columns[0]]: p.probabilities[0], [columns[1]]: p.probabilities[1] + shift } };
        },
      }).then(({ dir }) => dir);
    const dir = await write('named-classes-by-position', ['probability_0', 'probability_1']);
    const manifest = readManifest(path.join(dir, 'manifest.json'));
    expect(manifest.goldenRecords!.map((g) => g.expectedOutput)).toEqual(
      sample.map((r) => {
        const p = fx.predict({ ...r });
        return { prediction: ['stay', 'churn'][p.label], probabilities: [expect.closeTo(p.probabilities[0], 6), expect.closeTo(p.probabilities[1], 6)] };
      }),
    );
    const check = await runCli(checkCommand, [dir]);
    expect(check).toMatchObject({ code: 0, err: '' });
    expect(check.out).toContain('6 golden records match');
    // The probabilities are checked: one the model does not give fails parity.
    const off = await write('named-classes-by-position-off', ['probability_0', 'probability_1'], 0.01);
    const failed = await runCli(checkCommand, [off]);
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/FAIL\s+parity/);

    fs.mkdirSync(path.join(root, 'stray'));
    fs.copyFileSync(path.join(dir, 'model.onnx'), path.join(root, 'stray', 'model.onnx'));
    fs.copyFileSync(path.join(dir, 'model.json'), path.join(root, 'stray', 'model.json'));
    fs.writeFileSync(path.join(root, 'stray', 'expected.csv'), fs.readFileSync(path.join(dir, 'expected.csv'), 'utf8').replace('probability_0,probability_1', 'probability_Stay,probability_Churn'));
    const stray = await runCli(packageCommand, [path.join(root, 'stray'), '--sample', path.join(dir, 'sample.csv'), '--expected', path.join(root, 'stray', 'expected.csv')]);
    expect(stray.code).toBe(1);
    expect(stray.err).toContain('probability_Stay, probability_Churn name no class of ["stay","churn"]: give the probabilities as probability_stay, probability_churn (or by position, probability_0, probability_1)');
  });

  it('when onnxmltools exports a LightGBM regressor (TreeEnsembleRegressor -> Identity) fed by our transforms, then it registers and scores like its trees', async () => {
    const trees = [
      {
        feature: 0,
        threshold: 45.5,
        left: { feature: 2, threshold: 0.5, left: 1.25, right: -0.75 },
        right: { feature: 1, threshold: 100, left: 2.5, right: 4 },
      },
      {
        feature: 4,
        threshold: 0.5,
        left: { feature: 1, threshold: 60.25, left: -1, right: 0.5 },
        right: 3.125,
      },
      { feature: 3, threshold: 0.5, left: 0.1, right: { feature: 0, threshold: 30, left: -2, right: 1 } },
    ];
    const fx = lightgbmRegressor(5, trees);
    const c: Case = {
      name: 'lightgbm',
      model: { name: 'spend-gbm', task: 'regression', idColumn: 'customer', features: features.slice(0, 3) },
      bytes: fx.bytes,
      spec: {
        specVersion: 1,
        steps: [
          { type: 'passthrough', columns: ['age', 'income'] },
          { type: 'one_hot', column: 'plan', categories: PLANS, unseen: 'ignore' },
        ],
        output: ['age', 'income', 'plan_basic', 'plan_pro', 'plan_team'],
      },
      expected: (r) => ({
        prediction: fx.predictRow([r.age, r.income, ...PLANS.map((p) => (r.plan === p ? 1 : 0))]),
      }),
    };
    const checked = await checkScoreAndPipeline(c);
    expect(checked.feeds).toEqual([{ source: 'transforms', name: 'input', type: 'float32', width: 5 }]);
  });

  it('when torch.onnx.export writes a Gemm/Relu/Gemm/Sigmoid binary classifier fed by our transforms, then its one probability becomes both class probabilities and the label', async () => {
    const fx = torchBinaryClassifier(
      [
        [0.8, -0.5, 0.2, 0.1, -0.3],
        [-0.6, 0.9, -0.2, 0.4, 0.05],
        [0.3, 0.3, 0.5, -0.5, 0.25],
      ],
      [0.1, -0.05, 0.2],
      [1.1, -0.9, 0.7],
      -0.1,
    );
    const c: Case = {
      name: 'torch',
      model: {
        name: 'churn-net',
        task: 'binary',
        idColumn: 'customer',
        features: features.slice(0, 3),
        classLabels: ['stay', 'churn'],
      },
      bytes: fx.bytes,
      spec: {
        specVersion: 1,
        steps: [
          { type: 'standardize', columns: ['age', 'income'] },
          { type: 'one_hot', column: 'plan', unseen: 'ignore' },
        ],
        output: ['age', 'income', 'plan_basic', 'plan_pro', 'plan_team'],
      },
      expected: (r, fitted) => {
        const std = fitted.find((s) => s.type === 'standardize') as Extract<
          FittedStep,
          { type: 'standardize' }
        >;
        const x = [
          f32((r.age - std.mean[0]!) / std.scale[0]!),
          f32((r.income - std.mean[1]!) / std.scale[1]!),
          ...PLANS.map((p) => (r.plan === p ? 1 : 0)),
        ];
        const p = fx.predictRow(x);
        return {
          prediction: p > 0.5 ? 'churn' : 'stay',
          probabilities: { probability_stay: 1 - p, probability_churn: p },
        };
      },
    };
    const checked = await checkScoreAndPipeline(c);
    expect(checked.scoring.model.roles).toEqual({
      kind: 'classification',
      probabilities: 'output',
      layout: 'positive',
      classCount: 2,
    });
  });
});

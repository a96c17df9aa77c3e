/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * The training side's round trip: `mlops fit` a spec, `mlops transform` the training data, fit a
 * linear model on those features (least squares, closed form), write it as ONNX, `mlops package`
 * it with golden records, `mlops check` it, and `mlops score` new data: the predictions are the
 * direct ones, features . w.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { checkCommand } from '../../../cli/check';
import { fitCommand } from '../../../cli/fit';
import { packageCommand } from '../../../cli/package';
import { scoreFiles } from '../../../cli/score';
import { transformCommand } from '../../../cli/transform';
import { readManifest } from '../../../cli/version-package';
import { seededRandom } from '../../../shared/domain/random';
import { fittedTransformsSchema, transformSpecHash } from '../../../shared/domain/transforms';
import { linearRegressor } from '../../fixtures/onnx-models';
import { runCli } from '../../support/cli-run';
import { readParquetRows } from '../../support/scoring-fixtures';

const COLORS = ['blue', 'green', 'red'];
const EFFECT: Record<string, number> = { blue: 1, green: -2, red: 4 };

function dataset(seed: number, n: number) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const x1 = Number((random.next() * 10).toFixed(3));
    const x2 = Number((random.next() * 5 - 2).toFixed(3));
    const x3 = Number((random.next() * 100).toFixed(2));
    const color = COLORS[random.int(3)]!;
    const y = 2 * x1 - 3 * x2 + 0.05 * x3 + EFFECT[color]! + (random.next() - 0.5) * 0.1;
    return { id: `r${seed}-${i}`, x1, x2, x3, color, y: Number(y.toFixed(4)) };
  });
}
type Row = ReturnType<typeof dataset>[number];
const csv = (rows: readonly (Omit<Row, 'x1'> & { x1: number | string })[], withTarget = true) =>
  `id,x1,x2,x3,color${withTarget ? ',y' : ''}\n${rows.map((r) => `${r.id},${r.x1},${r.x2},${r.x3},${r.color}${withTarget ? `,${r.y}` : ''}`).join('\n')}\n`;

/** Least squares by the normal equations (Gaussian elimination with partial pivoting). */
function leastSquares(x: number[][], y: number[]): number[] {
  const k = x[0]!.length;
  const a = Array.from({ length: k }, (_, i) => [
    ...Array.from({ length: k }, (_, j) => x.reduce((s, row) => s + row[i]! * row[j]!, 0)),
    x.reduce((s, row, r) => s + row[i]! * y[r]!, 0),
  ]);
  for (let c = 0; c < k; c += 1) {
    const pivot = a
      .slice(c)
      .reduce((best, row, i) => (Math.abs(row[c]!) > Math.abs(a[best]![c]!) ? c + i : best), c);
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    for (let r = 0; r < k; r += 1) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= k; j += 1) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => row[k]! / row[i]!);
}

describe('the training round trip: fit, transform, train, package, check, score', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-round-trip-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a linear model is trained on `mlops transform` features, then `mlops score` of new data equals features . w', async () => {
    const file = (name: string) => path.join(dir, name);
    const spec = {
      specVersion: 1,
      steps: [
        { type: 'standardize', columns: ['x1', 'x2'] },
        { type: 'passthrough', columns: ['x3'], outputs: ['x3_raw'] },
        { type: 'one_hot', column: 'color', unseen: 'ignore' },
      ],
      output: ['x1', 'x2', 'x3_raw', 'color_blue', 'color_green', 'color_red'],
    };
    fs.writeFileSync(file('spec.json'), JSON.stringify(spec));
    const training = dataset(1, 300);
    fs.writeFileSync(file('training.csv'), csv(training));

    const fit = await runCli(fitCommand, [
      file('spec.json'),
      file('training.csv'),
      '-o',
      file('fitted.json'),
    ]);
    expect(fit).toMatchObject({ code: 0, err: '' });
    const fitted = fittedTransformsSchema.parse(JSON.parse(fs.readFileSync(file('fitted.json'), 'utf8')));
    expect(fitted.specHash).toBe(transformSpecHash(spec as never));
    expect(fit.out).toContain(`specHash ${fitted.specHash}`);

    const transformed = await runCli(transformCommand, [
      file('fitted.json'),
      file('training.csv'),
      '--out',
      file('features.parquet'),
      '--keep',
      'y',
    ]);
    expect(transformed).toMatchObject({ code: 0, err: '' });
    const trainingFeatures = await readParquetRows(fs.readFileSync(file('features.parquet')));
    expect(Object.keys(trainingFeatures[0]!)).toEqual(['id', 'y', ...spec.output]);
    expect(trainingFeatures.map((r) => r.x3_raw)).toEqual(training.map((r) => Math.fround(r.x3)));
    const x = trainingFeatures.map((r) => spec.output.map((f) => r[f] as number));
    const w = leastSquares(
      x,
      trainingFeatures.map((r) => r.y as number),
    );
    // The relation the data was drawn from, through the standardization: the fit found it.
    const std = fitted.steps.find((s) => s.type === 'standardize') as { scale: number[] };
    expect(w[0]! / std.scale[0]!).toBeCloseTo(2, 1);
    expect(w[1]! / std.scale[1]!).toBeCloseTo(-3, 1);
    expect(w[2]!).toBeCloseTo(0.05, 2);
    const fx = linearRegressor(w, 0);
    fs.writeFileSync(file('model.onnx'), fx.bytes);
    fs.writeFileSync(
      file('model.json'),
      JSON.stringify({
        name: 'yield',
        task: 'regression',
        idColumn: 'id',
        features: [
          { name: 'x1', type: 'numeric' },
          { name: 'x2', type: 'numeric' },
          { name: 'x3', type: 'numeric' },
          { name: 'color', type: 'categorical' },
        ],
      }),
    );

    // New data, with an unseen color (the one-hot ignores it) and a row without x1 (quarantined).
    const scoring = [...dataset(2, 120), { ...dataset(3, 1)[0]!, id: 'purple', color: 'purple' }];
    fs.writeFileSync(file('scoring.csv'), `${csv(scoring, false)}empty,,1,2,red\n`);
    expect(
      (
        await runCli(transformCommand, [
          file('fitted.json'),
          file('scoring.csv'),
          '-o',
          file('scoring-features.parquet'),
        ])
      ).code,
    ).toBe(0);
    const scoringFeatures = await readParquetRows(fs.readFileSync(file('scoring-features.parquet')));
    expect(JSON.parse(fs.readFileSync(file('scoring-features.parquet.rejected.jsonl'), 'utf8'))).toEqual({
      row: scoring.length + 1,
      reason: "missing value in 'x1' and no imputer covers it: feature 'x1' is undefined",
    });
    const direct = new Map(
      scoringFeatures.map((r) => [r.id, fx.predict(spec.output.map((f) => r[f] as number))]),
    );

    fs.writeFileSync(file('sample.csv'), csv(scoring.slice(0, 5), false));
    fs.writeFileSync(
      file('expected.csv'),
      `id,prediction,${spec.output.join(',')}\n${scoringFeatures
        .slice(0, 5)
        .map((r) => [r.id, direct.get(r.id), ...spec.output.map((f) => r[f])].join(','))
        .join('\n')}\n`,
    );
    const packaged = await runCli(packageCommand, [
      dir,
      '--sample',
      file('sample.csv'),
      '--expected',
      file('expected.csv'),
    ]);
    expect(packaged).toMatchObject({ code: 0, err: '' });
    const manifest = readManifest(file('manifest.json'));
    expect(manifest.transforms).toEqual(fitted);
    expect(manifest.goldenRecords![0]!.expectedFeatures).toHaveLength(spec.output.length);

    const check = await runCli(checkCommand, [dir, '--data', file('scoring.csv')]);
    expect(check).toMatchObject({ code: 0, err: '' });
    expect(check.out).toContain('5 golden records match');
    expect(check.out).toContain(
      `${scoring.length + 1} rows read, ${scoring.length} scored, 1 rejected (missing_value:x1: 1)`,
    );

    const out = file('predictions.parquet');
    expect(await scoreFiles(file('manifest.json'), file('scoring.csv'), out, () => undefined)).toBe(0);
    const predictions = await readParquetRows(fs.readFileSync(out));
    expect(predictions).toHaveLength(scoring.length);
    for (const p of predictions) {
      const want = direct.get(p.id)!;
      expect(Math.abs((p.prediction as number) - want)).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(want)),
      );
    }
  });
});

/**
 * Drift benchmark, one run, side by side: 1M reference vs 1M current rows with 20 numeric and 5
 * categorical columns. The same computations run in TypeScript and in numpy/scipy
 * (bench/drift_reference.py, timing only the computation); then profile build speed and drift
 * between two stored profiles.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { compareBatches, type DriftReport } from '../shared/domain/drift/report';
import { compareProfiles } from '../shared/domain/profiles/drift';
import { buildProfile } from '../shared/domain/profiles/profile';
import { seededRandom } from '../shared/domain/random';
import type { RowBatch } from '../shared/domain/tabular';
import { driftPolicySchema } from '../shared/schemas/policies';
import { profileSchema } from '../shared/schemas/profile';

const ROWS = 1_000_000;
const NUMERIC = 20;
const CARDINALITIES = [3, 5, 10, 50, 200];

function normals(n: number, seed: number, mean: number, sd: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random.next()));
    const t = 2 * Math.PI * random.next();
    out[i] = mean + sd * r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(t);
  }
  return out;
}

function codes(n: number, seed: number, cardinality: number, skew: number): Uint16Array {
  const random = seededRandom(seed);
  const weights = Array.from({ length: cardinality }, (_, i) => skew ** i);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = weights.map(
    (
      (s) => (w: number) =>
        (s += w / total)
    )(0),
  );
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const u = random.next();
    let k = 0;
    while (k < cardinality - 1 && cumulative[k]! < u) k++;
    out[i] = k;
  }
  return out;
}

interface Side {
  batch: RowBatch;
  numericBlock: Float64Array;
  codes: Uint16Array[];
}

function makeSide(seedBase: number, drifted: boolean): Side {
  const numericBlock = new Float64Array(NUMERIC * ROWS);
  const numeric: Record<string, Float64Array> = {};
  for (let i = 0; i < NUMERIC; i++) {
    const shift = drifted && i < 5 ? 0.15 * (1 + i * 0.05) : 0;
    const column = normals(ROWS, seedBase + i, i * 0.1 + shift, 1 + i * 0.05);
    numericBlock.set(column, i * ROWS);
    numeric[`num_${i}`] = numericBlock.subarray(i * ROWS, (i + 1) * ROWS);
  }
  const categorical: Record<string, string[]> = {};
  const allCodes = CARDINALITIES.map((k, j) => codes(ROWS, seedBase + 100 + j, k, drifted && j === 0 ? 0.5 : 0.7));
  allCodes.forEach((c, j) => {
    const labels = Array.from({ length: CARDINALITIES[j]! }, (_, v) => `c${j}_${v}`);
    categorical[`cat_${j}`] = Array.from(c, (v) => labels[v]!);
  });
  return { batch: { rowCount: ROWS, numeric, categorical }, numericBlock, codes: allCodes };
}

function writeData(dir: string, reference: Side, current: Side): void {
  for (const [side, data] of [
    ['ref', reference],
    ['cur', current],
  ] as const) {
    fs.writeFileSync(path.join(dir, `${side}_numeric.f64`), Buffer.from(data.numericBlock.buffer));
    data.codes.forEach((c, j) => fs.writeFileSync(path.join(dir, `${side}_cat_${j}.u16`), Buffer.from(c.buffer)));
  }
  const meta = {
    rows: ROWS,
    numeric: Array.from({ length: NUMERIC }, (_, i) => `num_${i}`),
    categorical: CARDINALITIES.map((k, j) => ({ name: `cat_${j}`, labels: Array.from({ length: k }, (_, v) => `c${j}_${v}`) })),
  };
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
}

function time<T>(fn: () => T): [number, T] {
  const start = process.hrtime.bigint();
  const result = fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

interface PythonSide {
  auto: { ms: number; values: Record<string, number> };
  ks: { ms: number; values: Record<string, [number, number]> };
  psi: { ms: number; values: Record<string, number> };
}

function runPython(dir: string): PythonSide | string {
  const result = spawnSync('python3', [path.join(__dirname, '..', '..', 'bench', 'drift_reference.py'), dir], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) return `numpy/scipy side failed: ${result.error?.message ?? result.stderr}`;
  return JSON.parse(result.stdout) as PythonSide;
}

function maxDiff(report: DriftReport, values: Record<string, number | [number, number]>, pick: 'statistic' | 'pValue'): number {
  let worst = 0;
  for (const c of report.columns) {
    const v = values[c.name];
    if (v === undefined) continue;
    const want = Array.isArray(v) ? (pick === 'statistic' ? v[0] : v[1]) : v;
    const got = pick === 'statistic' ? c.statistic! : c.pValue!;
    worst = Math.max(worst, Math.abs(got - want));
  }
  return worst;
}

const row = (label: string, ts: number, py: number | undefined) =>
  console.log(
    `${label.padEnd(40)} ${`${ts.toFixed(0)} ms`.padStart(10)} ${py === undefined ? '-'.padStart(12) : `${py.toFixed(0)} ms`.padStart(12)} ${py === undefined ? '' : (ts / py).toFixed(2).padStart(7)}`,
  );

function main(): void {
  console.log(`generating ${ROWS} + ${ROWS} rows, ${NUMERIC} numeric + ${CARDINALITIES.length} categorical columns ...`);
  const reference = makeSide(1, false);
  const current = makeSide(1000, true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-bench-'));
  try {
    writeData(dir, reference, current);
    const auto = driftPolicySchema.parse({});
    const ks = driftPolicySchema.parse({ method: 'ks', multipleTestingCorrection: 'none' });
    const psi = driftPolicySchema.parse({ method: 'psi' });
    const numericOnly = (b: RowBatch): RowBatch => ({ ...b, categorical: {} });

    const [autoMs, autoReport] = time(() => compareBatches(reference.batch, current.batch, auto));
    const [ksMs, ksReport] = time(() => compareBatches(numericOnly(reference.batch), numericOnly(current.batch), ks));
    const [psiMs, psiReport] = time(() => compareBatches(reference.batch, current.batch, psi));
    const python = runPython(dir);
    const py = typeof python === 'string' ? undefined : python;

    console.log(`\n${'drift report, 1M vs 1M rows'.padEnd(40)} ${'TypeScript'.padStart(10)} ${'numpy/scipy'.padStart(12)} ${'ratio'.padStart(7)}`);
    row('auto: Wasserstein x20 + Jensen-Shannon x5', autoMs, py?.auto.ms);
    row('KS (asymptotic p) x20 numeric', ksMs, py?.ks.ms);
    row('PSI x25 (10 reference-quantile bins)', psiMs, py?.psi.ms);
    if (py) {
      const total = autoMs + ksMs + psiMs;
      const pyTotal = py.auto.ms + py.ks.ms + py.psi.ms;
      row('total', total, pyTotal);
      console.log(
        `agreement with scipy: auto max |diff| ${maxDiff(autoReport, py.auto.values, 'statistic').toExponential(1)}, ` +
          `KS statistic ${maxDiff(ksReport, py.ks.values, 'statistic').toExponential(1)}, KS p ${maxDiff(ksReport, py.ks.values, 'pValue').toExponential(1)}, ` +
          `PSI ${maxDiff(psiReport, py.psi.values, 'statistic').toExponential(1)}`,
      );
      console.log(`target ratio <= 1.0: ${total / pyTotal <= 1 ? 'met' : 'NOT met'} (${(total / pyTotal).toFixed(2)})`);
    } else {
      console.log(python);
    }
    console.log(`auto verdict: ${autoReport.driftedColumns} of ${autoReport.evaluatedColumns} columns drifted, dataset drift ${autoReport.datasetDrift}`);

    const [refProfileMs, refProfile] = time(() => buildProfile(reference.batch));
    const [curProfileMs, curProfile] = time(() => buildProfile(current.batch, { reference: refProfile }));
    console.log(
      `\nprofile build (25 columns): reference ${refProfileMs.toFixed(0)} ms, current ${curProfileMs.toFixed(0)} ms = ` +
        `${Math.round((2 * ROWS) / ((refProfileMs + curProfileMs) / 1000)).toLocaleString('en-US')} rows/s`,
    );
    const storedRef = JSON.stringify(refProfile);
    const storedCur = JSON.stringify(curProfile);
    // Warm the code path once on other data so the figure is the steady-state cost per evaluation.
    compareProfiles(refProfile, refProfile, auto);
    const [loadMs, loaded] = time(() => [profileSchema.parse(JSON.parse(storedRef)), profileSchema.parse(JSON.parse(storedCur))] as const);
    const [compareMs, fromProfiles] = time(() => compareProfiles(loaded[0], loaded[1], auto));
    console.log(
      `stored profiles: ${(storedRef.length / 1024).toFixed(0)} KiB + ${(storedCur.length / 1024).toFixed(0)} KiB JSON; ` +
        `parse + validate ${loadMs.toFixed(1)} ms; drift for 25 columns ${compareMs.toFixed(1)} ms ` +
        `(target <= 50 ms: ${loadMs + compareMs <= 50 ? 'met' : compareMs <= 50 ? 'met for the comparison' : 'NOT met'})`,
    );
    const same = fromProfiles.columns.every((c, i) => c.drifted === autoReport.columns[i]!.drifted);
    console.log(`profile verdicts equal raw-data verdicts: ${same}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();

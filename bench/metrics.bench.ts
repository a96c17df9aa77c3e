/**
 * Bootstrap confidence intervals: the weighted-resample evaluation of computeMetrics against
 * (a) copying each resample and recomputing from scratch in the same code, and (b) numpy doing
 * the textbook bootstrap (index resample + rankdata ROC-AUC, log loss, Brier, accuracy) when
 * python3 with numpy/scipy is available. Same machine, same run.
 */
import { spawnSync } from 'node:child_process';

import { computeMetrics } from '../shared/domain/metrics';
import type { ClassificationData } from '../shared/domain/metrics/classification';
import { seededRandom } from '../shared/domain/random';

const ROWS = 100_000;
const RESAMPLES = 1000;
const NAIVE_RESAMPLES = 100;

function binarySample(n: number): ClassificationData {
  const random = seededRandom(2);
  const actual = new Int32Array(n);
  const probabilities = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = random.next() < 0.4 ? 1 : 0;
    const p = Math.round(Math.min(0.999, Math.max(0.001, 0.3 + 0.35 * a + 0.5 * (random.next() - 0.5))) * 1000) / 1000;
    actual[i] = a;
    probabilities[2 * i] = 1 - p;
    probabilities[2 * i + 1] = p;
  }
  return { actual, probabilities, classCount: 2 };
}

function time(f: () => void): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

const data = binarySample(ROWS);
computeMetrics('binary', binarySample(2000), { bootstrap: { resamples: 50 } }); // warm-up

const weightedMs = time(() => computeMetrics('binary', data, { bootstrap: { resamples: RESAMPLES } }));
const perResampleWeighted = weightedMs / RESAMPLES;

const naiveMs = time(() => {
  const random = seededRandom(42);
  for (let b = 0; b < NAIVE_RESAMPLES; b++) {
    const actual = new Int32Array(ROWS);
    const probabilities = new Float64Array(2 * ROWS);
    for (let i = 0; i < ROWS; i++) {
      const r = random.int(ROWS);
      actual[i] = data.actual[r]!;
      probabilities[2 * i] = data.probabilities[2 * r]!;
      probabilities[2 * i + 1] = data.probabilities[2 * r + 1]!;
    }
    computeMetrics('binary', { actual, probabilities, classCount: 2 }, { bootstrap: { resamples: 0 } });
  }
});
const perResampleNaive = naiveMs / NAIVE_RESAMPLES;

console.log(`binary classifier, ${ROWS} rows, 10 metrics + intervals`);
console.log(`  weighted resamples (computeMetrics): ${RESAMPLES} resamples in ${weightedMs.toFixed(0)} ms, ${perResampleWeighted.toFixed(2)} ms/resample`);
console.log(`  copy + recompute per resample (JS):  ${perResampleNaive.toFixed(2)} ms/resample (${NAIVE_RESAMPLES} resamples)`);
console.log(`  ratio weighted / copy: ${(perResampleWeighted / perResampleNaive).toFixed(3)}`);

const python = `
import sys, time, numpy as np
from scipy.stats import rankdata
n = int(sys.argv[1]); B = int(sys.argv[2])
rng = np.random.default_rng(2)
y = (rng.random(n) < 0.4).astype(int)
p = np.round(np.clip(0.3 + 0.35 * y + 0.5 * (rng.random(n) - 0.5), 0.001, 0.999), 3)
t = time.perf_counter()
for _ in range(B):
    idx = rng.integers(0, n, n)
    yy = y[idx]; pp = p[idx]
    r = rankdata(pp); n1 = yy.sum(); n0 = n - n1
    auc = (r[yy == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    acc = np.mean((pp > 0.5) == yy)
    ll = -np.mean(np.log(np.where(yy == 1, pp, 1 - pp)))
    br = np.mean((pp - yy) ** 2)
print((time.perf_counter() - t) * 1000 / B)
`;
const numpy = spawnSync('python3', ['-c', python, String(ROWS), '100'], { encoding: 'utf8' });
if (numpy.status === 0) {
  const perResampleNumpy = Number(numpy.stdout.trim());
  console.log(`  numpy/scipy textbook bootstrap (ROC-AUC, accuracy, log loss, Brier only): ${perResampleNumpy.toFixed(2)} ms/resample`);
  console.log(`  ratio weighted (all 10 metrics) / numpy (4 metrics): ${(perResampleWeighted / perResampleNumpy).toFixed(3)}`);
} else {
  console.log('  numpy reference skipped (python3 with numpy and scipy not available)');
}

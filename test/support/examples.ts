/**
 * The files of `examples/demand/` (the README's walk-through), generated from the test model kit
 * so they cannot drift from what the backend accepts: `test/unit/examples.test.ts` checks the
 * committed files against this, and `node -r ./test/support/register-ts.js test/support/examples.ts`
 * writes them again.
 */
import fs from 'node:fs';
import path from 'node:path';

import { aRegionalModel, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from './model-kit';

export const EXAMPLE_DIR = path.join(__dirname, '../../examples/demand');

export function exampleFiles(): Record<string, Buffer> {
  const definition = aRegionalModel('demand', {
    validation: { metric: 'rmse', maxRegressionVsChampion: 0.05, minSegmentRows: 30, splits: [{ kind: 'random', testFraction: 0.3, seed: 42 }, { kind: 'kfold', k: 3, seed: 42 }] },
    approval: { timeout: 'P3D' },
  });
  const datasets = [{ role: 'validation', uri: 'datasets/demand/validation.csv' }];
  const v1 = regionalPackage(TRUE_WEIGHTS, 0, { datasets, description: 'v1: fits both regions' });
  const v2 = regionalPackage([2, 3, 8, 0], 0, { datasets, description: 'v2: underestimates the north' });
  const v3 = regionalPackage(TRUE_WEIGHTS, 0.02, { datasets, description: 'v3: a retrained v1' });
  const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  return {
    'model.json': json({ ...definition, description: 'Toy demand model: y = 2 x1 + 3 x2 + 10 [region = north]' }),
    'v1/manifest.json': json(v1.manifest),
    'v1/model.onnx': v1.onnx,
    'v2/manifest.json': json(v2.manifest),
    'v2/model.onnx': v2.onnx,
    'v3/manifest.json': json(v3.manifest),
    'v3/model.onnx': v3.onnx,
    'validation.csv': Buffer.from(toCsv(regionalRows(600, 2026))),
  };
}

if (require.main === module) {
  for (const [name, body] of Object.entries(exampleFiles())) {
    const file = path.join(EXAMPLE_DIR, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

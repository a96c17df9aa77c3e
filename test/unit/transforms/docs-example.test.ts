import fs from 'node:fs';
import path from 'node:path';

import { checkTransformParity, goldenRecordsSchema } from '../../../shared/domain/parity';
import { applyTransforms, fitTransforms, transformSpecSchema } from '../../../shared/domain/transforms';
import { aBatch } from './builders';

/** The JSON code blocks of docs/transforms.md, in order. */
function jsonBlocks(): unknown[] {
  const text = fs.readFileSync(path.join(__dirname, '../../../docs/transforms.md'), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
}

describe('docs/transforms.md', () => {
  it('when the documented spec example is fitted and applied, then it works as described', () => {
    const [specExample, goldenExample] = jsonBlocks();
    const spec = transformSpecSchema.parse(specExample);
    const n = 40;
    const training = aBatch({
      amount: Array.from({ length: n }, (_, i) => (i === 3 ? null : i * 10)),
      age: Array.from({ length: n }, (_, i) => 20 + (i % 30)),
      region: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : i % 2 === 0 ? 'north' : 'south')),
      size: Array.from({ length: n }, (_, i) => ['S', 'M', 'L'][i % 3]!),
      m1: Array.from({ length: n }, (_, i) => Math.sin(i)),
      m2: Array.from({ length: n }, (_, i) => Math.cos(i)),
      m3: Array.from({ length: n }, (_, i) => Math.sin(i) + 0.1 * Math.cos(3 * i)),
      m4: Array.from({ length: n }, (_, i) => i / n),
      ts: Array.from({ length: n }, (_, i) => Date.UTC(2024, i % 12, 1 + i, i % 24)),
    });
    const fitted = fitTransforms(spec, training);
    expect(fitted.output).toEqual(spec.output);
    const { matrix, rejected } = applyTransforms(fitted, training);
    expect(matrix.width).toBe(spec.output.length);
    expect(rejected).toEqual([]);
    expect(goldenRecordsSchema.safeParse(goldenExample).success).toBe(true);
    // The golden example belongs to another model: against this one its rows lack inputs.
    const parity = checkTransformParity(fitted, goldenRecordsSchema.parse(goldenExample));
    expect(parity.mismatches[0]!.message).toMatch(/golden record 0 was rejected.*missing value/);
  });
});

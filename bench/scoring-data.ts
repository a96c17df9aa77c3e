import fs from 'node:fs';

import { seededRandom } from '../shared/domain/random';
import type { RowBatch } from '../shared/domain/tabular';
import { type ModelInput } from '../shared/schemas/model';

export const NUMERIC = Array.from({ length: 13 }, (_, i) => `x${i}`);
export const CATEGORIES: Record<string, string[]> = {
  region: ['north', 'south', 'east'],
  plan: ['basic', 'plus', 'pro', 'team', 'enterprise'],
  channel: Array.from({ length: 8 }, (_, i) => `ch${i}`),
  device: Array.from({ length: 12 }, (_, i) => `dev-${i}`),
  country: Array.from({ length: 20 }, (_, i) => `C${String.fromCharCode(65 + i)}`),
};
export const CATEGORICAL = Object.keys(CATEGORIES);
/** id, ts, 13 numeric, 5 categorical: 20 columns. */
export const HEADER = ['id', 'ts', ...NUMERIC, ...CATEGORICAL];

export const benchModel: ModelInput = {
  name: 'bench-churn',
  task: 'regression',
  idColumn: 'id',
  timestampColumn: 'ts',
  segmentKeys: ['region'],
  features: [
    ...NUMERIC.map((name) => ({ name, type: 'numeric' as const })),
    ...CATEGORICAL.map((name) => ({ name, type: 'categorical' as const, allowedValues: CATEGORIES[name] })),
  ],
};

/** Writes `rows` generated rows as CSV (about 150 bytes a row); deterministic for a seed. */
export function writeBenchCsv(path: string, rows: number, seed = 7): number {
  const random = seededRandom(seed);
  const fd = fs.openSync(path, 'w');
  let bytes = 0;
  try {
    let block = `${HEADER.join(',')}\n`;
    const start = Date.UTC(2024, 0, 1);
    const cats = CATEGORICAL.map((c) => CATEGORIES[c]!);
    for (let r = 0; r < rows; r += 1) {
      let line = `r${r},${new Date(start + r * 1000).toISOString()}`;
      for (let j = 0; j < NUMERIC.length; j += 1) line += `,${(random.next() * 200 - 100 + j).toFixed(4)}`;
      for (const values of cats) line += `,${values[Math.floor(random.next() * values.length)]}`;
      block += `${line}\n`;
      if (block.length > 1 << 20) {
        bytes += fs.writeSync(fd, block);
        block = '';
      }
    }
    bytes += fs.writeSync(fd, block);
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** A training sample with the same distribution as the generated files, as a RowBatch. */
export function sampleBatch(rows: number, seed = 3): RowBatch {
  const random = seededRandom(seed);
  const numeric: Record<string, Float64Array> = Object.fromEntries(NUMERIC.map((n) => [n, new Float64Array(rows)]));
  const categorical: Record<string, string[]> = Object.fromEntries(CATEGORICAL.map((c) => [c, new Array<string>(rows)]));
  for (let r = 0; r < rows; r += 1) {
    NUMERIC.forEach((name, j) => (numeric[name]![r] = Number((random.next() * 200 - 100 + j).toFixed(4))));
    for (const c of CATEGORICAL) categorical[c]![r] = CATEGORIES[c]![Math.floor(random.next() * CATEGORIES[c]!.length)]!;
  }
  return { rowCount: rows, numeric, categorical };
}

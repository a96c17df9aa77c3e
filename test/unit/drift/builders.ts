import { seededRandom } from '../../../shared/domain/random';
import type { RowBatch } from '../../../shared/domain/tabular';
import { type DriftPolicy, driftPolicySchema } from '../../../shared/schemas/policies';

export function normals(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - random.next();
    const v = random.next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + sd * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export function categories(n: number, seed: number, values: string[], weights: number[]): string[] {
  const random = seededRandom(seed);
  const total = weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, () => {
    let u = random.next() * total;
    for (let i = 0; i < values.length; i++) {
      u -= weights[i]!;
      if (u < 0) return values[i]!;
    }
    return values[values.length - 1]!;
  });
}

export function aBatch(
  numeric: Record<string, Float64Array>,
  categorical: Record<string, Array<string | null>> = {},
): RowBatch {
  const rowCount = Object.values(numeric)[0]?.length ?? Object.values(categorical)[0]?.length ?? 0;
  return { rowCount, numeric, categorical };
}

export const aDriftPolicy = (overrides: Partial<DriftPolicy> = {}): DriftPolicy =>
  driftPolicySchema.parse(overrides);

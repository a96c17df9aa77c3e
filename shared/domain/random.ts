/**
 * A small seeded pseudo-random generator (mulberry32) so that splits, bootstraps and sketches are
 * reproducible for a given seed. Not for anything security-related.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

// Bound once: a global `Math` lookup per call is slow in sandboxed contexts (Jest's vm).
const imul = Math.imul;
const floor = Math.floor;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => floor(next() * n) };
}

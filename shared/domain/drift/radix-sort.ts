/**
 * Ascending LSD radix sort of a Float64Array without NaN, in place: 4 passes of 16 bits over the
 * IEEE-754 bits mapped to an order-preserving unsigned key. About three times faster than
 * `Float64Array.prototype.sort` on a million values, which dominates drift and profile costs.
 */

const SMALL = 2048;

export function radixSortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n <= SMALL) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  // Order-preserving keys: flip every bit of negatives, only the sign bit of the rest.
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if (hi & 0x80000000) {
      words[2 * i] = ~words[2 * i]!;
      words[2 * i + 1] = ~hi;
    } else {
      words[2 * i + 1] = hi | 0x80000000;
    }
  }
  const counts = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let source: Uint32Array = words;
  let target: Uint32Array = new Uint32Array(n * 2);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    // A pass where every key has the same digit changes nothing.
    let skip = false;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d]!;
      if (c === n) skip = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (skip) continue;
    const wordIndex = pass >> 1;
    const shift = (pass & 1) * 16;
    for (let i = 0; i < n; i++) {
      const lo = source[2 * i]!;
      const hi = source[2 * i + 1]!;
      const digit = ((wordIndex === 0 ? lo : hi) >>> shift) & 0xffff;
      const at = counts[base + digit]!++;
      target[2 * at] = lo;
      target[2 * at + 1] = hi;
    }
    [source, target] = [target, source];
  }
  if (source !== words) words.set(source);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if (hi & 0x80000000) {
      words[2 * i + 1] = hi & 0x7fffffff;
    } else {
      words[2 * i] = ~words[2 * i]!;
      words[2 * i + 1] = ~hi;
    }
  }
  return values;
}

const EXPONENT = 0x7ff00000;

// Reused between calls: fewer large allocations means fewer full garbage collections, which
// otherwise cost as much as the sort itself when the heap holds big batches.
let scratch = new Uint32Array(0);
const digitCounts = new Uint32Array(4 * 65536);

function scratchOf(words: number): Uint32Array {
  if (scratch.length < words) scratch = new Uint32Array(words);
  return scratch.subarray(0, words);
}

/**
 * The finite values of `values`, ascending, in a new array: filtering, key mapping and digit
 * counting share one pass, and the keys are mapped back in the last one.
 */
export function sortFiniteCopy(values: Float64Array): Float64Array {
  const n = values.length;
  if (n <= SMALL) return Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
  const input = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let keys: Uint32Array = new Uint32Array(n * 2);
  const result = keys;
  const counts = digitCounts.fill(0);
  let m = 0;
  for (let i = 0; i < n; i++) {
    let lo = input[2 * i]!;
    let hi = input[2 * i + 1]!;
    if ((hi & EXPONENT) === EXPONENT) continue;
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    keys[2 * m] = lo;
    keys[2 * m + 1] = hi;
    m++;
    counts[lo & 0xffff]!++;
    counts[65536 + (lo >>> 16)]!++;
    counts[131072 + (hi & 0xffff)]!++;
    counts[196608 + (hi >>> 16)]!++;
  }
  let spare: Uint32Array = scratchOf(m * 2);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    let skip = false;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d]!;
      if (c === m) skip = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (skip) continue;
    const shift = (pass & 1) * 16;
    const word = pass >> 1;
    for (let i = 0; i < m; i++) {
      const lo = keys[2 * i]!;
      const hi = keys[2 * i + 1]!;
      const at = counts[base + (((word === 0 ? lo : hi) >>> shift) & 0xffff)]!++;
      spare[2 * at] = lo;
      spare[2 * at + 1] = hi;
    }
    [keys, spare] = [spare, keys];
  }
  if (keys !== result) result.set(keys.subarray(0, m * 2));
  for (let i = 0; i < m; i++) {
    const hi = result[2 * i + 1]!;
    if (hi & 0x80000000) result[2 * i + 1] = hi & 0x7fffffff;
    else {
      result[2 * i] = ~result[2 * i]!;
      result[2 * i + 1] = ~hi;
    }
  }
  return new Float64Array(result.buffer, 0, m);
}

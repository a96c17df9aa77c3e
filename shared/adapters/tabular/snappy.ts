/**
 * Snappy (raw format, as Parquet pages use it). Compression follows the reference compressor:
 * 64 KiB blocks, a 14-bit hash table of 4-byte sequences, literals and copies with 1- or 2-byte
 * offsets. Written for speed in V8: one output buffer reused across calls, bytes copied without
 * a view per literal (the JS port in hyparquet-writer made one per literal, which cost as much
 * as the matching). Deterministic: the same input always gives the same bytes.
 */

const BLOCK = 1 << 16;
const HASH_BITS = 14;
/** The reference stops looking for matches this close to a block's end. */
const INPUT_MARGIN = 15;

const table = new Int32Array(1 << HASH_BITS);
let out = new Uint8Array(1 << 16);

const load32 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
const hash = (v: number) => Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);

function literal(input: Uint8Array, from: number, to: number, op: number): number {
  const n = to - from - 1;
  if (n < 60) out[op++] = n << 2;
  else if (n < 256) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  }
  if (to - from > 32) {
    out.set(input.subarray(from, to), op);
    return op + to - from;
  }
  for (let i = from; i < to; i += 1) out[op++] = input[i]!;
  return op;
}

function copyUpTo64(offset: number, len: number, op: number): number {
  if (len < 12 && offset < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((len - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function copy(offset: number, len: number, op: number): number {
  while (len >= 68) {
    op = copyUpTo64(offset, 64, op);
    len -= 64;
  }
  if (len > 64) {
    op = copyUpTo64(offset, 60, op);
    len -= 60;
  }
  return copyUpTo64(offset, len, op);
}

function compressBlock(input: Uint8Array, start: number, end: number, op: number): number {
  let nextEmit = start;
  if (end - start >= INPUT_MARGIN) {
    table.fill(0);
    const ipLimit = end - INPUT_MARGIN;
    let ip = start + 1;
    search: for (;;) {
      // Look for a 4-byte match, stepping further the longer nothing matches (incompressible data).
      let skip = 32;
      let next = ip;
      let candidate = 0;
      do {
        ip = next;
        next = ip + (skip++ >>> 5);
        if (next > ipLimit) break search;
        const h = hash(load32(input, ip));
        candidate = start + table[h]!;
        table[h] = ip - start;
      } while (load32(input, ip) !== load32(input, candidate));
      op = literal(input, nextEmit, ip, op);
      // Emit copies while the byte after each match starts another one.
      do {
        let matched = 4;
        while (ip + matched < end && input[candidate + matched] === input[ip + matched]) matched += 1;
        op = copy(ip - candidate, matched, op);
        ip += matched;
        nextEmit = ip;
        if (ip >= ipLimit) break search;
        table[hash(load32(input, ip - 1))] = ip - 1 - start;
        const h = hash(load32(input, ip));
        candidate = start + table[h]!;
        table[h] = ip - start;
      } while (load32(input, ip) === load32(input, candidate));
      ip += 1;
    }
  }
  return nextEmit < end ? literal(input, nextEmit, end, op) : op;
}

/** Compresses `input`; the result is a view of a shared buffer, valid until the next call. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const bound = 32 + input.length + Math.ceil(input.length / 6);
  if (out.length < bound) out = new Uint8Array(Math.max(bound, out.length * 2));
  let op = 0;
  let n = input.length;
  while (n > 0x7f) {
    out[op++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[op++] = n;
  for (let start = 0; start < input.length; start += BLOCK) op = compressBlock(input, start, Math.min(input.length, start + BLOCK), op);
  return out.subarray(0, op);
}

/**
 * Decompresses raw Snappy `input` into `output`, which must have exactly the uncompressed length
 * (Parquet page headers give it). Long literals and non-overlapping copies are one `set` or
 * `copyWithin` (a native memmove); short ones are byte loops, cheaper than a call for a few bytes.
 * Throws on malformed input instead of reading or writing out of bounds.
 */
export function snappyUncompress(input: Uint8Array, output: Uint8Array): void {
  const inEnd = input.length;
  const outEnd = output.length;
  let ip = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= inEnd || shift > 28) throw new Error('snappy: bad length header');
    const b = input[ip++]!;
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (declared !== outEnd) throw new Error(`snappy: the stream holds ${declared} bytes, the page header says ${outEnd}`);
  let op = 0;
  while (ip < inEnd) {
    const tag = input[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (ip + extra > inEnd) throw new Error('snappy: literal length past the end of input');
        len = input[ip]!;
        if (extra > 1) len |= input[ip + 1]! << 8;
        if (extra > 2) len |= input[ip + 2]! << 16;
        if (extra > 3) len += input[ip + 3]! * 0x1000000;
        len += 1;
        ip += extra;
      }
      if (ip + len > inEnd || op + len > outEnd) throw new Error('snappy: literal past the end of input or output');
      if (len > 256) output.set(input.subarray(ip, ip + len), op);
      else for (let k = 0; k < len; k += 1) output[op + k] = input[ip + k]!;
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= inEnd) throw new Error('snappy: copy past the end of input');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > inEnd) throw new Error('snappy: copy past the end of input');
      len = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > inEnd) throw new Error('snappy: copy past the end of input');
      len = (tag >>> 2) + 1;
      offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16)) + input[ip + 3]! * 0x1000000;
      ip += 4;
    }
    if (offset === 0 || offset > op || op + len > outEnd) throw new Error('snappy: copy outside the output');
    const from = op - offset;
    // An overlapping copy (offset < len) repeats a pattern: it must run byte by byte, forwards.
    if (offset >= len && len > 256) output.copyWithin(op, from, from + len);
    else for (let k = 0; k < len; k += 1) output[op + k] = output[from + k]!;
    op += len;
  }
  if (op !== outEnd) throw new Error(`snappy: the stream ended after ${op} of ${outEnd} bytes`);
}

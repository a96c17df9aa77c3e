/**
 * Ids (row keys such as customer ids) as UTF-8 bytes in one arena with an open-addressing index.
 * A join holds millions of them: a JS string and a Map entry each would cost several times the
 * bytes, and a reader that keeps its cells as byte ranges (Parquet) can be probed without
 * building a string per row.
 */

// Bound once: a global `Math` lookup per call is slow in sandboxed contexts (Jest's vm).
const imul = Math.imul;

const TWO_32 = 4294967296;
const utf8 = new TextDecoder();

/** FNV-1a over the bytes with murmur3's finalizer, so every bit of the result depends on every byte. */
export function hashBytes(bytes: Uint8Array, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i += 1) h = imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Which of `buckets` equal hash ranges a hash falls in (the high bits; table slots use the low ones). */
export const bucketOfHash = (hash: number, buckets: number): number => Math.floor((hash / TWO_32) * buckets);

const EMPTY = -1;
/**
 * Filter bits per slot (4 to 8 per id): a probe for an absent id usually stops at a small bitmap
 * that stays in the CPU cache, where a larger one would cost a memory access per probe.
 */
const FILTER_BITS_PER_SLOT = 2;

/** Two bits of one 32-bit filter word per hash (a blocked Bloom filter): one memory access per probe, few false hits. */
function filterBits(hash: number): number {
  const mixed = imul(hash, 0x9e3779b1);
  return (1 << (mixed >>> 27)) | (1 << ((mixed >>> 22) & 31));
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

/**
 * A set of ids, each with a dense index (0, 1, 2, ... in insertion order) that callers use to keep
 * per-id data in typed arrays. Ids are compared by their bytes. Slots hold (hash, index) pairs side
 * by side, and a bitmap of the hashes answers most probes for absent ids without touching them:
 * a join probes millions of ids that are not there.
 */
export class IdTable {
  private arena: Uint8Array;
  private used = 0;
  private starts: Int32Array;
  private lengths: Int32Array;
  private hashes: Uint32Array;
  /** Pairs (hash, index); index EMPTY marks a free slot. */
  private slots!: Int32Array;
  private mask = 0;
  private filter!: Int32Array;
  private filterMask = 0;
  size = 0;

  /** `expected`: about how many ids will be added (memory is reserved for them up front). */
  constructor(expected = 1024) {
    const entries = Math.max(16, expected);
    this.arena = new Uint8Array(Math.max(1 << 16, entries * 16));
    this.starts = new Int32Array(entries);
    this.lengths = new Int32Array(entries);
    this.hashes = new Uint32Array(entries);
    this.resize(nextPowerOfTwo(entries * 2));
  }

  /** The index of the id, or -1 when it is not in the table. */
  find(bytes: Uint8Array, start: number, length: number, hash: number): number {
    const bits = filterBits(hash);
    if ((this.filter[(hash >>> 7) & this.filterMask]! & bits) !== bits) return -1;
    const slots = this.slots;
    const h = hash | 0;
    for (let s = hash & this.mask; ; s = (s + 1) & this.mask) {
      const index = slots[2 * s + 1]!;
      if (index === EMPTY) return -1;
      if (slots[2 * s] === h && this.equals(index, bytes, start, length)) return index;
    }
  }

  /** The index of the id, added at the end when it is new (then the index is `size - 1`). */
  add(bytes: Uint8Array, start: number, length: number, hash: number): number {
    const slots = this.slots;
    const h = hash | 0;
    let s = hash & this.mask;
    for (; ; s = (s + 1) & this.mask) {
      const index = slots[2 * s + 1]!;
      if (index === EMPTY) break;
      if (slots[2 * s] === h && this.equals(index, bytes, start, length)) return index;
    }
    const index = this.size;
    if (index === this.starts.length) this.growEntries();
    if (this.used + length > this.arena.length) this.growArena(length);
    // A loop, not set(subarray()): ids are short, and a view per id is an allocation per id.
    const arena = this.arena;
    for (let i = 0, at = this.used; i < length; i += 1) arena[at + i] = bytes[start + i]!;
    this.starts[index] = this.used;
    this.lengths[index] = length;
    this.hashes[index] = hash;
    this.used += length;
    slots[2 * s] = h;
    slots[2 * s + 1] = index;
    this.filter[(hash >>> 7) & this.filterMask]! |= filterBits(hash);
    this.size += 1;
    // At most half full: probe runs stay short.
    if (this.size * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    return index;
  }

  /** The id at `index` as text. */
  text(index: number): string {
    const start = this.starts[index]!;
    return utf8.decode(this.arena.subarray(start, start + this.lengths[index]!));
  }

  hash(index: number): number {
    return this.hashes[index]!;
  }

  private equals(index: number, bytes: Uint8Array, start: number, length: number): boolean {
    if (this.lengths[index] !== length) return false;
    const arena = this.arena;
    const at = this.starts[index]!;
    for (let i = 0; i < length; i += 1) if (arena[at + i] !== bytes[start + i]) return false;
    return true;
  }

  private growEntries(): void {
    const n = this.starts.length * 2;
    const grow = <T extends Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.starts = grow(this.starts, (k) => new Int32Array(k));
    this.lengths = grow(this.lengths, (k) => new Int32Array(k));
    this.hashes = grow(this.hashes, (k) => new Uint32Array(k));
  }

  private growArena(extra: number): void {
    const next = new Uint8Array(Math.max(this.arena.length * 2, this.used + extra));
    next.set(this.arena.subarray(0, this.used));
    this.arena = next;
  }

  /** Rebuilds slots and filter for `capacity` slots (a power of two) from the stored hashes. */
  private resize(capacity: number): void {
    const slots = new Int32Array(2 * capacity);
    for (let s = 1; s < slots.length; s += 2) slots[s] = EMPTY;
    const mask = capacity - 1;
    const filter = new Int32Array(Math.max(1, (capacity * FILTER_BITS_PER_SLOT) >>> 5));
    const filterMask = filter.length - 1;
    for (let index = 0; index < this.size; index += 1) {
      const hash = this.hashes[index]!;
      let s = hash & mask;
      while (slots[2 * s + 1] !== EMPTY) s = (s + 1) & mask;
      slots[2 * s] = hash | 0;
      slots[2 * s + 1] = index;
      filter[(hash >>> 7) & filterMask]! |= filterBits(hash);
    }
    this.slots = slots;
    this.mask = mask;
    this.filter = filter;
    this.filterMask = filterMask;
  }
}

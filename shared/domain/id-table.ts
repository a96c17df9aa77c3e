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

/** Text as UTF-8 bytes in a reusable scratch buffer, for hashing ids that come as strings. */
export class Utf8Scratch {
  bytes = new Uint8Array(256);
  private readonly encoder = new TextEncoder();

  /** Encodes `text` into `bytes`; returns the byte length. */
  encode(text: string): number {
    if (text.length * 3 > this.bytes.length) this.bytes = new Uint8Array(text.length * 3);
    return this.encoder.encodeInto(text, this.bytes).written;
  }
}

const EMPTY = -1;

/**
 * A set of ids, each with a dense index (0, 1, 2, ... in insertion order) that callers use to keep
 * per-id data in typed arrays. Ids are compared by their bytes.
 */
export class IdTable {
  private arena = new Uint8Array(1 << 16);
  private used = 0;
  private starts = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private hashes = new Uint32Array(1024);
  private slots = new Int32Array(2048).fill(EMPTY);
  private mask = 2047;
  size = 0;

  /** The index of the id, or -1 when it is not in the table. */
  find(bytes: Uint8Array, start: number, length: number, hash: number): number {
    const slots = this.slots;
    for (let s = hash & this.mask; ; s = (s + 1) & this.mask) {
      const index = slots[s]!;
      if (index === EMPTY) return -1;
      if (this.hashes[index] === hash && this.equals(index, bytes, start, length)) return index;
    }
  }

  /** The index of the id, added at the end when it is new (then the index is `size - 1`). */
  add(bytes: Uint8Array, start: number, length: number, hash: number): number {
    const slots = this.slots;
    let s = hash & this.mask;
    for (; ; s = (s + 1) & this.mask) {
      const index = slots[s]!;
      if (index === EMPTY) break;
      if (this.hashes[index] === hash && this.equals(index, bytes, start, length)) return index;
    }
    const index = this.size;
    if (index === this.starts.length) this.growEntries();
    if (this.used + length > this.arena.length) this.growArena(length);
    this.arena.set(bytes.subarray(start, start + length), this.used);
    this.starts[index] = this.used;
    this.lengths[index] = length;
    this.hashes[index] = hash;
    this.used += length;
    slots[s] = index;
    this.size += 1;
    // At most half full: probe runs stay short.
    if (this.size * 2 > this.slots.length) this.rehash();
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

  /** Bytes held, for memory accounting: the arena, the per-id arrays and the slots. */
  bytesHeld(): number {
    return this.arena.byteLength + this.starts.byteLength * 3 + this.slots.byteLength;
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

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    const mask = slots.length - 1;
    for (let index = 0; index < this.size; index += 1) {
      let s = this.hashes[index]! & mask;
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      slots[s] = index;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

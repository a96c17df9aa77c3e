/**
 * Where decoded Parquet columns get their typed arrays. Decoding a row group allocates a few MB of
 * them (values, byte ranges, null maps). Their memory lies outside the JS heap, so a reader that
 * streams millions of rows and lets each group's arrays go makes V8 run a full collection every
 * few groups (external memory pressure): a fifth of an actuals join's time. A reader whose
 * consumer is done with a group's batches before it asks for the next (ReadHints.reuseBuffers)
 * decodes into a DecodeArena instead, which hands the group's arrays back to a shared pool once
 * the next group is asked for.
 */
export interface DecodeArrays {
  /** Zero-filled. */
  int32(n: number): Int32Array;
  /** Zero-filled. */
  uint8(n: number): Uint8Array;
  /** Zero-filled. */
  float64(n: number): Float64Array;
  /** At least `n` bytes, contents undefined. */
  bytes(n: number): Buffer;
}

/** New arrays every time: what a reader uses when its batches may outlive the next one. */
export const freshArrays: DecodeArrays = {
  int32: (n) => new Int32Array(n),
  uint8: (n) => new Uint8Array(n),
  float64: (n) => new Float64Array(n),
  bytes: (n) => Buffer.allocUnsafe(n),
};

type Pooled = Int32Array | Uint8Array | Float64Array | Buffer;

/** Arrays kept for reuse across readers, by kind and length; bounded so that an idle worker holds little. */
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const pool = new Map<string, Pooled[]>();
let pooledBytes = 0;

const keyOf = (array: Pooled) => `${array instanceof Buffer ? 'bytes' : array.constructor.name}:${array.length}`;

function fromPool<T extends Pooled>(key: string): T | undefined {
  const free = pool.get(key);
  const array = free?.pop() as T | undefined;
  if (array) pooledBytes -= array.byteLength;
  return array;
}

/** Byte buffers come in powers of two (at least 64 KiB), so that column chunks of slightly different sizes share them. */
const bytesCapacity = (n: number) => 2 ** Math.max(16, Math.ceil(Math.log2(Math.max(1, n))));

/** The arrays of the row group being decoded and read; `release` returns them to the pool. */
export class DecodeArena implements DecodeArrays {
  private readonly taken: Pooled[] = [];

  int32(n: number): Int32Array {
    return this.keep(fromPool<Int32Array>(`Int32Array:${n}`)?.fill(0) ?? new Int32Array(n));
  }

  uint8(n: number): Uint8Array {
    return this.keep(fromPool<Uint8Array>(`Uint8Array:${n}`)?.fill(0) ?? new Uint8Array(n));
  }

  float64(n: number): Float64Array {
    return this.keep(fromPool<Float64Array>(`Float64Array:${n}`)?.fill(0) ?? new Float64Array(n));
  }

  bytes(n: number): Buffer {
    const capacity = bytesCapacity(n);
    // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool.
    return this.keep(fromPool<Buffer>(`bytes:${capacity}`) ?? Buffer.allocUnsafeSlow(capacity));
  }

  /** The consumer is done with everything decoded into this arena: its arrays may be handed out again. */
  release(): void {
    for (const array of this.taken) {
      if (pooledBytes + array.byteLength > POOL_MAX_BYTES) continue;
      const key = keyOf(array);
      const free = pool.get(key) ?? [];
      free.push(array);
      pool.set(key, free);
      pooledBytes += array.byteLength;
    }
    this.taken.length = 0;
  }

  private keep<T extends Pooled>(array: T): T {
    this.taken.push(array);
    return array;
  }
}

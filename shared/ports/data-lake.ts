import type { Readable } from 'node:stream';

/** What the lake knows about one stored object. */
export interface LakeObjectInfo {
  path: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentType?: string;
  metadata: Record<string, string>;
}

export interface LakeWriteOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Write-once: fail with ARTIFACT_ALREADY_EXISTS if the object exists (artifacts, manifests). */
  ifNotExists?: boolean;
  /** Overwrite only if the stored object still has this ETag (CONCURRENCY_CONFLICT otherwise). */
  ifMatch?: string;
}

/**
 * The data lake: artifacts, data drops, predictions, quarantine, profiles and reports. Paths are
 * built by the one path module (`shared/domain/lake-paths.ts`) and validated before use; an
 * adapter rejects a path that is not.
 */
export interface DataLake {
  /** Streams an object, or the byte range [offset, offset + length) of it. */
  read(path: string, range?: { offset: number; length?: number }): Promise<Readable>;
  readBuffer(path: string, range?: { offset: number; length?: number }): Promise<Buffer>;
  /** Object properties, or undefined if it does not exist. */
  stat(path: string): Promise<LakeObjectInfo | undefined>;
  write(path: string, body: Buffer | Readable, options?: LakeWriteOptions): Promise<LakeObjectInfo>;
  /**
   * Copies an object inside the lake (server-side where the store can), content type and metadata
   * included. `ifNotExists` makes the target write-once (ARTIFACT_ALREADY_EXISTS); NOT_FOUND when
   * the source does not exist.
   */
  copy(from: string, to: string, options?: { ifNotExists?: boolean }): Promise<LakeObjectInfo>;
  /** Objects under a prefix, in lexical order. */
  list(prefix: string): AsyncIterable<LakeObjectInfo>;
  delete(path: string): Promise<void>;
}

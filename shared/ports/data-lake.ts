import type { Readable } from 'node:stream';

import type { ByteRange } from '../domain/lake-objects';

/** What the lake knows about one stored object; a write, a stat and a listing report the same. */
export interface LakeObjectInfo {
  path: string;
  size: number;
  /** Changes with every write; quoted, in the same form from write, stat and list. */
  etag: string;
  lastModified: Date;
  /** As written, or application/octet-stream (DEFAULT_CONTENT_TYPE) when none was given. */
  contentType: string;
  metadata: Record<string, string>;
}

export interface LakeWriteOptions {
  contentType?: string;
  /** Lowercase identifier names, printable ASCII values, 8 KiB in all (assertLakeMetadata). */
  metadata?: Record<string, string>;
  /** Write-once: fail with ARTIFACT_ALREADY_EXISTS if the object exists (artifacts, manifests). */
  ifNotExists?: boolean;
  /** Overwrite only if the stored object still has this ETag (CONCURRENCY_CONFLICT otherwise). */
  ifMatch?: string;
}

/**
 * The data lake: artifacts, data drops, predictions, quarantine, profiles and reports. Paths are
 * built by the one path module (`shared/domain/lake-paths.ts`) and validated before use; an
 * adapter rejects a path that is not (VALIDATION_ERROR). Every implementation passes the same
 * contract suite (test/contracts/data-lake.contract.ts).
 */
export interface DataLake {
  /**
   * Streams an object, or the byte range [offset, offset + length) of it (cut at the end of the
   * object). NOT_FOUND if there is no object (a "folder" is not one); VALIDATION_ERROR for a
   * negative or fractional offset, a length below 1, or an offset beyond the end.
   */
  read(path: string, range?: ByteRange): Promise<Readable>;
  readBuffer(path: string, range?: ByteRange): Promise<Buffer>;
  /** Object properties, or undefined if it does not exist. */
  stat(path: string): Promise<LakeObjectInfo | undefined>;
  /**
   * Stores the whole body or nothing: a body stream that fails leaves the object as it was.
   * Replaces bytes, content type and metadata together.
   */
  write(path: string, body: Buffer | Readable, options?: LakeWriteOptions): Promise<LakeObjectInfo>;
  /**
   * Copies an object inside the lake (server-side where the store can), content type and metadata
   * included. `ifNotExists` makes the target write-once (ARTIFACT_ALREADY_EXISTS); NOT_FOUND when
   * the source does not exist.
   */
  copy(from: string, to: string, options?: { ifNotExists?: boolean }): Promise<LakeObjectInfo>;
  /** Objects whose path starts with `prefix`, in lexical order. */
  list(prefix: string): AsyncIterable<LakeObjectInfo>;
  /** Removes an object; removing one that does not exist is not an error. */
  delete(path: string): Promise<void>;
}

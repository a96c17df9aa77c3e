import { Readable, Transform } from 'node:stream';

import type { BlobItem, BlobRequestConditions, ContainerClient } from '@azure/storage-blob';

import { errors } from '../../domain/errors';
import {
  assertByteRange,
  assertLakeMetadata,
  assertWriteConditions,
  byteRangeOutside,
  DEFAULT_CONTENT_TYPE,
} from '../../domain/lake-objects';
import { assertLakePath } from '../../domain/lake-paths';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../ports/data-lake';
import { dataContainer } from './client';

/** Block size and parallelism of streamed uploads: 4 MiB x 4 keeps memory near 16 MiB per upload. */
const STREAM_BLOCK_SIZE = 4 * 1024 * 1024;
const STREAM_CONCURRENCY = 4;
/** How often a server-side copy's progress is polled. */
const COPY_POLL_MS = 200;
/** A broken download resumes from where it stopped this many times before it fails. */
const DOWNLOAD_RETRIES = 3;

/**
 * The data lake on Blob Storage (one container, DATA_CONTAINER). Paths are validated with the lake
 * path rules before any request. Write-once puts use `If-None-Match: *`; guarded overwrites use
 * `If-Match`.
 */
export class BlobDataLake implements DataLake {
  constructor(private readonly container: () => Promise<ContainerClient> = dataContainer) {}

  async read(path: string, range?: { offset: number; length?: number }): Promise<Readable> {
    const blob = (await this.container()).getBlobClient(assertLakePath(path));
    assertByteRange(range);
    try {
      const response = await blob.download(range?.offset ?? 0, range?.length, { maxRetryRequests: DOWNLOAD_RETRIES });
      const body = response.readableStreamBody;
      if (!body) throw new Error(`download of '${path}' returned no body`);
      return body as Readable;
    } catch (error) {
      throw mapReadError(error, path);
    }
  }

  async readBuffer(path: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const stream = await this.read(path, range);
    const expected = range?.length;
    if (expected === undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    // The size is known: the bytes go straight into one buffer of their own (no list of chunks
    // and a concatenated copy: a Parquet row group can be hundreds of MB).
    const out = Buffer.allocUnsafeSlow(expected);
    let at = 0;
    for await (const chunk of stream) {
      const piece = chunk as Buffer;
      if (at + piece.length > expected) throw new Error(`download of '${path}' returned more than the ${expected} bytes asked for`);
      piece.copy(out, at);
      at += piece.length;
    }
    // A range that runs past the end of the object returns fewer bytes.
    return at === expected ? out : out.subarray(0, at);
  }

  async stat(path: string): Promise<LakeObjectInfo | undefined> {
    const blob = (await this.container()).getBlobClient(assertLakePath(path));
    try {
      const p = await blob.getProperties();
      return {
        path,
        size: p.contentLength ?? 0,
        etag: required(p.etag),
        lastModified: p.lastModified ?? new Date(0),
        contentType: p.contentType ?? DEFAULT_CONTENT_TYPE,
        metadata: p.metadata ?? {},
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async write(path: string, body: Buffer | Readable, options: LakeWriteOptions = {}): Promise<LakeObjectInfo> {
    const blob = (await this.container()).getBlockBlobClient(assertLakePath(path));
    assertWriteConditions(path, options);
    assertLakeMetadata(options.metadata);
    const conditions: BlobRequestConditions = {};
    if (options.ifNotExists) conditions.ifNoneMatch = '*';
    if (options.ifMatch) conditions.ifMatch = options.ifMatch;
    const common = {
      conditions,
      metadata: options.metadata,
      blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined,
    };
    try {
      if (Buffer.isBuffer(body)) {
        const response = await blob.upload(body, body.length, common);
        return info(path, body.length, response.etag, response.lastModified, options);
      }
      let size = 0;
      const counted = body.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            done(null, chunk);
          },
        }),
      );
      body.once('error', (error) => counted.destroy(error));
      const response = await blob.uploadStream(counted, STREAM_BLOCK_SIZE, STREAM_CONCURRENCY, common);
      return info(path, size, response.etag, response.lastModified, options);
    } catch (error) {
      throw mapWriteError(error, path, options);
    }
  }

  async copy(from: string, to: string, options: { ifNotExists?: boolean } = {}): Promise<LakeObjectInfo> {
    const container = await this.container();
    const source = container.getBlobClient(assertLakePath(from));
    const target = container.getBlobClient(assertLakePath(to));
    try {
      // A copy inside one account is server-side and authorised by the caller's own credential.
      const poller = await target.beginCopyFromURL(source.url, {
        conditions: options.ifNotExists ? { ifNoneMatch: '*' } : {},
        intervalInMs: COPY_POLL_MS,
      });
      await poller.pollUntilDone();
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) throw errors.notFound(`'${from}' does not exist in the data lake`, { path: from });
      throw mapWriteError(error, to, options);
    }
    const copied = await this.stat(to);
    if (!copied) throw new Error(`the copy of '${from}' to '${to}' left no object`);
    return copied;
  }

  async *list(prefix: string): AsyncIterable<LakeObjectInfo> {
    const container = await this.container();
    const pages = container
      .listBlobsFlat({ prefix: assertLakePath(prefix, { prefix: true }), includeMetadata: true })
      .byPage({ maxPageSize: 1000 });
    for await (const page of pages) {
      for (const item of page.segment.blobItems) yield fromItem(item);
    }
  }

  async delete(path: string): Promise<void> {
    await (await this.container()).getBlobClient(assertLakePath(path)).deleteIfExists();
  }
}

/** The data lake over the process's Blob service client. */
export function blobDataLake(): BlobDataLake {
  return new BlobDataLake();
}

function info(
  path: string,
  size: number,
  etag: string | undefined,
  lastModified: Date | undefined,
  options: LakeWriteOptions,
): LakeObjectInfo {
  return {
    path,
    size,
    etag: required(etag),
    lastModified: lastModified ?? new Date(),
    contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
    metadata: options.metadata ?? {},
  };
}

function fromItem(item: BlobItem): LakeObjectInfo {
  return {
    path: item.name,
    size: item.properties.contentLength ?? 0,
    // Listings carry the ETag unquoted; headers (stat, write) quote it. One form for ifMatch.
    etag: quoted(item.properties.etag),
    lastModified: item.properties.lastModified,
    contentType: item.properties.contentType ?? DEFAULT_CONTENT_TYPE,
    metadata: item.metadata ?? {},
  };
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error).statusCode;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

function mapReadError(error: unknown, path: string): unknown {
  const status = statusOf(error);
  if (status === 404) return errors.notFound(`'${path}' does not exist in the data lake`, { path });
  if (status === 416) return byteRangeOutside(path);
  return error;
}

function mapWriteError(error: unknown, path: string, options: LakeWriteOptions): unknown {
  const status = statusOf(error);
  // Blob Storage answers a failed If-None-Match: * with 409 (BlobAlreadyExists) or 412.
  if (options.ifNotExists && (status === 409 || status === 412)) {
    return errors.artifactAlreadyExists(`'${path}' already exists and is write-once`, { path });
  }
  if (options.ifMatch && (status === 412 || status === 404)) {
    return errors.concurrencyConflict(`'${path}' changed since it was read`, { path, etag: options.ifMatch });
  }
  return error;
}

const quoted = (etag: string): string => (etag.startsWith('"') ? etag : `"${etag}"`);

function required(etag: string | undefined): string {
  if (!etag) throw new Error('Blob Storage answered without an ETag');
  return etag;
}

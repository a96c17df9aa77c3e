import type { Readable } from 'node:stream';

import { type ContainerClient, RestError } from '@azure/storage-blob';

import { DomainError } from '../../shared/domain/errors';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../shared/ports/data-lake';

/**
 * A minimal DataLake over one Blob container, for scoring integration tests and the benchmark
 * until the foundation's Blob adapter is on main (then they switch to it).
 */
export class TestBlobLake implements DataLake {
  constructor(private readonly container: ContainerClient) {}

  private info(path: string, p: { contentLength?: number; etag?: string; lastModified?: Date; contentType?: string; metadata?: Record<string, string> }): LakeObjectInfo {
    return {
      path,
      size: p.contentLength ?? 0,
      etag: p.etag ?? '',
      lastModified: p.lastModified ?? new Date(0),
      metadata: p.metadata ?? {},
      ...(p.contentType ? { contentType: p.contentType } : {}),
    };
  }

  async read(path: string, range?: { offset: number; length?: number }): Promise<Readable> {
    if (range?.length === 0) {
      const { Readable: R } = await import('node:stream');
      return R.from([]);
    }
    const res = await this.container.getBlobClient(path).download(range?.offset ?? 0, range?.length);
    return res.readableStreamBody as Readable;
  }

  async readBuffer(path: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    if (range?.length === 0) return Buffer.alloc(0);
    return this.container.getBlobClient(path).downloadToBuffer(range?.offset ?? 0, range?.length);
  }

  async stat(path: string): Promise<LakeObjectInfo | undefined> {
    try {
      return this.info(path, await this.container.getBlobClient(path).getProperties());
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  async write(path: string, body: Buffer | Readable, options: LakeWriteOptions = {}): Promise<LakeObjectInfo> {
    const blob = this.container.getBlockBlobClient(path);
    const conditions = options.ifNotExists ? { ifNoneMatch: '*' } : options.ifMatch ? { ifMatch: options.ifMatch } : undefined;
    const common = {
      blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined,
      metadata: options.metadata,
      conditions,
    };
    try {
      if (Buffer.isBuffer(body)) await blob.uploadData(body, { ...common, blockSize: 8 * 1024 * 1024, concurrency: 4 });
      else await blob.uploadStream(body, 8 * 1024 * 1024, 4, common);
    } catch (e) {
      if (e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412))
        throw new DomainError(options.ifNotExists ? 'ARTIFACT_ALREADY_EXISTS' : 'CONCURRENCY_CONFLICT', `'${path}' changed or exists`);
      throw e;
    }
    return (await this.stat(path))!;
  }

  async *list(prefix: string): AsyncIterable<LakeObjectInfo> {
    for await (const b of this.container.listBlobsFlat({ prefix, includeMetadata: true }))
      yield this.info(b.name, { ...b.properties, metadata: b.metadata ?? {} });
  }

  async delete(path: string): Promise<void> {
    await this.container.getBlobClient(path).deleteIfExists();
  }
}

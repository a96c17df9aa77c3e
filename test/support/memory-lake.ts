import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { errors } from '../../shared/domain/errors';
import {
  assertLakeMetadata,
  assertWriteConditions,
  type ByteRange,
  byteRangeWithin,
  DEFAULT_CONTENT_TYPE,
} from '../../shared/domain/lake-objects';
import { assertLakePath } from '../../shared/domain/lake-paths';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../shared/ports/data-lake';

/**
 * An in-memory DataLake for unit tests with the Blob adapter's semantics (path, range and metadata
 * rules, ETags, write-once and if-match); test/contracts runs the same suite against both.
 */
export class MemoryLake implements DataLake {
  readonly objects = new Map<string, { body: Buffer; info: LakeObjectInfo }>();
  writes = 0;

  private get(path: string) {
    const o = this.objects.get(assertLakePath(path));
    if (!o) throw errors.notFound(`no object at '${path}'`);
    return o;
  }

  private slice(path: string, range?: ByteRange): Buffer {
    const body = this.get(path).body;
    const { start, end } = byteRangeWithin(path, range, body.length);
    return body.subarray(start, end);
  }

  async read(path: string, range?: ByteRange): Promise<Readable> {
    const data = this.slice(path, range);
    const pieces: Buffer[] = [];
    for (let i = 0; i < data.length; i += 65536) pieces.push(data.subarray(i, i + 65536));
    return Readable.from(pieces);
  }

  async readBuffer(path: string, range?: ByteRange): Promise<Buffer> {
    return Buffer.from(this.slice(path, range));
  }

  async stat(path: string): Promise<LakeObjectInfo | undefined> {
    return this.objects.get(assertLakePath(path))?.info;
  }

  async write(
    path: string,
    body: Buffer | Readable,
    options: LakeWriteOptions = {},
  ): Promise<LakeObjectInfo> {
    assertLakePath(path);
    assertWriteConditions(path, options);
    assertLakeMetadata(options.metadata);
    const buf = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    // Checked after the body is in, with no await until the object is stored: the check and the
    // write are one step, as a conditional put is on Blob Storage.
    const existing = this.objects.get(path);
    if (options.ifNotExists && existing) throw errors.artifactAlreadyExists(`'${path}' exists`);
    if (options.ifMatch && existing?.info.etag !== options.ifMatch)
      throw errors.concurrencyConflict(`'${path}' changed`);
    const info: LakeObjectInfo = {
      path,
      size: buf.length,
      etag: `"${createHash('md5').update(buf).digest('hex')}-${(this.writes += 1)}"`,
      lastModified: new Date(),
      contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: { ...options.metadata },
    };
    this.objects.set(path, { body: Buffer.from(buf), info });
    return info;
  }

  async copy(from: string, to: string, options: { ifNotExists?: boolean } = {}): Promise<LakeObjectInfo> {
    const source = this.get(from);
    return this.write(to, Buffer.from(source.body), {
      ...options,
      metadata: { ...source.info.metadata },
      ...(source.info.contentType ? { contentType: source.info.contentType } : {}),
    });
  }

  async *list(prefix: string): AsyncIterable<LakeObjectInfo> {
    assertLakePath(prefix, { prefix: true });
    for (const key of [...this.objects.keys()].sort())
      if (key.startsWith(prefix)) yield await Promise.resolve(this.objects.get(key)!.info);
  }

  async delete(path: string): Promise<void> {
    this.objects.delete(assertLakePath(path));
  }

  body(path: string): Buffer {
    return this.get(path).body;
  }
}

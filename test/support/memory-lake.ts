import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { errors } from '../../shared/domain/errors';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../shared/ports/data-lake';

/** An in-memory DataLake for unit tests: ranged reads, ETags, write-once and if-match. */
export class MemoryLake implements DataLake {
  readonly objects = new Map<string, { body: Buffer; info: LakeObjectInfo }>();
  writes = 0;

  private get(path: string) {
    const o = this.objects.get(path);
    if (!o) throw errors.notFound(`no object at '${path}'`);
    return o;
  }

  private slice(path: string, range?: { offset: number; length?: number }): Buffer {
    const body = this.get(path).body;
    if (!range) return body;
    return body.subarray(range.offset, range.length === undefined ? undefined : range.offset + range.length);
  }

  read(path: string, range?: { offset: number; length?: number }): Promise<Readable> {
    const data = this.slice(path, range);
    const pieces: Buffer[] = [];
    for (let i = 0; i < data.length; i += 65536) pieces.push(data.subarray(i, i + 65536));
    return Promise.resolve(Readable.from(pieces));
  }

  readBuffer(path: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    return Promise.resolve(Buffer.from(this.slice(path, range)));
  }

  stat(path: string): Promise<LakeObjectInfo | undefined> {
    return Promise.resolve(this.objects.get(path)?.info);
  }

  async write(path: string, body: Buffer | Readable, options: LakeWriteOptions = {}): Promise<LakeObjectInfo> {
    const existing = this.objects.get(path);
    if (options.ifNotExists && existing) throw errors.artifactAlreadyExists(`'${path}' exists`);
    if (options.ifMatch && existing?.info.etag !== options.ifMatch) throw errors.concurrencyConflict(`'${path}' changed`);
    const buf = Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray());
    const info: LakeObjectInfo = {
      path,
      size: buf.length,
      etag: `"${createHash('md5').update(buf).digest('hex')}-${(this.writes += 1)}"`,
      lastModified: new Date(0),
      metadata: options.metadata ?? {},
      ...(options.contentType ? { contentType: options.contentType } : {}),
    };
    this.objects.set(path, { body: buf, info });
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
    for (const key of [...this.objects.keys()].sort()) if (key.startsWith(prefix)) yield await Promise.resolve(this.objects.get(key)!.info);
  }

  delete(path: string): Promise<void> {
    this.objects.delete(path);
    return Promise.resolve();
  }

  body(path: string): Buffer {
    return this.get(path).body;
  }
}

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { errors } from '../../domain/errors';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../ports/data-lake';

/**
 * The DataLake port over a local folder, for the offline CLI: lake paths are relative to `root`.
 * ETags are the size and modification time; writes go to a temporary file renamed into place,
 * so a reader never sees half a file.
 */
export class FileLake implements DataLake {
  constructor(private readonly root: string) {}

  private file(p: string): string {
    const full = path.resolve(this.root, p);
    const rel = path.relative(path.resolve(this.root), full);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw errors.validation(`'${p}' is outside the lake folder`);
    return full;
  }

  private async info(p: string, full: string): Promise<LakeObjectInfo> {
    const st = await fs.promises.stat(full);
    return { path: p, size: st.size, etag: `"${st.size.toString(16)}-${st.mtimeMs.toString(16)}"`, lastModified: st.mtime, metadata: {} };
  }

  private async exists(full: string): Promise<boolean> {
    return fs.promises.access(full).then(
      () => true,
      () => false,
    );
  }

  async read(p: string, range?: { offset: number; length?: number }): Promise<Readable> {
    const full = this.file(p);
    if (!(await this.exists(full))) throw errors.notFound(`no file at '${p}'`);
    if (range?.length === 0) return fs.createReadStream(full, { start: 1, end: 0 });
    return fs.createReadStream(full, {
      highWaterMark: 1 << 20,
      ...(range ? { start: range.offset, ...(range.length !== undefined ? { end: range.offset + range.length - 1 } : {}) } : {}),
    });
  }

  async readBuffer(p: string, range?: { offset: number; length?: number }): Promise<Buffer> {
    const full = this.file(p);
    if (!range) return fs.promises.readFile(full);
    const handle = await fs.promises.open(full, 'r');
    try {
      const size = (await handle.stat()).size;
      const length = Math.max(0, Math.min(range.length ?? size - range.offset, size - range.offset));
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buf, done, length - done, range.offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async stat(p: string): Promise<LakeObjectInfo | undefined> {
    const full = this.file(p);
    return (await this.exists(full)) ? this.info(p, full) : undefined;
  }

  async write(p: string, body: Buffer | Readable, options: LakeWriteOptions = {}): Promise<LakeObjectInfo> {
    const full = this.file(p);
    const existing = await this.stat(p);
    if (options.ifNotExists && existing) throw errors.artifactAlreadyExists(`'${p}' already exists`);
    if (options.ifMatch && existing?.etag !== options.ifMatch) throw errors.concurrencyConflict(`'${p}' changed`);
    await fs.promises.mkdir(path.dirname(full), { recursive: true });
    const temp = `${full}.${randomUUID()}.tmp`;
    if (Buffer.isBuffer(body)) await fs.promises.writeFile(temp, body);
    else await pipeline(body, fs.createWriteStream(temp));
    await fs.promises.rename(temp, full);
    return this.info(p, full);
  }

  async copy(from: string, to: string, options: { ifNotExists?: boolean } = {}): Promise<LakeObjectInfo> {
    const source = this.file(from);
    if (!(await this.exists(source))) throw errors.notFound(`no file at '${from}'`);
    const target = this.file(to);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.promises.copyFile(source, target, options.ifNotExists ? fs.constants.COPYFILE_EXCL : 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw errors.artifactAlreadyExists(`'${to}' already exists`);
      throw error;
    }
    return this.info(to, target);
  }

  async *list(prefix: string): AsyncIterable<LakeObjectInfo> {
    const base = this.file('.');
    const found: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else found.push(path.relative(base, full).split(path.sep).join('/'));
      }
    };
    await walk(base);
    for (const p of found.filter((f) => f.startsWith(prefix)).sort()) yield await this.info(p, this.file(p));
  }

  async delete(p: string): Promise<void> {
    await fs.promises.rm(this.file(p), { force: true });
  }
}

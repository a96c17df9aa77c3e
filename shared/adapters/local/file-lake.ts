import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { z } from 'zod';

import { errors, parseOrThrow } from '../../domain/errors';
import {
  assertByteRange,
  assertLakeMetadata,
  assertWriteConditions,
  type ByteRange,
  byteRangeWithin,
  DEFAULT_CONTENT_TYPE,
} from '../../domain/lake-objects';
import { assertLakePath, isLakePath } from '../../domain/lake-paths';
import type { DataLake, LakeObjectInfo, LakeWriteOptions } from '../../ports/data-lake';

/** Hidden files next to an object: its content type and metadata, and writes in progress. */
const SIDECAR_SUFFIX = '.lake-meta.json';
const TEMP_SUFFIX = '.lake-tmp';
const isHidden = (name: string) =>
  name.startsWith('.') && (name.endsWith(SIDECAR_SUFFIX) || name.endsWith(TEMP_SUFFIX));

const sidecarSchema = z.object({
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
type Sidecar = z.infer<typeof sidecarSchema>;

/** The error codes of a path that names no file (or names a folder). */
const NO_FILE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * The DataLake port over a local folder, for the offline CLI: lake paths (validated as on Blob
 * Storage) are relative to `root`, and the same contract suite as the Blob adapter holds
 * (test/contracts).
 * - A write goes to a hidden temporary file renamed into place: a reader never sees half a file
 *   and a broken body leaves nothing. Write-once claims the name with a hard link (atomic, also
 *   across processes); guarded writes (ifMatch) are one at a time per path within this process.
 * - The ETag is the file's inode, size and modification time; every write renames in a new file,
 *   so the ETag changes with it.
 * - Content type and metadata live in a hidden `.{name}.lake-meta.json` beside the file, written
 *   just after the bytes. Names of that form, and of temporary files, are the lake's own: they are
 *   never listed and cannot be written.
 * - Unlike Blob Storage, a path cannot be both an object and a folder of other objects.
 */
export class FileLake implements DataLake {
  /** The last write or delete queued per file: the next one waits for it. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(private readonly root: string) {}

  async read(p: string, range?: ByteRange): Promise<Readable> {
    const { handle, size } = await this.open(p, range);
    try {
      const { start, end } = byteRangeWithin(p, range, size);
      if (end <= start) {
        await handle.close();
        return Readable.from([]);
      }
      return handle.createReadStream({ start, end: end - 1, highWaterMark: 1 << 20 });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async readBuffer(p: string, range?: ByteRange): Promise<Buffer> {
    const { handle, size } = await this.open(p, range);
    try {
      const { start, end } = byteRangeWithin(p, range, size);
      const buf = Buffer.alloc(end - start);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
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
    const st = await fileStat(full);
    return st && { ...etagged(p, st), ...(await readSidecar(sidecarOf(full))) };
  }

  async write(p: string, body: Buffer | Readable, options: LakeWriteOptions = {}): Promise<LakeObjectInfo> {
    const full = this.file(p);
    assertWriteConditions(p, options);
    assertLakeMetadata(options.metadata);
    await fs.promises.mkdir(path.dirname(full), { recursive: true });
    const temp = tempOf(full);
    try {
      if (Buffer.isBuffer(body)) await fs.promises.writeFile(temp, body);
      else await pipeline(body, fs.createWriteStream(temp));
      return await this.oneAtATime(full, () => this.commit(p, full, temp, options));
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
  }

  async copy(from: string, to: string, options: { ifNotExists?: boolean } = {}): Promise<LakeObjectInfo> {
    const source = await this.stat(from);
    if (!source) throw notFound(from);
    return this.write(to, await this.read(from), {
      contentType: source.contentType,
      metadata: source.metadata,
      ...(options.ifNotExists ? { ifNotExists: true } : {}),
    });
  }

  async *list(prefix: string): AsyncIterable<LakeObjectInfo> {
    assertLakePath(prefix, { prefix: true });
    // Only the folder the prefix is in is walked, and only subfolders that can match.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    const found: string[] = [];
    const walk = async (dir: string, lakeDir: string) => {
      const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
        if (NO_FILE.has(codeOf(error) ?? '')) return [];
        throw error;
      });
      for (const entry of entries) {
        const lakeName = `${lakeDir}${entry.name}`;
        // A file no lake path can name (a control character, a trailing space, ...) is not an object.
        if (!isLakePath(lakeName)) continue;
        if (entry.isDirectory()) {
          const sub = `${lakeName}/`;
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(path.join(dir, entry.name), sub);
        } else if (!isHidden(entry.name) && lakeName.startsWith(prefix)) {
          found.push(lakeName);
        }
      }
    };
    await walk(this.file(folder, { prefix: true }), folder);
    for (const p of found.sort()) {
      const info = await this.stat(p);
      if (info) yield info;
    }
  }

  async delete(p: string): Promise<void> {
    const full = this.file(p);
    await this.oneAtATime(full, async () => {
      await fs.promises.rm(full, { force: true });
      await fs.promises.rm(sidecarOf(full), { force: true });
    });
  }

  /** The file of a lake path, after the path rules. */
  private file(p: string, options: { prefix?: boolean } = {}): string {
    assertLakePath(p, options);
    const segments = p.split('/').filter((s) => s !== '');
    const name = segments[segments.length - 1];
    if (!options.prefix && name !== undefined && isHidden(name)) {
      throw errors.validation(`'${p}' is a name the local lake keeps for its own files`, { path: p });
    }
    return path.join(this.root, ...segments);
  }

  /** Opens an object for reading, NOT_FOUND if it is missing or a folder. */
  private async open(
    p: string,
    range: ByteRange | undefined,
  ): Promise<{ handle: fs.promises.FileHandle; size: number }> {
    const full = this.file(p);
    assertByteRange(range);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(full, 'r');
    } catch (error) {
      if (NO_FILE.has(codeOf(error) ?? '')) throw notFound(p);
      throw error;
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw notFound(p);
    }
    return { handle, size: st.size };
  }

  /** Puts a fully written temporary file in place under the write's conditions. */
  private async commit(
    p: string,
    full: string,
    temp: string,
    options: LakeWriteOptions,
  ): Promise<LakeObjectInfo> {
    if (options.ifNotExists) {
      try {
        await fs.promises.link(temp, full);
      } catch (error) {
        if (codeOf(error) === 'EEXIST')
          throw errors.artifactAlreadyExists(`'${p}' already exists and is write-once`, { path: p });
        throw error;
      }
    } else {
      if (options.ifMatch !== undefined) {
        const current = await fileStat(full);
        if (!current || etagged(p, current).etag !== options.ifMatch) {
          throw errors.concurrencyConflict(`'${p}' changed since it was read`, {
            path: p,
            etag: options.ifMatch,
          });
        }
      }
      await fs.promises.rename(temp, full);
    }
    const sidecar: Sidecar = {
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.metadata && Object.keys(options.metadata).length > 0 ? { metadata: options.metadata } : {}),
    };
    await writeSidecar(sidecarOf(full), sidecar);
    const st = await fileStat(full);
    if (!st) throw new Error(`'${p}' vanished while it was written`);
    return {
      ...etagged(p, st),
      contentType: options.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: { ...options.metadata },
    };
  }

  private async oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const mine = (this.pending.get(key) ?? Promise.resolve()).then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.pending.set(key, settled);
    try {
      return await mine;
    } finally {
      if (this.pending.get(key) === settled) this.pending.delete(key);
    }
  }
}

const notFound = (p: string) => errors.notFound(`no file at '${p}' in the local lake`, { path: p });
const sidecarOf = (full: string) => path.join(path.dirname(full), `.${path.basename(full)}${SIDECAR_SUFFIX}`);
const tempOf = (full: string) =>
  path.join(path.dirname(full), `.${path.basename(full)}.${randomUUID()}${TEMP_SUFFIX}`);

/** A regular file's properties, or undefined when there is none (a folder is none). */
async function fileStat(full: string): Promise<fs.BigIntStats | undefined> {
  try {
    const st = await fs.promises.stat(full, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch (error) {
    if (NO_FILE.has(codeOf(error) ?? '')) return undefined;
    throw error;
  }
}

function etagged(p: string, st: fs.BigIntStats): Omit<LakeObjectInfo, 'contentType' | 'metadata'> {
  return {
    path: p,
    size: Number(st.size),
    etag: `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`,
    lastModified: new Date(Number(st.mtimeMs)),
  };
}

async function readSidecar(file: string): Promise<Pick<LakeObjectInfo, 'contentType' | 'metadata'>> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    if (NO_FILE.has(codeOf(error) ?? '')) return { contentType: DEFAULT_CONTENT_TYPE, metadata: {} };
    throw error;
  }
  const sidecar = parseOrThrow(sidecarSchema, JSON.parse(text), `local lake metadata file ${file}`);
  return { contentType: sidecar.contentType ?? DEFAULT_CONTENT_TYPE, metadata: sidecar.metadata ?? {} };
}

/** Replaces the sidecar (renamed into place), or removes it when there is nothing to keep. */
async function writeSidecar(file: string, sidecar: Sidecar): Promise<void> {
  if (sidecar.contentType === undefined && sidecar.metadata === undefined) {
    await fs.promises.rm(file, { force: true });
    return;
  }
  const temp = tempOf(file);
  try {
    await fs.promises.writeFile(temp, JSON.stringify(sidecar));
    await fs.promises.rename(temp, file);
  } finally {
    await fs.promises.rm(temp, { force: true });
  }
}

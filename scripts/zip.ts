/**
 * A minimal zip writer and reader on node:zlib (deflate or store, no zip64), so packaging needs
 * neither a zip library nor the system `zip` command.
 *
 * Entries carry Unix modes (version made by 3 = Unix) so execute bits survive on Linux, and a fixed
 * timestamp so the same tree always gives the same bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION = 20; // 2.0: deflate and directories
const MADE_BY_UNIX = (3 << 8) | VERSION;
const UTF8_NAMES = 0x0800;
const STORE = 0;
const DEFLATE = 8;
// 1980-01-01 00:00, the earliest DOS date: a fixed time keeps the archive reproducible.
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;

/**
 * The fields a local file header (from offset 4) and a central directory header (from offset 6)
 * share, in the same order: version needed, flags, method, time, date, CRC-32, sizes, name length.
 */
function writeSharedFields(buf: Buffer, at: number, f: { method: number; crc: number; compressedSize: number; size: number; nameLength: number }): void {
  buf.writeUInt16LE(VERSION, at);
  buf.writeUInt16LE(UTF8_NAMES, at + 2);
  buf.writeUInt16LE(f.method, at + 4);
  buf.writeUInt16LE(DOS_TIME, at + 6);
  buf.writeUInt16LE(DOS_DATE, at + 8);
  buf.writeUInt32LE(f.crc, at + 10);
  buf.writeUInt32LE(f.compressedSize, at + 14);
  buf.writeUInt32LE(f.size, at + 18);
  buf.writeUInt16LE(f.nameLength, at + 22);
}

export interface ZipStats {
  entries: number;
  /** Bytes of the files before compression. */
  uncompressedBytes: number;
  /** Bytes of the archive. */
  zipBytes: number;
}

/**
 * Writes every file and directory under `root` to `zipPath`, names relative to `root` with `/`,
 * sorted. Symbolic links are refused: the deployed tree must not point outside itself.
 */
export function zipDirectory(root: string, zipPath: string): ZipStats {
  const entries = listTree(root);
  if (entries.length > MAX_ENTRIES) {
    throw new Error(
      `${entries.length} entries under ${root}: more than a zip without zip64 holds (${MAX_ENTRIES}).`,
    );
  }
  const fd = fs.openSync(zipPath, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let uncompressedBytes = 0;
  const write = (buf: Buffer): void => {
    fs.writeSync(fd, buf);
    offset += buf.length;
  };
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.dir ? `${entry.name}/` : entry.name, 'utf8');
      const data = entry.dir ? Buffer.alloc(0) : fs.readFileSync(path.join(root, entry.name));
      uncompressedBytes += data.length;
      const crc = zlib.crc32(data);
      const deflated = data.length > 0 ? zlib.deflateRawSync(data) : data;
      const method = deflated.length < data.length ? DEFLATE : STORE;
      const body = method === DEFLATE ? deflated : data;
      if (offset + body.length + 30 + name.length > MAX_OFFSET) {
        throw new Error(`${zipPath} would pass 4 GiB, more than a zip without zip64 holds.`);
      }

      const fields = { method, crc, compressedSize: body.length, size: data.length, nameLength: name.length };
      const local = Buffer.alloc(30);
      local.writeUInt32LE(LOCAL_HEADER, 0);
      writeSharedFields(local, 4, fields);
      // extra field length: 0

      const header = Buffer.alloc(46);
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(MADE_BY_UNIX, 4);
      writeSharedFields(header, 6, fields);
      // extra field, comment, disk number, internal attributes: all 0
      header.writeUInt32LE(((entry.mode & 0xffff) << 16) >>> 0, 38);
      header.writeUInt32LE(offset, 42);
      central.push(header, name);

      write(local);
      write(name);
      write(body);
    }
    const centralStart = offset;
    for (const buf of central) write(buf);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(offset - centralStart, 12);
    end.writeUInt32LE(centralStart, 16);
    write(end);
  } finally {
    fs.closeSync(fd);
  }
  return { entries: entries.length, uncompressedBytes, zipBytes: offset };
}

interface TreeEntry {
  name: string;
  dir: boolean;
  mode: number;
}

function listTree(root: string, prefix = ''): TreeEntry[] {
  const dir = path.join(root, prefix);
  const names = fs.readdirSync(dir).sort();
  return names.flatMap((n) => {
    const name = prefix ? `${prefix}/${n}` : n;
    const stat = fs.lstatSync(path.join(dir, n));
    if (stat.isSymbolicLink()) throw new Error(`Refusing to zip the symbolic link ${name} under ${root}.`);
    if (stat.isDirectory()) return [{ name, dir: true, mode: stat.mode }, ...listTree(root, name)];
    return stat.isFile() ? [{ name, dir: false, mode: stat.mode }] : [];
  });
}

export interface ZipEntryInfo {
  /** Path inside the archive, `/`-separated; directories end with `/`. */
  name: string;
  /** Unix mode bits, 0 when the archive did not record them. */
  mode: number;
  uncompressedBytes: number;
  /** The content, inflated and checked against its CRC-32. */
  read(): Buffer;
}

/** The entries of a zip (any writer's, as long as it needs no zip64), from its central directory. */
export function readZip(zipPath: string): ZipEntryInfo[] {
  const zip = fs.readFileSync(zipPath);
  let end = -1;
  // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`${zipPath} is not a zip archive (no end of central directory).`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntryInfo[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_HEADER)
      throw new Error(`${zipPath}: bad central directory entry ${i}.`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const mode = madeBy === 3 ? zip.readUInt32LE(at + 38) >>> 16 : 0;
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    entries.push({
      name,
      mode,
      uncompressedBytes: size,
      read(): Buffer {
        if (zip.readUInt32LE(localOffset) !== LOCAL_HEADER)
          throw new Error(`${zipPath}: bad local header for ${name}.`);
        const start =
          localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
        const body = zip.subarray(start, start + compressed);
        let data: Buffer;
        if (method === STORE) data = body;
        else if (method === DEFLATE) data = zlib.inflateRawSync(body);
        else
          throw new Error(
            `${zipPath}: ${name} uses compression method ${method}; only store and deflate are read.`,
          );
        if (data.length !== size || zlib.crc32(data) !== crc)
          throw new Error(`${zipPath}: ${name} is corrupt (size or CRC-32).`);
        return data;
      },
    });
  }
  return entries;
}

/** Unpacks `zipPath` into `dir`, keeping recorded modes; refuses names that would leave `dir`. */
export function unzipTo(zipPath: string, dir: string): void {
  const root = path.resolve(dir);
  for (const entry of readZip(zipPath)) {
    const target = path.resolve(root, entry.name);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new Error(`${zipPath}: entry ${entry.name} would be written outside ${dir}.`);
    }
    if (entry.name.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, entry.read());
    if (entry.mode) fs.chmodSync(target, entry.mode & 0o777);
  }
}

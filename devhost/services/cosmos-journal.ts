import fs from 'node:fs';
import path from 'node:path';

import type { CosmosClient } from '@azure/cosmos';
import { z } from 'zod';

import { StartupError } from '../startup-error';

const partitionKeyDefinitionSchema = z.looseObject({ paths: z.array(z.string()) });
/** A database, container or document as the server answers with it. */
const resourceSchema = z.looseObject({ id: z.string() });

/**
 * A write-ahead journal of the local Cosmos server's writes, beside its snapshot. The snapshot
 * is taken when writes pause (at most a second late), so without the journal a kill -9 loses the
 * last writes while the task hub, which persists every step at once, keeps the steps that made
 * them. Each write is appended before its answer leaves the server, so whatever a client was told
 * is on disk; a restart replays the journal on top of the snapshot.
 *
 * Entries hold results, not requests (the document as stored, a deletion by id): replaying one
 * twice, or over a snapshot that already has it, ends in the same state.
 */
const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('database'), db: z.string() }),
  z.object({ op: z.literal('container'), db: z.string(), coll: z.string(), partitionKey: partitionKeyDefinitionSchema.optional() }),
  z.object({ op: z.literal('upsert'), db: z.string(), coll: z.string(), doc: resourceSchema }),
  z.object({ op: z.literal('delete'), db: z.string(), coll: z.string(), id: z.string(), partitionKey: z.array(z.unknown()) }),
]);
export type JournalEntry = z.infer<typeof entrySchema>;

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts'];

/** A document as a client wrote it: the fields the server adds (ids, ETag, timestamp) removed; a copy. */
export function withoutSystemFields<T extends object>(doc: T): T {
  const copy = { ...doc } as Record<string, unknown>;
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy as T;
}

interface WriteRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The entry a successful write leaves (undefined for what is not a database, container or document write). */
export function journalEntryOf(req: WriteRequest, status: number, body: string): JournalEntry | undefined {
  if (status < 200 || status > 299 || !req.url) return undefined;
  const segments = new URL(req.url, 'https://cosmos').pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [dbs, db, colls, coll, docs, id] = segments;
  if (dbs !== 'dbs') return undefined;
  const method = req.method ?? 'GET';
  if (segments.length === 1 && method === 'POST') {
    const database = answered(resourceSchema, body);
    return database ? { op: 'database', db: database.id } : undefined;
  }
  if (colls !== 'colls' || db === undefined) return undefined;
  if (segments.length === 3 && method === 'POST') {
    const container = answered(containerSchema, body);
    return container ? { op: 'container', db, coll: container.id, partitionKey: container.partitionKey } : undefined;
  }
  if (docs !== 'docs' || coll === undefined) return undefined;
  if (method === 'DELETE' && id !== undefined) return { op: 'delete', db, coll, id, partitionKey: partitionKeyOf(req) };
  if (method === 'DELETE') return undefined;
  const doc = answered(resourceSchema, body);
  if (!doc) return undefined;
  return { op: 'upsert', db, coll, doc: withoutSystemFields(doc) };
}

const containerSchema = z.looseObject({ id: z.string(), partitionKey: partitionKeyDefinitionSchema.optional() });

/** The resource a write answered with, when it is one of `schema`'s shape (a batch answers with an array). */
function answered<T>(schema: z.ZodType<T>, body: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function partitionKeyOf(req: WriteRequest): unknown[] {
  const header = req.headers['x-ms-documentdb-partitionkey'];
  if (typeof header !== 'string') return [];
  const value: unknown = JSON.parse(header);
  return Array.isArray(value) ? value : [value];
}

/**
 * The journal's two files: `live` takes new entries; `sealed` holds those a snapshot in progress
 * is taking in, dropped once the snapshot is on disk (kept, and replayed, if it fails).
 */
export class CosmosJournal {
  private readonly sealedFile: string;

  constructor(private readonly file: string) {
    this.sealedFile = `${file}.sealed`;
  }

  append(entry: JournalEntry): void {
    // Synchronous: the entry is in the file before the write's answer is sent. The page cache
    // keeps it through a kill of the process (not through a power cut: a local tool's trade-off).
    fs.appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  /**
   * Everything a snapshot must not lose, oldest first (sealed, then live), read at start before
   * any append. A torn last line (a kill in the middle of an append: no newline after it) was
   * never answered: it is cut off the file, so the next append starts a line of its own, and
   * reported through `warn`. Any other line that is not an entry is corruption: it throws a
   * JournalCorruptError naming the file and line, and nothing is replayed (a silent skip would lose
   * that write, and the snapshot taken after the replay would make the loss permanent).
   */
  entries(warn: (message: string) => void = () => {}): JournalEntry[] {
    return [this.sealedFile, this.file].flatMap((file) => (fs.existsSync(file) ? linesOf(file, warn) : []));
  }

  /** Before a snapshot starts: what is journaled so far moves to `sealed`; later writes go to a new live file. */
  seal(): void {
    if (!fs.existsSync(this.file)) return;
    if (fs.existsSync(this.sealedFile)) {
      // A snapshot before this one failed: its entries stay, these follow them.
      fs.appendFileSync(this.sealedFile, fs.readFileSync(this.file));
      fs.rmSync(this.file);
    } else {
      fs.renameSync(this.file, this.sealedFile);
    }
  }

  /** After a snapshot is on disk: the sealed entries are in it. */
  dropSealed(): void {
    fs.rmSync(this.sealedFile, { force: true });
  }
}

/** The journal has a line that is neither an entry nor a torn last line. */
export class JournalCorruptError extends StartupError {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(
      `${file} line ${line} is not a Cosmos journal entry (${reason}); it holds writes made after the last snapshot, so devhost will not start without them. ` +
        `Repair or remove that line, or move the file away to start from the last snapshot (losing the writes journaled since), or delete ${path.dirname(file)} to start with no local data.`,
    );
    this.name = 'JournalCorruptError';
  }
}

function linesOf(file: string, warn: (message: string) => void): JournalEntry[] {
  const text = fs.readFileSync(file, 'utf8');
  const lastNewline = text.lastIndexOf('\n');
  const tail = text.slice(lastNewline + 1);
  if (tail.trim() !== '') {
    // Only an append a kill cut short ends without its newline; its write was never answered.
    fs.truncateSync(file, Buffer.byteLength(text.slice(0, lastNewline + 1)));
    warn(`${file}: dropped a torn last line (${Buffer.byteLength(tail)} bytes, a write cut short by a kill; it was never answered), kept the ${text.slice(0, lastNewline + 1).split('\n').filter((l) => l.trim() !== '').length} entries before it`);
  }
  const entries: JournalEntry[] = [];
  const lines = text.slice(0, lastNewline + 1).split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new JournalCorruptError(file, i + 1, err instanceof Error ? err.message : String(err));
    }
    const entry = entrySchema.safeParse(value);
    if (!entry.success) throw new JournalCorruptError(file, i + 1, z.prettifyError(entry.error).replace(/\n\s*/g, ' '));
    entries.push(entry.data);
  }
  return entries;
}

/** Applies the entries in order (through the SDK); returns how many were applied. */
export async function replayJournal(client: CosmosClient, entries: readonly JournalEntry[]): Promise<number> {
  for (const entry of entries) {
    const database = client.database(entry.db);
    switch (entry.op) {
      case 'database':
        await client.databases.createIfNotExists({ id: entry.db });
        break;
      case 'container':
        await client.databases.createIfNotExists({ id: entry.db });
        await database.containers.createIfNotExists({ id: entry.coll, ...(entry.partitionKey ? { partitionKey: entry.partitionKey } : {}) });
        break;
      case 'upsert':
        await database.container(entry.coll).items.upsert(entry.doc);
        break;
      case 'delete': {
        const key = entry.partitionKey.length === 1 ? entry.partitionKey[0] : entry.partitionKey;
        await database
          .container(entry.coll)
          .item(entry.id, key as string)
          .delete()
          .catch((error: { code?: number }) => {
            if (error.code !== 404) throw error;
          });
        break;
      }
    }
  }
  return entries.length;
}

import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import path from 'node:path';

import { CosmosClient, type PartitionKeyDefinition } from '@azure/cosmos';
import { z } from 'zod';

import { StartupError } from '../startup-error';
import type { RunningCosmos } from './cosmos';
import { CosmosJournal, journalEntryOf, replayJournal, withoutSystemFields } from './cosmos-journal';

const partitionKeySchema = z.looseObject({ paths: z.array(z.string()), kind: z.string().optional() });
const snapshotSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  databases: z.array(
    z.object({
      id: z.string(),
      containers: z.array(
        z.object({
          id: z.string(),
          partitionKey: partitionKeySchema.optional(),
          items: z.array(z.looseObject({ id: z.string() })),
        }),
      ),
    }),
  ),
});
/** `.local/cosmos.json`: every database, container (with its partition key) and document. */
export type CosmosSnapshot = z.infer<typeof snapshotSchema>;


/** A client for the local server (self-signed certificate, no endpoint discovery). */
export function localCosmosClient(cosmos: Pick<RunningCosmos, 'endpoint' | 'key'>): CosmosClient {
  return new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    agent: new https.Agent({ rejectUnauthorized: false, keepAlive: true }),
    connectionPolicy: { enableEndpointDiscovery: false },
  });
}

/** Reads everything through the SDK (the server keeps its state private). */
export async function dumpCosmos(client: CosmosClient): Promise<CosmosSnapshot> {
  const { resources: dbs } = await client.databases.readAll().fetchAll();
  const databases: CosmosSnapshot['databases'] = [];
  for (const db of dbs) {
    const database = client.database(db.id);
    const { resources: defs } = await database.containers.readAll().fetchAll();
    const containers: CosmosSnapshot['databases'][number]['containers'] = [];
    for (const def of defs) {
      const { resources } = await database.container(def.id).items.readAll().fetchAll();
      const items = resources.map((doc) => withoutSystemFields(doc as { id: string }));
      containers.push({ id: def.id, partitionKey: def.partitionKey as z.infer<typeof partitionKeySchema>, items });
    }
    databases.push({ id: db.id, containers });
  }
  return { version: 1, savedAt: new Date().toISOString(), databases };
}

/** Recreates databases, containers and documents (upsert, so restoring twice is harmless). */
export async function restoreCosmos(client: CosmosClient, snapshot: CosmosSnapshot): Promise<number> {
  let count = 0;
  for (const db of snapshot.databases) {
    const { database } = await client.databases.createIfNotExists({ id: db.id });
    for (const c of db.containers) {
      const { container } = await database.containers.createIfNotExists({
        id: c.id,
        partitionKey: c.partitionKey as PartitionKeyDefinition | undefined,
      });
      for (const item of c.items) {
        await container.items.upsert(item);
        count += 1;
      }
    }
  }
  return count;
}

export function readSnapshotFile(file: string): CosmosSnapshot | undefined {
  if (!fs.existsSync(file)) return undefined;
  const reset = `To start anyway, move it and the journal beside it (${path.basename(journalFileOf(file))}) away to start with no documents, or delete ${path.dirname(file)} to start with no local data.`;
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StartupError(`${file} is not a Cosmos snapshot: not JSON (${err instanceof Error ? err.message : String(err)}). ${reset}`, { cause: err });
  }
  const parsed = snapshotSchema.safeParse(value);
  if (!parsed.success) throw new StartupError(`${file} is not a Cosmos snapshot: ${z.prettifyError(parsed.error)}\n${reset}`);
  return parsed.data;
}

function writeSnapshotFile(file: string, snapshot: CosmosSnapshot): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(snapshot));
  fs.renameSync(tmp, file); // atomic: a crash mid-write leaves the previous snapshot
}

export interface CosmosPersistence {
  /** Documents restored at start, and journal entries replayed after them. */
  restored: number;
  /** Writes a snapshot now if anything changed since the last one. */
  flush(): Promise<void>;
  /** Stops watching and writes a final snapshot. */
  stop(): Promise<void>;
}

/** The journal beside a snapshot file (`.local/cosmos.json` -> `.local/cosmos.journal`). */
export const journalFileOf = (snapshotFile: string): string => snapshotFile.replace(/\.json$/, '') + '.journal';

/** Journals the request's result when the server answers it: the entry is on disk before the answer leaves. */
function journalWrites(req: IncomingMessage, res: ServerResponse, journal: CosmosJournal, onError?: (err: unknown) => void): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    try {
      const entry = journalEntryOf(req, res.statusCode, typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '');
      if (entry) journal.append(entry);
    } catch (err) {
      onError?.(err);
    }
    return end(...args);
  }) as ServerResponse['end'];
}

const isMutation = (req: { method?: string; headers: Record<string, unknown> }): boolean =>
  req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-ms-documentdb-isquery'] === undefined;

/**
 * Keeps the in-memory Cosmos server's documents on disk: restores `file` at start, then watches
 * the server's requests and, after any write (create, upsert, replace, patch, delete, batch),
 * snapshots everything to `file` once writes have paused for `debounceMs`, and no later than
 * `maxDelayMs` after the first unsaved write while writes go on (a busy batch run never pauses);
 * `stop()` writes a last snapshot. Every write between snapshots is journaled before it is
 * answered (`cosmos.journal`, see cosmos-journal.ts) and replayed at start, so a kill -9 loses
 * nothing a client was told. Done through the SDK against the server: nothing private from it.
 */
export async function persistCosmos(
  cosmos: RunningCosmos,
  file: string,
  options: { debounceMs?: number; maxDelayMs?: number; onError?: (err: unknown) => void; onWarning?: (message: string) => void } = {},
): Promise<CosmosPersistence> {
  const client = localCosmosClient(cosmos);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const journal = new CosmosJournal(journalFileOf(file));
  const existing = readSnapshotFile(file);
  const restored = existing ? await restoreCosmos(client, existing) : 0;
  // Writes after the last snapshot (a kill -9 gave it no time to be taken).
  const replayed = await replayJournal(client, journal.entries(options.onWarning));
  const debounceMs = options.debounceMs ?? 500;
  const maxDelayMs = Math.max(debounceMs, options.maxDelayMs ?? 1000);
  let dirty = false;
  /** When the oldest write not in a snapshot finished; undefined when all are saved. */
  let unsavedSince: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(async () => {
      if (!dirty) return;
      dirty = false;
      unsavedSince = undefined;
      try {
        // Sealed before the dump starts: the sealed entries' writes are all in what it reads.
        journal.seal();
        writeSnapshotFile(file, await dumpCosmos(client));
        journal.dropSealed();
      } catch (err) {
        dirty = true;
        options.onError?.(err);
      }
    });
    return writing;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!isMutation(req)) return;
    journalWrites(req, res, journal, options.onError);
    res.once('finish', () => {
      dirty = true;
      const now = Date.now();
      unsavedSince ??= now;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void flush(), Math.max(0, Math.min(debounceMs, unsavedSince + maxDelayMs - now)));
    });
  };
  // First among the listeners: the server's own answers later, after its write, through res.end.
  cosmos.server.prependListener('request', onRequest);
  if (replayed > 0) {
    dirty = true;
    await flush();
  }

  return {
    restored: restored + replayed,
    flush,
    stop: async () => {
      cosmos.server.off('request', onRequest);
      await flush();
    },
  };
}

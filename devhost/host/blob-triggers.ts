import type { BlobClient, BlobItem, BlobServiceClient, ContainerClient } from '@azure/storage-blob';

import type { FunctionInfo, FunctionsWorker, InvokeRequest } from '../worker';
import { ensureContainer, isStatus, resolveSettingRefs, stringOption } from './host-storage';

/** After this many failed invocations a blob version is marked poison and not retried (as the host). */
export const MAX_BLOB_ATTEMPTS = 5;
const LEASE_SECONDS = 60;

export interface BlobTriggerOptions {
  worker: FunctionsWorker;
  hostId: string;
  /** Client for the storage account the triggers watch, by connection setting name. */
  blobService: (connection: string | undefined) => BlobServiceClient;
  /** Where receipts live (`azure-webjobs-hosts` in AzureWebJobsStorage). */
  hostsContainer: ContainerClient;
  pollIntervalMs: number;
  onError?: (functionName: string, err: unknown) => void;
  log?: (message: string) => void;
}

export interface RunningBlobTriggers {
  functions: Array<{ functionName: string; path: string; source: string }>;
  /** Runs one poll of every blob trigger now (tests use it to step deterministically). */
  pollOnce(): Promise<void>;
  stop(): Promise<void>;
}

/** A blob path pattern such as `drops/{model}/{name}` split into container and a name matcher. */
export interface BlobPathPattern {
  container: string;
  /** The literal part of the blob name before the first parameter (the listing prefix). */
  prefix: string;
  match(blobName: string): Record<string, string> | undefined;
}

/**
 * Parses a blob trigger path. Parameters match one or more characters; the last one may span
 * `/` (so `{name}` in `drops/{model}/{name}` is the rest of the path, as the host binds it).
 */
export function parseBlobPath(path: string): BlobPathPattern {
  const clean = path.replace(/^\/+/, '');
  const slash = clean.indexOf('/');
  const container = slash < 0 ? clean : clean.slice(0, slash);
  const namePattern = slash < 0 ? '{name}' : clean.slice(slash + 1);
  if (container.includes('{'))
    throw new Error(`Blob trigger path "${path}": the container name cannot be a parameter.`);
  const names: string[] = [];
  const tokens = namePattern.split(/(\{[^}]+\})/).filter((t) => t.length > 0);
  const paramCount = tokens.filter((t) => t.startsWith('{')).length;
  let seen = 0;
  const source = tokens
    .map((t) => {
      if (!t.startsWith('{')) return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(t.slice(1, -1));
      seen += 1;
      return seen === paramCount ? '(.+)' : '([^/]+?)';
    })
    .join('');
  const re = new RegExp(`^${source}$`);
  const firstParam = namePattern.indexOf('{');
  return {
    container,
    prefix: firstParam < 0 ? namePattern : namePattern.slice(0, firstParam),
    match(blobName) {
      const m = re.exec(blobName);
      if (!m) return undefined;
      return Object.fromEntries(names.map((n, i) => [n, m[i + 1] ?? '']));
    },
  };
}

/**
 * What a blob trigger function is invoked with: the blob's content (at `etag`, when given) and
 * the trigger metadata the host binds (`blobTrigger`, `uri`, `properties`, `metadata` and the
 * path's binding data).
 */
export async function blobTriggerInvocation(
  blobClient: BlobClient,
  blobPath: string,
  params: Record<string, string>,
  etag?: string,
): Promise<InvokeRequest> {
  const content = await blobClient.downloadToBuffer(
    0,
    undefined,
    etag ? { conditions: { ifMatch: etag } } : {},
  );
  const properties = await blobClient.getProperties();
  return {
    triggerValue: content,
    triggerMetadata: {
      ...params,
      BlobTrigger: blobPath,
      Uri: blobClient.url,
      Properties: {
        ETag: properties.etag,
        Length: properties.contentLength,
        ContentType: properties.contentType,
        ContentMD5: properties.contentMD5 ? Buffer.from(properties.contentMD5).toString('base64') : undefined,
        LastModified: properties.lastModified?.toISOString(),
        CreatedOn: properties.createdOn?.toISOString(),
        BlobType: properties.blobType,
      },
      Metadata: properties.metadata ?? {},
    },
  };
}

interface Watch {
  fn: FunctionInfo;
  pattern: BlobPathPattern;
  container: ContainerClient;
  source: string;
}

/**
 * Serves blob triggers (`source: 'LogsAndContainerScan'` or `'EventGrid'` alike) by polling the
 * container. Each blob version (ETag) fires once per function: a receipt blob
 * `blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}` is created before the invocation,
 * leased while it runs and marked `completed` after it succeeds, so a restarted host (or a second
 * one) skips what is done and retries what was interrupted, up to {@link MAX_BLOB_ATTEMPTS}.
 */
export async function startBlobTriggers(options: BlobTriggerOptions): Promise<RunningBlobTriggers> {
  const { worker, hostsContainer } = options;
  const watches: Watch[] = worker.functionsByTrigger('blobTrigger').map((fn) => {
    const pattern = parseBlobPath(
      resolveSettingRefs(stringOption(fn.trigger.path, `${fn.name}: blob trigger path`)),
    );
    const connection = typeof fn.trigger.connection === 'string' ? fn.trigger.connection : undefined;
    return {
      fn,
      pattern,
      container: options.blobService(connection).getContainerClient(pattern.container),
      source: typeof fn.trigger.source === 'string' ? fn.trigger.source : 'LogsAndContainerScan',
    };
  });
  if (watches.length > 0) await ensureContainer(hostsContainer);
  const done = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const fire = async (watch: Watch, blob: BlobItem, params: Record<string, string>): Promise<void> => {
    const etag = (blob.properties.etag ?? '').replace(/"/g, '');
    const key = `${watch.fn.name}|${watch.pattern.container}/${blob.name}|${etag}`;
    if (done.has(key)) return;
    const receipt = hostsContainer.getBlockBlobClient(
      `blobreceipts/${options.hostId}/${watch.fn.name}/${etag}/${watch.pattern.container}/${blob.name}`,
    );
    try {
      await receipt.upload('', 0, { conditions: { ifNoneMatch: '*' }, metadata: { attempts: '0' } });
    } catch (err) {
      if (!isStatus(err, 409, 412)) throw err;
    }
    const finished = (meta: Record<string, string>): boolean =>
      meta.completed === 'true' || meta.poisoned === 'true';
    if (finished((await receipt.getProperties()).metadata ?? {})) {
      done.add(key);
      return;
    }
    const lease = receipt.getBlobLeaseClient();
    try {
      await lease.acquireLease(LEASE_SECONDS);
    } catch (err) {
      if (isStatus(err, 409)) return; // another host is invoking it
      throw err;
    }
    // Read the receipt again under the lease: another host may have completed it between our first
    // read and our lease (it writes `completed` while holding the lease, so this read is final).
    const meta = (await receipt.getProperties()).metadata ?? {};
    if (finished(meta)) {
      done.add(key);
      await lease.releaseLease().catch(() => undefined);
      return;
    }
    const renew = setInterval(
      () => void lease.renewLease().catch(() => undefined),
      (LEASE_SECONDS * 1000) / 2,
    );
    const attempts = Number(meta.attempts ?? '0') + 1;
    const leaseConditions = { conditions: { leaseId: lease.leaseId } };
    try {
      const blobClient = watch.container.getBlobClient(blob.name);
      await worker.invoke(
        watch.fn.name,
        await blobTriggerInvocation(
          blobClient,
          `${watch.pattern.container}/${blob.name}`,
          params,
          blob.properties.etag,
        ),
      );
      await receipt.setMetadata({ attempts: String(attempts), completed: 'true' }, leaseConditions);
      done.add(key);
    } catch (err) {
      if (isStatus(err, 404, 412)) {
        // The blob changed or vanished after listing: this version is gone, the next poll sees the new one.
        await receipt.setMetadata(
          { attempts: String(attempts), completed: 'true', superseded: 'true' },
          leaseConditions,
        );
        done.add(key);
        return;
      }
      const poisoned = attempts >= MAX_BLOB_ATTEMPTS;
      await receipt
        .setMetadata(
          { attempts: String(attempts), ...(poisoned ? { poisoned: 'true' } : {}) },
          leaseConditions,
        )
        .catch(() => undefined);
      if (poisoned) {
        done.add(key);
        options.log?.(
          `Blob ${watch.pattern.container}/${blob.name} failed ${attempts} times in '${watch.fn.name}': poison, not retried.`,
        );
      }
      options.onError?.(watch.fn.name, err);
    } finally {
      clearInterval(renew);
      await lease.releaseLease().catch(() => undefined);
    }
  };

  const pollWatch = async (watch: Watch): Promise<void> => {
    try {
      for await (const blob of watch.container.listBlobsFlat({
        prefix: watch.pattern.prefix,
        includeMetadata: false,
      })) {
        if (stopped) return;
        const params = watch.pattern.match(blob.name);
        if (params) await fire(watch, blob, params);
      }
    } catch (err) {
      if (isStatus(err, 404)) return; // container not created yet
      options.onError?.(watch.fn.name, err);
    }
  };

  const pollOnce = (): Promise<void> => {
    inFlight = inFlight.then(() => Promise.all(watches.map(pollWatch)).then(() => undefined));
    return inFlight;
  };

  const loop = (): void => {
    if (stopped) return;
    void pollOnce().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.pollIntervalMs);
    });
  };
  if (watches.length > 0) loop();

  return {
    functions: watches.map((w) => ({
      functionName: w.fn.name,
      path: stringOption(w.fn.trigger.path, 'path'),
      source: w.source,
    })),
    pollOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}

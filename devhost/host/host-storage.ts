import { BlobServiceClient, type ContainerClient, RestError } from '@azure/storage-blob';

/** The container where the real host keeps its bookkeeping (timer status, blob receipts, locks). */
export const HOSTS_CONTAINER = 'azure-webjobs-hosts';

/** Resolves `%SETTING%` references in binding options from the environment, as the host does. */
export function resolveSettingRefs(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) throw new Error(`App setting "${name}" (referenced as %${name}%) is not set.`);
    return resolved;
  });
}

/**
 * The storage connection string a binding's `connection` option names (default
 * `AzureWebJobsStorage`): as the host, the setting itself, then `AzureWebJobs<name>`, then an
 * identity-style service URI (refused: locally a connection string is needed).
 */
export function storageConnectionString(
  connection: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  service: 'blob' | 'queue' | 'table' = 'blob',
): string {
  const name = connection && connection.length > 0 ? connection : 'AzureWebJobsStorage';
  const value =
    env[name] ??
    env[`AzureWebJobs${name}`] ??
    env[`${name}__${service}ServiceUri`] ??
    (name.includes('=') ? name : undefined);
  if (!value) throw new Error(`Storage connection "${name}" is not set (app setting ${name}).`);
  if (value.startsWith('http')) throw new Error(`Storage connection "${name}" must be a connection string locally.`);
  return value;
}

/** Blob client for a connection string or a connection setting name (`connection` option). */
export function blobServiceFor(connection: string | undefined, env: NodeJS.ProcessEnv = process.env): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(storageConnectionString(connection, env, 'blob'));
}

export async function ensureContainer(container: ContainerClient): Promise<void> {
  try {
    await container.createIfNotExists();
  } catch (err) {
    if (!(err instanceof RestError && err.statusCode === 409)) throw err;
  }
}

export function isStatus(err: unknown, ...codes: number[]): boolean {
  return err instanceof RestError && err.statusCode !== undefined && codes.includes(err.statusCode);
}

/** Reads a small JSON blob; undefined when it does not exist. */
export async function readJsonBlob(container: ContainerClient, name: string): Promise<unknown> {
  try {
    const buf = await container.getBlockBlobClient(name).downloadToBuffer();
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

export async function writeJsonBlob(container: ContainerClient, name: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value);
  await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
    blobHTTPHeaders: { blobContentType: 'application/json' },
  });
}

/** A binding option that must be a non-empty string. */
export function stringOption(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${what} must be a non-empty string.`);
  return value;
}

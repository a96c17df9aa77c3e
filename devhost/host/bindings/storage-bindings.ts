import type { Disposable, FunctionsWorker } from '../../worker';
import { blobServiceFor, ensureContainer, isStatus, storageConnectionString, stringOption } from '../host-storage';
import { resolveBindingExpression } from './expressions';
import {
  createQueueIfNotExists,
  createTableIfNotExists,
  insertTableEntity,
  putQueueMessage,
  storageAccount,
} from './storage-rest';

/** How queue output messages are encoded (host.json `extensions.queues.messageEncoding`). */
export type QueueMessageEncoding = 'base64' | 'none';

export interface StorageBindingOptions {
  env?: NodeJS.ProcessEnv;
  /** Default `base64`, as the Storage Queues extension 5.x. */
  queueMessageEncoding?: QueueMessageEncoding;
}

interface StorageBinding {
  connection?: string;
  path?: string;
  queueName?: string;
  tableName?: string;
  partitionKey?: string;
  rowKey?: string;
  dataType?: string | null;
}

/** A value written as one blob or message: bytes stay bytes, strings stay text, the rest is JSON. */
function asBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return Buffer.from(String(value), 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** An array value is one item per element (queue messages, table entities), as the host's collectors. */
const items = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

function splitBlobPath(path: string, what: string): { container: string; blob: string } {
  const at = path.indexOf('/');
  if (at <= 0 || at === path.length - 1) throw new Error(`${what}: path '${path}' must be 'container/blob'.`);
  return { container: path.slice(0, at), blob: path.slice(at + 1) };
}

/**
 * Blob, queue and table bindings against the app's storage account (Azurite locally):
 * - blob output: one blob at the resolved `path`, overwritten, container created when missing;
 * - blob input: the blob's bytes (a string with `dataType: 'string'`), null when it does not exist;
 * - queue output: one message per value (per element of an array), queue created when missing,
 *   text base64-encoded unless host.json says `messageEncoding: none`;
 * - table output: one new entity per value (insert only: an existing PartitionKey/RowKey fails the
 *   invocation, as the binding "only supports creating new entities"), `partitionKey` / `rowKey`
 *   from the binding when the value has none, table created when missing.
 */
export function installStorageBindings(worker: FunctionsWorker, options: StorageBindingOptions = {}): Disposable {
  const env = options.env ?? process.env;
  const encoding = options.queueMessageEncoding ?? 'base64';
  const resolve = (template: unknown, what: string, data: Record<string, unknown>) =>
    resolveBindingExpression(stringOption(template, what), data, env);

  const disposables = [
    worker.setOutputBindingHandler('blob', async ({ functionName, binding, value, bindingData }) => {
      const b = binding as StorageBinding;
      const where = splitBlobPath(resolve(b.path, `${functionName}: blob output path`, bindingData), `${functionName}: blob output`);
      const container = blobServiceFor(b.connection, env).getContainerClient(where.container);
      await ensureContainer(container);
      const bytes = asBytes(value);
      await container.getBlockBlobClient(where.blob).upload(bytes, bytes.length);
    }),
    worker.setInputBindingProvider('blob', async ({ functionName, binding, bindingData }) => {
      const b = binding as StorageBinding;
      const where = splitBlobPath(resolve(b.path, `${functionName}: blob input path`, bindingData), `${functionName}: blob input`);
      try {
        const content = await blobServiceFor(b.connection, env)
          .getContainerClient(where.container)
          .getBlobClient(where.blob)
          .downloadToBuffer();
        return b.dataType === 'string' ? content.toString('utf8') : content;
      } catch (err) {
        if (isStatus(err, 404)) return null;
        throw err;
      }
    }),
    worker.setOutputBindingHandler('queue', async ({ functionName, binding, value, bindingData }) => {
      const b = binding as StorageBinding;
      const queue = resolve(b.queueName, `${functionName}: queue output queueName`, bindingData).toLowerCase();
      const account = storageAccount(storageConnectionString(b.connection, env, 'queue'));
      await createQueueIfNotExists(account, queue);
      for (const item of items(value)) {
        const bytes = asBytes(item);
        await putQueueMessage(account, queue, encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8'));
      }
    }),
    worker.setOutputBindingHandler('table', async ({ functionName, binding, value, bindingData }) => {
      const b = binding as StorageBinding;
      const table = resolve(b.tableName, `${functionName}: table output tableName`, bindingData);
      const account = storageAccount(storageConnectionString(b.connection, env, 'table'));
      const defaults = {
        ...(b.partitionKey ? { PartitionKey: resolve(b.partitionKey, 'partitionKey', bindingData) } : {}),
        ...(b.rowKey ? { RowKey: resolve(b.rowKey, 'rowKey', bindingData) } : {}),
      };
      await createTableIfNotExists(account, table);
      for (const item of items(value)) {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          throw new Error(`${functionName}: a table output value must be an object (or an array of objects).`);
        }
        const entity = { ...defaults, ...(item as Record<string, unknown>) };
        if (typeof entity.PartitionKey !== 'string' || typeof entity.RowKey !== 'string') {
          throw new Error(`${functionName}: table entity needs string PartitionKey and RowKey (in the value or the binding).`);
        }
        await insertTableEntity(account, table, entity);
      }
    }),
  ];
  return { dispose: () => disposables.forEach((d) => d.dispose()) };
}

/**
 * `mlops lake put|get|ls`: the data lake (the app's Blob Storage data container) from the command
 * line, so datasets, model packages and drops can be uploaded and results fetched without other
 * storage tools. Storage settings as the app reads them: STORAGE_CONNECTION_STRING (locally
 * `UseDevelopmentStorage=true` for `npm start`'s Azurite) or STORAGE_BLOB_SERVICE_URI with an Azure
 * login, and DATA_CONTAINER.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

import type { ContainerClient, StorageRetryOptions } from '@azure/storage-blob';

import { createBlobServiceClient, openDataContainer } from '../shared/adapters/blob/client';
import { BlobDataLake } from '../shared/adapters/blob/data-lake';
import { ConfigError } from '../shared/config';
import { isDomainError } from '../shared/domain/errors';
import { assertLakePath } from '../shared/domain/lake-paths';
import { writeStreamInPlace } from './output-files';

const USAGE = `usage:
  mlops lake put <local-file> <lake-path>    upload a file (e.g. datasets/churn/validation.csv)
  mlops lake get <lake-path> <local-file>    download an object
  mlops lake ls [prefix]                     list objects (path, size, last modified)

Settings: STORAGE_CONNECTION_STRING (local: UseDevelopmentStorage=true, or with
npm start -- --free-ports the one devhost prints) or STORAGE_BLOB_SERVICE_URI, and
DATA_CONTAINER (default mlops).`;

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.parquet': 'application/vnd.apache.parquet',
  '.onnx': 'application/octet-stream',
  '.gz': 'application/gzip',
};

/**
 * Storage retries for a person waiting at the terminal. The SDK's default waits 4 s, then 8 s
 * more, before it reports a refused connection (~16 s); the same 4 tries spaced 0, 0.5 and 1.5 s
 * answer in ~2 s. Only the CLI's client gets these: the app keeps the SDK's default.
 */
const CLI_STORAGE_RETRIES: StorageRetryOptions = { maxTries: 4, retryDelayInMs: 500 };

/** The data lake through a client of the CLI's own, the container opened once per command. */
function cliDataLake(): BlobDataLake {
  let container: Promise<ContainerClient> | undefined;
  return new BlobDataLake(() => (container ??= openDataContainer(createBlobServiceClient({ retryOptions: CLI_STORAGE_RETRIES }))));
}

const contentTypeOf = (file: string) => CONTENT_TYPES[Object.keys(CONTENT_TYPES).find((ext) => file.endsWith(ext)) ?? ''];

export async function lake(args: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  const [action, ...rest] = positionals;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const store = cliDataLake();
  if (action === 'put' && rest.length === 2) {
    const [file, path] = rest as [string, string];
    if (!fs.existsSync(file)) throw new Error(`<local-file>: ${file} does not exist`);
    if (fs.statSync(file).isDirectory()) throw new Error(`<local-file>: ${file} is a folder: put uploads one file`);
    assertLakePath(path); // before the file is opened, so a refused path leaves no open stream
    const contentType = contentTypeOf(file);
    const info = await store.write(path, fs.createReadStream(file), contentType ? { contentType } : {});
    out(`uploaded ${file} -> ${info.path} (${info.size} bytes)`);
    return 0;
  }
  if (action === 'get' && rest.length === 2) {
    const [path, file] = rest as [string, string];
    await writeStreamInPlace(file, await store.read(path));
    out(`downloaded ${path} -> ${file}`);
    return 0;
  }
  if (action === 'ls' && rest.length <= 1) {
    for await (const o of store.list(rest[0] ?? '')) out(`${o.path}\t${o.size}\t${o.lastModified.toISOString()}`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

/**
 * What `mlops lake` prints for a failure. A refused connection gets what to do about it: the
 * usual cause is a devhost not running, or running with --free-ports while the shell still says
 * UseDevelopmentStorage=true (port 10000).
 */
export function lakeFailureMessage(e: unknown): string {
  if (e instanceof ConfigError) return `${e.message}\n\n${USAGE}`;
  if (isDomainError(e)) return `${e.code}: ${e.message}`;
  const message = e instanceof Error ? e.message : String(e);
  if ((e as { code?: unknown } | null)?.code !== 'ECONNREFUSED') return message;
  return (
    `${message}\nnothing answers at the storage address of STORAGE_CONNECTION_STRING: is devhost (npm start) running? ` +
    `With --free-ports its Azurite is not on port 10000: export the STORAGE_CONNECTION_STRING devhost prints at start (the 'mlops lake' line).`
  );
}

export const lakeCommand = {
  summary: 'upload, download and list files in the data lake (Blob Storage)',
  async run(args: string[]): Promise<number> {
    try {
      return await lake(args);
    } catch (e) {
      console.error(lakeFailureMessage(e));
      return e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
    }
  },
};

import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';

import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../services/azurite';
import { connectionStringParts } from './connection-string';

/**
 * Queue and Table storage over their REST APIs (the project has no queue or table SDK), signed
 * with an account SAS made by @azure/storage-blob. Enough for the output bindings and the tests
 * that read what they wrote: create, send / insert, peek / query.
 */
export interface StorageAccount {
  accountName: string;
  queueEndpoint: string;
  tableEndpoint: string;
  /** `sv=...&sig=...`: an account SAS for the queue and table services. */
  sas: string;
}

const X_MS_VERSION = '2021-12-02';

/** Parses a storage connection string (also `UseDevelopmentStorage=true`) and makes an hour-long account SAS. */
export function storageAccount(connectionString: string): StorageAccount {
  const parts = connectionStringParts(connectionString);
  const development = parts.usedevelopmentstorage === 'true';
  const accountName = development ? AZURITE_ACCOUNT : parts.accountname;
  const accountKey = development ? AZURITE_KEY : parts.accountkey;
  if (!accountName || !accountKey) throw new Error('The storage connection string needs AccountName and AccountKey locally.');
  const endpoint = (service: 'queue' | 'table', devPort: number): string => {
    const explicit = parts[`${service}endpoint`];
    if (explicit) return explicit.replace(/\/+$/, '');
    if (development) return `http://127.0.0.1:${devPort}/${AZURITE_ACCOUNT}`;
    const suffix = parts.endpointsuffix ?? 'core.windows.net';
    return `${parts.defaultendpointsprotocol ?? 'https'}://${accountName}.${service}.${suffix}`;
  };
  const sas = generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 3_600_000),
      permissions: AccountSASPermissions.parse('rwdlacup'),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse('qt').toString(),
    },
    new StorageSharedKeyCredential(accountName, accountKey),
  ).toString();
  return { accountName, queueEndpoint: endpoint('queue', 10001), tableEndpoint: endpoint('table', 10002), sas };
}

async function request(url: string, init: RequestInit, ok: number[], what: string): Promise<Response> {
  const res = await fetch(url, { ...init, headers: { 'x-ms-version': X_MS_VERSION, ...init.headers } });
  if (!ok.includes(res.status)) {
    const detail = (await res.text()).replace(/\s+/g, ' ').slice(0, 300);
    throw new StorageRestError(`${what} failed: ${res.status} ${detail}`, res.status);
  }
  return res;
}

export class StorageRestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StorageRestError';
  }
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function createQueueIfNotExists(account: StorageAccount, queue: string): Promise<void> {
  // 201 created, 204 already there with the same metadata.
  await request(`${account.queueEndpoint}/${queue}?${account.sas}`, { method: 'PUT' }, [201, 204], `creating queue '${queue}'`);
}

/** Puts one message; `messageText` is stored as given (the caller encodes it). */
export async function putQueueMessage(account: StorageAccount, queue: string, messageText: string): Promise<void> {
  await request(
    `${account.queueEndpoint}/${queue}/messages?${account.sas}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: `<QueueMessage><MessageText>${xmlEscape(messageText)}</MessageText></QueueMessage>`,
    },
    [201],
    `sending to queue '${queue}'`,
  );
}

/** Up to 32 message texts from the front of a queue, without dequeuing them. */
export async function peekQueueMessages(account: StorageAccount, queue: string): Promise<string[]> {
  const res = await request(
    `${account.queueEndpoint}/${queue}/messages?peekonly=true&numofmessages=32&${account.sas}`,
    { method: 'GET' },
    [200],
    `peeking queue '${queue}'`,
  );
  const xml = await res.text();
  return [...xml.matchAll(/<MessageText>([^<]*)<\/MessageText>/g)].map((m) =>
    (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'),
  );
}

const jsonHeaders = {
  accept: 'application/json;odata=nometadata',
  'content-type': 'application/json',
  prefer: 'return-no-content',
};

export async function createTableIfNotExists(account: StorageAccount, table: string): Promise<void> {
  await request(
    `${account.tableEndpoint}/Tables?${account.sas}`,
    { method: 'POST', headers: jsonHeaders, body: JSON.stringify({ TableName: table }) },
    [201, 204, 409],
    `creating table '${table}'`,
  );
}

/** Inserts a new entity; an existing PartitionKey + RowKey fails with 409 (EntityAlreadyExists). */
export async function insertTableEntity(account: StorageAccount, table: string, entity: Record<string, unknown>): Promise<void> {
  await request(
    `${account.tableEndpoint}/${table}?${account.sas}`,
    { method: 'POST', headers: jsonHeaders, body: JSON.stringify(entity) },
    [201, 204],
    `inserting into table '${table}'`,
  );
}

/** Every entity of a table (optionally filtered with an OData `$filter`), as plain JSON. */
export async function queryTableEntities(
  account: StorageAccount,
  table: string,
  filter?: string,
): Promise<Array<Record<string, unknown>>> {
  const query = filter ? `$filter=${encodeURIComponent(filter)}&` : '';
  const res = await request(
    `${account.tableEndpoint}/${table}()?${query}${account.sas}`,
    { method: 'GET', headers: { accept: 'application/json;odata=nometadata' } },
    [200],
    `querying table '${table}'`,
  );
  const body = (await res.json()) as { value?: Array<Record<string, unknown>> };
  return body.value ?? [];
}

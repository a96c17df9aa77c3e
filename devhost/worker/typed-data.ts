import type { RpcHttpData, RpcTypedData } from './core-types';

/**
 * Encodes a JavaScript value the way devhost hands it to the worker. Objects, strings and numbers
 * travel as `json` so that they round-trip exactly (the library JSON-parses `string` data, which
 * would turn the string "123" into a number); bytes travel as `bytes`.
 */
export function toTypedData(value: unknown): RpcTypedData | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { bytes: value };
  return { json: JSON.stringify(value) };
}

/** Encodes trigger metadata as the host does: strings as `string`, everything else as `json`. */
export function toTypedMetadata(value: unknown): RpcTypedData {
  if (typeof value === 'string') return { string: value };
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { bytes: value };
  return { json: JSON.stringify(value ?? null) };
}

/** The decoded HTTP response of an HTTP output binding. */
export interface HttpResponseData {
  status: number;
  headers: Record<string, string>;
  cookies: unknown[];
  body: Buffer;
}

/** Decodes a value the worker returned (return value or output binding) into JavaScript. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (data == null) return undefined;
  if (data.string != null) return data.string;
  if (data.json != null) return JSON.parse(data.json) as unknown;
  if (data.bytes != null) return Buffer.from(data.bytes);
  if (data.stream != null) return Buffer.from(data.stream);
  if (data.http != null) return fromRpcHttp(data.http);
  if (data.int != null) return Number(data.int);
  if (data.double != null) return data.double;
  if (data.collectionString?.string) return data.collectionString.string;
  if (data.collectionDouble?.double) return data.collectionDouble.double;
  if (data.collectionSint64?.sint64) return data.collectionSint64.sint64.map(Number);
  if (data.collectionBytes?.bytes) return data.collectionBytes.bytes.map((b) => Buffer.from(b));
  return undefined;
}

export function fromRpcHttp(http: RpcHttpData): HttpResponseData {
  const body = http.body == null ? Buffer.alloc(0) : fromTypedData(http.body);
  return {
    status: http.statusCode ? Number(http.statusCode) : 200,
    headers: { ...(http.headers ?? {}) },
    cookies: http.cookies ?? [],
    body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Azure's limit on a request body (the Functions host answers 413 past 100 MB). */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 104_857_600;

/** `DEVHOST_MAX_REQUEST_BODY_BYTES` from the environment: a positive whole number, else the default. */
export function requestBodyLimit(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.DEVHOST_MAX_REQUEST_BODY_BYTES;
  if (text === undefined || text.trim() === '') return DEFAULT_MAX_REQUEST_BODY_BYTES;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new Error(`DEVHOST_MAX_REQUEST_BODY_BYTES must be a positive whole number of bytes, not '${text}'`);
  return n;
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes (DEVHOST_MAX_REQUEST_BODY_BYTES).`);
    this.name = 'BodyTooLargeError';
  }
}

/** True when the request says up front (Content-Length) that its body is over the limit. */
export function declaresTooLarge(req: IncomingMessage, limit: number): boolean {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > limit;
}

/**
 * Reads a request body of at most `limit` bytes: refused from Content-Length before a byte is
 * read, and otherwise as soon as the bytes streamed in pass the limit (chunked bodies), so a
 * body never costs more than the limit in memory. Throws BodyTooLargeError; the caller answers
 * 413 with `closeAfter`.
 */
export function readBodyLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaresTooLarge(req, limit)) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Stop buffering; what still comes is dropped when the response closes the connection.
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      reject(new BodyTooLargeError(limit));
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/**
 * Marks a response as the last on its connection: for answers sent before the request body was
 * read (a 404, 401 or 413), so the rest of an unread body is not kept or waited for.
 */
export function closeAfter(res: ServerResponse): void {
  res.setHeader('connection', 'close');
}

import { type DomainError, errors } from './errors';

/**
 * The largest document the registry and run stores take: Cosmos DB refuses an item over 2 MB of
 * JSON (UTF-8) with 413 and counts its own properties (`_rid`, `_self`, `_etag`, `_attachments`,
 * `_ts`) in it, so 4 KiB are left for them.
 */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024 - 4 * 1024;

/** The UTF-8 length of a document's JSON, counted without encoding it. */
export function documentBytes(doc: unknown): number {
  const json = JSON.stringify(doc) ?? '';
  let bytes = 0;
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < json.length) {
      bytes += 4; // a surrogate pair is one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** PAYLOAD_TOO_LARGE for a document (`what` names it); `bytes` when known. */
export function documentTooLarge(what: string, bytes?: number): DomainError {
  const size = bytes === undefined ? 'more' : `${bytes} bytes of JSON, more`;
  return errors.payloadTooLarge(`${what} is ${size} than the ${MAX_DOCUMENT_BYTES} bytes a stored document may hold: nothing was written`, {
    limit: MAX_DOCUMENT_BYTES,
    ...(bytes === undefined ? {} : { bytes }),
  });
}

/** Refuses a document the store could not hold, before anything is written. */
export function checkDocumentSize(doc: unknown, what: string): void {
  const bytes = documentBytes(doc);
  if (bytes > MAX_DOCUMENT_BYTES) throw documentTooLarge(what, bytes);
}

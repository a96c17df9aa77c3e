import type { HttpRequest } from '@azure/functions';

import { errors } from '../../shared/domain/errors';
import { parseSentJson } from '../../shared/domain/json-text';

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\b/i;

/** The WHATWG labels of UTF-8: JSON exchanged between systems is UTF-8 (RFC 8259). */
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

/** Refuses bytes that are not UTF-8 instead of turning them into U+FFFD (and strips a BOM). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function charsetOf(type: string): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(type)?.[1]?.toLowerCase();
}

function decode(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A request's JSON body, parsed: `undefined` for an absent body when it is optional. The body
 * must be `application/json` in UTF-8, uncompressed (415 for another media type, charset or
 * content coding), and valid UTF-8 (400): decoding another charset as UTF-8 would change the text
 * (`café` in Latin-1 arrived as `caf\uFFFD`) and be scored, stored or compared as another value.
 * `keepInexactNumbers` is parseSentJson's.
 */
export async function readJsonBody(request: HttpRequest, optional: boolean, keepInexactNumbers = false): Promise<unknown> {
  const bytes = new Uint8Array(await request.arrayBuffer());
  const text = decode(bytes);
  if (text !== undefined && text.trim() === '') {
    if (optional) return undefined;
    throw errors.validation('the request needs a JSON body');
  }
  const type = request.headers.get('content-type') ?? '';
  if (!JSON_TYPE.test(type)) throw errors.unsupportedMediaType(`the body must be application/json, not '${type || 'unspecified'}'`);
  const charset = charsetOf(type);
  if (charset !== undefined && !UTF8_LABELS.has(charset)) {
    throw errors.unsupportedMediaType(`the body must be UTF-8 JSON, not charset '${charset}'`, { charset });
  }
  // The Functions host hands the body on as it came: a compressed one would read as garbled JSON.
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw errors.unsupportedMediaType(`the body must be sent uncompressed, not with Content-Encoding '${encoding}'`, { contentEncoding: encoding });
  }
  if (text === undefined) throw errors.validation('the request body is not valid UTF-8: send JSON as UTF-8 text');
  return parseSentJson(text, 'the request body', { keepInexactNumbers });
}

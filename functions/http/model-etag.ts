import type { ModelRecord } from '../../shared/schemas/registry';

/**
 * A model's ETag names its definition's revision, not its stored document: a registration raises
 * the document's `latestVersion` but changes nothing an update decides on, so it must not make a
 * client's `If-Match` stale.
 */
export const modelEtag = (model: Pick<ModelRecord, 'revision'>): string => `"r${model.revision ?? 0}"`;

// No leading zeros: If-Match compares tags character by character, so `"r012"` is not `"r12"`.
const MODEL_ETAG = /^"r(0|[1-9]\d{0,14})"$/;

/**
 * The revisions an `If-Match` header names, for the update to check; undefined when there is no
 * condition (no header, or `*`: the model exists, which the update checks anyway). If-Match
 * compares strongly (RFC 9110 13.1.1): a weak tag (`W/"r1"`) or one this API never gave names no
 * revision, so it fails the condition as a tag of another revision does.
 */
export function ifMatchRevisions(header: string | null): readonly number[] | undefined {
  if (header === null || header.trim() === '' || header.trim() === '*') return undefined;
  return header
    .split(',')
    .map((tag) => MODEL_ETAG.exec(tag.trim())?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number);
}

import { errors } from './errors';

/**
 * What every DataLake adapter accepts besides paths (those are lake-paths.ts): byte ranges, object
 * metadata and the content type. Blob Storage sets the limits; the local lakes apply the same rules
 * so code that works against them works against Azure (test/contracts checks all of them).
 */

/** What Blob Storage records for an object written without a content type. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Blob Storage allows 8 KiB of metadata per object (names and values together). */
const MAX_METADATA_BYTES = 8 * 1024;
/**
 * Lowercase identifiers: Blob Storage wants C# identifiers and compares names case-insensitively
 * (Azurite even lowercases them), so only lowercase names read back as they were written.
 */
const METADATA_NAME = /^[a-z_][a-z0-9_]{0,127}$/;
/** Printable ASCII (values travel as HTTP headers), no surrounding spaces, not empty. */
const METADATA_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Quotes are part of an ETag's wire form; events and listings differ in whether they keep them. */
export const sameEtag = (a: string, b: string) => a.replace(/"/g, '') === b.replace(/"/g, '');

export interface ByteRange {
  offset: number;
  length?: number;
}

/** Throws VALIDATION_ERROR unless the range has a non-negative integer offset and a positive length. */
export function assertByteRange(range: ByteRange | undefined): void {
  if (!range) return;
  const { offset, length } = range;
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    (length !== undefined && (!Number.isSafeInteger(length) || length < 1))
  ) {
    throw errors.validation('a byte range needs a non-negative integer offset and a positive length', {
      offset,
      length,
    });
  }
}

/**
 * The [start, end) of `range` within an object of `size` bytes: a range running past the end is cut
 * there; one starting beyond the end is VALIDATION_ERROR (Blob Storage answers 416).
 */
export function byteRangeWithin(
  path: string,
  range: ByteRange | undefined,
  size: number,
): { start: number; end: number } {
  assertByteRange(range);
  if (!range) return { start: 0, end: size };
  if (range.offset > size) throw byteRangeOutside(path);
  return {
    start: range.offset,
    end: range.length === undefined ? size : Math.min(size, range.offset + range.length),
  };
}

export const byteRangeOutside = (path: string) =>
  errors.validation(`the byte range is outside '${path}'`, { path });

/** Throws VALIDATION_ERROR naming every metadata entry Blob Storage would refuse or alter. */
export function assertLakeMetadata(metadata: Record<string, string> | undefined): void {
  if (!metadata) return;
  const problems: string[] = [];
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name)) problems.push(`name '${name}' is not a lowercase identifier`);
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      problems.push(`value of '${name}' must be printable ASCII, not empty, without surrounding spaces`);
    }
    bytes += name.length + String(value).length;
  }
  if (bytes > MAX_METADATA_BYTES) problems.push(`metadata is ${bytes} bytes, at most ${MAX_METADATA_BYTES}`);
  if (problems.length > 0)
    throw errors.validation(`invalid object metadata: ${problems.join('; ')}`, { problems });
}

/** A write is either write-once or guarded by an ETag, never both. */
export function assertWriteConditions(
  path: string,
  options: { ifNotExists?: boolean; ifMatch?: string },
): void {
  if (options.ifNotExists && options.ifMatch) {
    throw errors.validation('a write is either write-once (ifNotExists) or guarded (ifMatch), not both', {
      path,
    });
  }
}

import { z } from 'zod';

/** Entries on a page of a list route when `?limit=` is not given. */
export const DEFAULT_PAGE_SIZE = 100;
/** The most entries a page may ask for: one answer (and the function's memory) stays bounded. */
export const MAX_PAGE_SIZE = 1000;

/**
 * The most bytes of JSON the entries of one page hold, whatever `?limit=` says: a run or window
 * document can reach 2 MB, so a thousand of them would be gigabytes in the function's memory and
 * on the wire. 4 MiB is also the most Cosmos answers one query page with, and takes a client a few
 * seconds at worst; a page holds at least one entry whatever its size, so paging always progresses.
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** The bytes an entry takes on a page: its JSON, in UTF-8. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

/**
 * How many of `entries`, from the first, a page holds within `maxBytes` (each measured by `bytesOf`,
 * one at a time, stopping at the first that does not fit): always the first, so a page is never
 * empty for want of room. Any list route can cut its page with it and answer the key of the last
 * entry held, so the next page starts right after it.
 */
export function entriesWithinBytes<T>(entries: Iterable<T>, bytesOf: (entry: T) => number, maxBytes: number = MAX_PAGE_BYTES): number {
  let [held, bytes] = [0, 0];
  for (const entry of entries) {
    bytes += bytesOf(entry);
    if (held > 0 && bytes > maxBytes) break;
    held++;
  }
  return held;
}

/**
 * Where a page of a newest-first listing ends: the stored sort time and id of its last entry, so the
 * next page starts after it (keyset paging: robust to documents written between pages, and the
 * same on every store). `at` is null past the entries in time order, among the stored documents
 * whose time cannot be read (listed last, by id). The model list, in name order, keys a page by
 * the last name (`id`) with `at` null; the audit ledger by the last entry's `at` and id.
 */
export const pageKeySchema = z.strictObject({
  at: z.string().max(1024).nullable(),
  id: z.string().min(1).max(1024),
});
export type PageKey = z.infer<typeof pageKeySchema>;

/** The opaque token a page answers for the next one: its key as base64url JSON. */
export function continuationTokenOf(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

const NOT_A_TOKEN = 'not a continuation token this API answered: pass the continuationToken (or follow the nextLink) of the previous page as it came';

/** A token read back: anything but a key this API wrote (truncated, edited, from elsewhere) is an issue on the parameter, not a failure of the store. */
export const continuationTokenSchema = z
  .string()
  .max(4096)
  .transform((token, ctx) => {
    const key = /^[A-Za-z0-9_-]+$/.test(token) ? pageKeySchema.safeParse(jsonOrUndefined(Buffer.from(token, 'base64url').toString('utf8'))) : undefined;
    if (key?.success) return key.data;
    ctx.addIssue({ code: 'custom', message: NOT_A_TOKEN });
    return z.NEVER;
  });

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `?limit=&continuationToken=` of a list route, merged into its query schema. */
export const pageQueryShape = {
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, `a page size is a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `a page size is a whole number from 1 to ${MAX_PAGE_SIZE}`).max(MAX_PAGE_SIZE, `a page size is a whole number from 1 to ${MAX_PAGE_SIZE}`))
    .default(DEFAULT_PAGE_SIZE)
    .describe(`Entries on the page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}); documents that cannot be read count among them. A page of the production loop's documents also stops before its entries pass ${MAX_PAGE_BYTES / 1024 / 1024} MiB of JSON (holding at least one): follow nextLink`),
  continuationToken: continuationTokenSchema.optional().describe('The continuationToken the previous page answered, as it came, with the same filters; absent for the first page'),
};

/** What a page of a list route answers besides its entries: how to get the next one (both null on the last page). */
export const pageLinksShape = {
  /** Pass as `?continuationToken=` (with the same filters) for the next page; null on the last page. */
  continuationToken: z.string().nullable(),
  /** The next page's relative URL, with this request's filters and limit; null on the last page. */
  nextLink: z.string().nullable(),
};
export type PageLinks = { continuationToken: string | null; nextLink: string | null };

import type { PageKey } from '../schemas/paging';

/**
 * Which page of a listing: at most `limit` entries (a whole number, at least 1), after the entry
 * `after` names (from the first when absent). A run-store page also stops before the entry that
 * would take its entries past `maxBytes` of JSON (MAX_PAGE_BYTES when absent; `jsonBytes` of each
 * document as read, or of its `unreadable` entry), holding at least one entry: its `next` is then
 * the key of the last entry it holds.
 */
export interface PageRequest {
  limit: number;
  after?: PageKey;
  maxBytes?: number;
}

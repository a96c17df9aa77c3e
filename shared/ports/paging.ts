import type { PageKey } from '../schemas/paging';

/** Which page of a listing: at most `limit` entries (a whole number, at least 1), after the entry `after` names (from the first when absent). */
export interface PageRequest {
  limit: number;
  after?: PageKey;
}

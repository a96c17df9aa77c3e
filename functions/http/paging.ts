import type { HttpRequest } from '@azure/functions';

import type { PageRequest } from '../../shared/ports/run-store';
import { continuationTokenOf, type PageKey, type PageLinks } from '../../shared/schemas/paging';

/** The page a list route's parsed `?limit=&continuationToken=` ask for. */
export function pageRequest(query: { limit: number; continuationToken?: PageKey | undefined }): PageRequest {
  return { limit: query.limit, ...(query.continuationToken !== undefined ? { after: query.continuationToken } : {}) };
}

/**
 * How to read the page after this one: the token, and this request's URL (path and query as they
 * came: filters and limit kept) with the token in place of the one it carried. Both null on the
 * last page.
 */
export function pageLinks(request: HttpRequest, next: PageKey | null): PageLinks {
  if (next === null) return { continuationToken: null, nextLink: null };
  const continuationToken = continuationTokenOf(next);
  const url = new URL(request.url);
  url.searchParams.set('continuationToken', continuationToken);
  return { continuationToken, nextLink: `${url.pathname}${url.search}` };
}

import type { HttpRequest } from '@azure/functions';

import { errors } from '../../shared/domain/errors';

/**
 * The request's query parameters by name, each given once. A repeated one (`?state=failed&state=completed`)
 * is refused: hosts keep one of the values (devhost the last) or join them, so a client asking
 * for two would silently get one filter. Repeats are found in the URL itself, which every host
 * passes on as it came.
 */
export function queryOf(request: HttpRequest): Record<string, string> {
  const names = [...new URL(request.url).searchParams.keys()];
  const repeated = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
  if (repeated.length > 0) {
    const listed = repeated.map((n) => `'${n}'`).join(', ');
    throw errors.validation(`the query names ${listed} more than once: give each parameter once`, { repeated });
  }
  return Object.fromEntries(request.query.entries());
}

/** Query parameters of the API: each given once, so no filter a client asked for is silently dropped. */
import { HttpRequest } from '@azure/functions';

import { queryOf } from '../../../functions/http/query';

/** A GET as devhost hands it to the worker: the query map keeps the last value of a repeated name. */
const get = (search: string) => {
  const url = `http://localhost/api/models/demand/runs${search}`;
  return new HttpRequest({ method: 'GET', url, query: Object.fromEntries(new URL(url).searchParams.entries()) });
};

describe('the query of a request', () => {
  it('when each parameter is given once, then they are read by name', () => {
    expect(queryOf(get('?state=failed&from=2026-01-01T00%3A00%3A00Z'))).toEqual({ state: 'failed', from: '2026-01-01T00:00:00Z' });
    expect(queryOf(get(''))).toEqual({});
  });

  it('when a parameter is repeated, then it is a 400 naming it, not the last value taken as the only filter', () => {
    expect(() => queryOf(get('?state=failed&state=completed'))).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', message: "the query names 'state' more than once: give each parameter once", details: { repeated: ['state'] } }),
    );
    expect(() => queryOf(get('?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&from=2026-03-01T00:00:00Z'))).toThrow(expect.objectContaining({ details: { repeated: ['from'] } }));
  });
});

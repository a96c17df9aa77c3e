/** The body of POST /models/{model}/score: what a hostile or careless client sends costs a bounded answer. */
import '../../../functions/http/score';

import { HttpRequest } from '@azure/functions';
import type { z } from 'zod';

import { apiRoutes } from '../../../functions/http/api';
import { readJsonBody } from '../../../functions/http/json-body';
import { isDomainError, parseOrThrow } from '../../../shared/domain/errors';
import { jsonRows } from '../../../shared/domain/json-rows';

const saved = { ...process.env };
let body: { json: z.ZodType; bound: (json: unknown) => void; keepInexactNumbers?: boolean };

beforeAll(() => {
  // Read on first use (the route's bound), after this.
  process.env.STORAGE_CONNECTION_STRING = 'UseDevelopmentStorage=true';
  process.env.SCORE_MAX_ROWS = '5';
  body = apiRoutes.find((r) => r.name === 'scoreRows')!.body as typeof body;
});

afterAll(() => {
  process.env = saved;
});

/** What the route does with a parsed JSON body before its handler: the bound, then the schema. */
function read(json: unknown) {
  try {
    body.bound(json);
    return { value: parseOrThrow(body.json, json, 'request body') as { rows: Record<string, unknown>[] } };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return { error };
  }
}

/** The body as the route reads its text (defineRoute's readJsonBody with the route's options), then `read`. */
async function readText(text: string) {
  const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/models/demand/score', body: { string: text }, headers: { 'content-type': 'application/json' } });
  return read(await readJsonBody(request, false, body.keepInexactNumbers === true));
}

describe('the body of POST /score', () => {
  it('when a row holds a great many fields that are no cells, then it is one 400 issue naming the first, not a stack overflow (500)', () => {
    const row = Object.fromEntries(Array.from({ length: 200_000 }, (_, k) => [`f${k}`, [k]]));
    const { error } = read({ rows: [{ id: 'a' }, row] });
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { issues: [{ path: 'rows.1.f0', message: "'f0' is an array: a field holds a string, a number, true, false or null" }] } });
  });

  it('when there are more rows than SCORE_MAX_ROWS, then it is a 413 before any row is parsed, however bad the rows', () => {
    expect(read({ rows: Array.from({ length: 6 }, () => [1]) }).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 5 } });
    expect(read({ rows: Array.from({ length: 5 }, () => ({ id: 'a' })) }).value?.rows).toHaveLength(5);
    expect(read({ rows: Array.from({ length: 5 }, () => [1]) }).error).toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('when a number is past the range of a double (1e309), then its row reads it as an infinity (rejected not_finite), not the whole request refused', () => {
    const { value } = read(JSON.parse('{"rows":[{"id":"a","x1":1e309,"x2":-1e309},{"id":"b","x1":1}]}'));
    expect(value?.rows).toEqual([{ id: 'a', x1: Infinity, x2: -Infinity }, { id: 'b', x1: 1 }]);
    const rows = jsonRows(value!.rows as never);
    expect([rows.number(1, 0), rows.number(2, 0), rows.number(1, 1)]).toEqual([Infinity, -Infinity, 1]);
  });

  it('when an id is 1e400, then it stays a number the rows call lossy, not the text "Infinity" a string id could be', () => {
    const { value } = read(JSON.parse('{"rows":[{"id":1e400},{"id":"Infinity"}]}'));
    const rows = jsonRows(value!.rows as never);
    expect([rows.lossyNumber!(0, 0), rows.lossyNumber!(0, 1)]).toEqual([true, false]);
  });

  it('when an id is a number the double does not hold as written (more digits than it keeps), then the rows call it lossy; numbers that round-trip and features are read as doubles', async () => {
    const { value } = await readText('{"rows":[{"id":0.12345678901234567891,"x1":0.12345678901234567891},{"id":1234567890.123456789},{"id":1.5},{"id":1e3},{"id":0.1}]}');
    const rows = jsonRows(value!.rows as never);
    expect(value!.rows.map((_, r) => rows.lossyNumber!(0, r))).toEqual([true, true, false, false, false]);
    expect(value!.rows.map((_, r) => rows.text(0, r))).toEqual(['0.12345678901234568', '1234567890.1234567', '1.5', '1000', '0.1']);
    expect([rows.number(1, 0), rows.lossyNumber!(1, 0)]).toEqual([0.12345678901234568, true]);
  });

  it('when rows, fields and cells are as documented, then they are read as sent', () => {
    const rows = [{ id: 'a', x1: -0, x2: '2', region: null, flag: true }];
    expect(read({ rows, version: 2 }).value).toEqual({ rows, version: 2 });
    expect(read({ rows: [{ id: { a: 1 } }] }).error).toMatchObject({ details: { issues: [{ path: 'rows.0.id', message: expect.stringMatching(/is an object/) }] } });
    expect(read({ rows: [1, null] }).error).toMatchObject({ details: { issues: [{ path: 'rows.0' }, { path: 'rows.1' }] } });
  });
});

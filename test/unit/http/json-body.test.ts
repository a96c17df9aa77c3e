/** How a JSON request body is read: UTF-8 only, never turned into other text on the way. */
import { gzipSync } from 'node:zlib';

import { HttpRequest } from '@azure/functions';
import fc from 'fast-check';

import { readJsonBody } from '../../../functions/http/json-body';
import { InexactJsonNumber } from '../../../shared/domain/json-number';
import { scanJsonText } from '../../../shared/domain/json-text-scan';

const request = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  new HttpRequest({ method: 'POST', url: 'http://localhost/api/models/demand/score', body: { bytes: Buffer.from(body) }, headers });

describe('a JSON request body', () => {
  it('when it is UTF-8 JSON (a BOM, charset=utf-8 in any spelling), then it is parsed as sent', async () => {
    await expect(readJsonBody(request('{"id":"café"}'), false)).resolves.toEqual({ id: 'café' });
    await expect(readJsonBody(request('\uFEFF{"id":"café"}'), false)).resolves.toEqual({ id: 'café' });
    for (const type of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; charset=utf8', 'application/problem+json']) {
      await expect(readJsonBody(request('{"id":"café"}', { 'content-type': type }), false)).resolves.toEqual({ id: 'café' });
    }
  });

  it('when its bytes are not UTF-8, then it is a 400, not text with U+FFFD in place of what was sent', async () => {
    const latin1 = Buffer.from('{"id":"café"}', 'latin1');
    await expect(readJsonBody(request(latin1), false)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/not valid UTF-8/) });
  });

  it('when it declares a charset other than UTF-8, then it is a 415 naming the charset', async () => {
    const latin1 = Buffer.from('{"id":"café"}', 'latin1');
    await expect(readJsonBody(request(latin1, { 'content-type': 'application/json; charset=ISO-8859-1' }), false)).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: "the body must be UTF-8 JSON, not charset 'iso-8859-1'",
    });
    await expect(readJsonBody(request('{"rows":[]}', { 'content-type': 'application/json; charset=utf-16' }), false)).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  });

  it('when it is compressed (Content-Encoding gzip), then it is a 415 saying so, not a 400 about garbled JSON', async () => {
    const gzipped = gzipSync('{"rows":[]}');
    await expect(readJsonBody(request(gzipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), false)).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: "the body must be sent uncompressed, not with Content-Encoding 'gzip'",
    });
    await expect(readJsonBody(request('{}', { 'content-type': 'application/json', 'content-encoding': 'identity' }), false)).resolves.toEqual({});
  });

  it('when it is absent, then an optional body is undefined and a required one a 400; another media type is a 415', async () => {
    await expect(readJsonBody(request('', {}), true)).resolves.toBeUndefined();
    await expect(readJsonBody(request(' \n', {}), false)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: 'the request needs a JSON body' });
    await expect(readJsonBody(request('{}', { 'content-type': 'text/plain' }), false)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expect(readJsonBody(request('{', {}), false)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expect(readJsonBody(request('{'), false)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/not valid JSON/) });
  });
});

describe('names in a JSON request body', () => {
  it('when an object names a field twice, then it is a 400 naming it, not the last value silently kept', async () => {
    const twice = '{"rows":[{"id":"a","x1":1,"x2":2,"x1":5}]}';
    await expect(readJsonBody(request(twice), false)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { repeated: 'x1' }, message: "the request body names 'x1' twice in one object: each name once" });
    await expect(readJsonBody(request('{"evidenceHash":"a","comment":"x","evidenceHash":"b"}'), false)).rejects.toMatchObject({ details: { repeated: 'evidenceHash' } });
    // Escapes are names as decoded: "\u0061" is "a".
    await expect(readJsonBody(request('{"a":1,"\\u0061":2}'), false)).rejects.toMatchObject({ details: { repeated: 'a' } });
  });

  it('when an object has a member named __proto__, then it is a 400 saying where, not a member the schema drops without a word', async () => {
    await expect(readJsonBody(request('{"policies": {"__proto__": {"approval": {"timeout": "P1D"}}}}'), false)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: "the request body has a member named '__proto__' (at $.policies.__proto__): no field is named so",
    });
  });

  it('when the same name is in different objects, or a value is text like a name, then the body is read', async () => {
    const body = '{"rows":[{"id":"a","x1":1},{"id":"b","x1":2,"n":{"id":"c","s":"\\"id\\", \\"x1\\": {[,"}}],"id":"top","list":["id","id"]}';
    await expect(readJsonBody(request(body), false)).resolves.toEqual(JSON.parse(body));
    await expect(readJsonBody(request('[{},{"a":1},[{"a":1,"b":{}}],{"a":2}]'), false)).resolves.toHaveLength(4);
  });

  it('when a number\'s text is more than the double it reads as holds, then the scan says where it is, with its text; strings of digits are no numbers', () => {
    const text = '{"rows":[{"id":0.12345678901234567891,"x":[1.5,1234567890.123456789e0]},{"id":"0.12345678901234567891","\\u0061":1e3}],"n":-9007199254740993}';
    expect(scanJsonText(text, Infinity)).toEqual({ tooDeep: false });
    expect(scanJsonText(text, Infinity, true)).toEqual({
      tooDeep: false,
      inexactNumbers: [
        { path: ['rows', 0, 'id'], text: '0.12345678901234567891' },
        { path: ['rows', 0, 'x', 1], text: '1234567890.123456789e0' },
        { path: ['n'], text: '-9007199254740993' },
      ],
    });
    expect(scanJsonText('[0.1, 1e3, -0, 1.5, {"a": [2, 0.30000000000000004]}]', Infinity, true)).toEqual({ tooDeep: false });
    expect(scanJsonText('1e400', Infinity, true)).toEqual({ tooDeep: false, inexactNumbers: [{ path: [], text: '1e400' }] });
  });

  it('when a route keeps inexact numbers, then the body holds each with its text; otherwise the double JSON reads', async () => {
    const body = '{"rows":[{"id":0.12345678901234567891,"x1":0.1},{"id":1e3}]}';
    await expect(readJsonBody(request(body), false)).resolves.toEqual(JSON.parse(body));
    await expect(readJsonBody(request(body), false, true)).resolves.toStrictEqual({
      rows: [{ id: new InexactJsonNumber('0.12345678901234567891', 0.12345678901234568), x1: 0.1 }, { id: 1000 }],
    });
  });

  it('when any JSON is written by JSON.stringify (names unique, numbers as the double\'s shortest text), then no name is taken for a repeated one, nor a number for inexact', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => expect(scanJsonText(JSON.stringify(value) ?? 'null', Infinity, true)).toEqual({ tooDeep: false })), { numRuns: 2000 });
  });
});

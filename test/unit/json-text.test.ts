import { InexactJsonNumber } from '../../shared/domain/json-number';
import { MAX_SENT_JSON_DEPTH, parseJsonText, parseSentJson } from '../../shared/domain/json-text';

describe('JSON text from files and request bodies', () => {
  it('when the text starts with a byte-order mark, then it is parsed without it', () => {
    expect(parseJsonText('\uFEFF{"a": 1}')).toEqual({ a: 1 });
  });

  it('when the text is JSON without a mark, then it is parsed as is; a mark anywhere else is still refused', () => {
    expect(parseJsonText('[1, "x"]')).toEqual([1, 'x']);
    expect(() => parseJsonText('{"a": 1}\uFEFF')).toThrow(SyntaxError);
    expect(() => parseJsonText('\uFEFF\uFEFF{}')).toThrow(SyntaxError);
  });

  it('when sent JSON has a member named __proto__ at any depth, then it is refused with where, since schemas would drop it silently', () => {
    for (const [text, path] of [
      ['{"__proto__": {"a": 1}}', '$.__proto__'],
      ['{"policies": {"drift": {"__proto__": {}}}}', '$.policies.drift.__proto__'],
      ['{"rows": [{"id": 1}, {"id": 2, "__proto__": null}]}', '$.rows[1].__proto__'],
    ]) {
      expect(() => parseSentJson(text!, 'the request body')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', message: `the request body has a member named '__proto__' (at ${path}): no field is named so` }));
    }
    expect(parseSentJson('{"proto": {"__proto": 1}, "a": ["__proto__"]}', 'the request body')).toEqual({ proto: { __proto: 1 }, a: ['__proto__'] });
  });

  it('when sent JSON nests arrays or objects deeper than MAX_SENT_JSON_DEPTH (half a million levels parse in 1 MB), then it is a validation error saying so, not a stack overflow; at the limit, and with brackets inside strings, it reads', () => {
    const deep = (levels: number, open: string, close: string) => `{"owners": ${open.repeat(levels - 1)}${close.repeat(levels - 1)}}`;
    const refused = expect.objectContaining({ code: 'VALIDATION_ERROR', message: `the request body nests arrays and objects more than ${MAX_SENT_JSON_DEPTH} levels deep: no field takes so deep a value` });
    expect(() => parseSentJson(deep(500_000, '[', ']'), 'the request body')).toThrow(refused);
    expect(() => parseSentJson(`{"policies": ${'{"a": '.repeat(200_000)}1${'}'.repeat(200_000)}}`, 'the request body')).toThrow(refused);
    expect(() => parseSentJson(deep(MAX_SENT_JSON_DEPTH + 1, '[', ']'), 'the request body')).toThrow(refused);
    expect(parseSentJson(deep(MAX_SENT_JSON_DEPTH, '[', ']'), 'the request body')).toEqual({ owners: expect.any(Array) });
    const brackets = `{"description": "${'[{'.repeat(100)} \\" ${'}]'.repeat(100)}", "owners": [[["a"]]]}`;
    expect(parseSentJson(brackets, 'the request body')).toEqual(JSON.parse(brackets));
  });

  it('when sent text holds half of a surrogate pair (an escape such as \\ud800 alone, in a value or a name), then it is refused with where, since no character is stored and UTF-8 events would carry another; whole pairs read', () => {
    for (const [text, path] of [
      ['{"description": "bad \\ud800 half"}', '$.description'],
      ['{"reason": "x", "owners": ["a", "\\udfff"]}', '$.owners[1]'],
      ['{"policies": {"\\ud83dx": 1}}', '$.policies.\\ud83dx'],
      ['{"a": "\\udc00\\ud800"}', '$.a'],
    ]) {
      expect(() => parseSentJson(text!, 'the request body')).toThrow(
        expect.objectContaining({ code: 'VALIDATION_ERROR', message: `the request body has text that is not Unicode at ${path}: half of a surrogate pair (an escape such as \\ud83d without its other half); send whole characters` }),
      );
    }
    expect(parseSentJson('{"description": "\\ud83d\\ude00 😀 \\u00e9"}', 'the request body')).toEqual({ description: '😀 😀 é' });
  });

  it('when numbers are kept with their text, then each one the double does not hold is an InexactJsonNumber where it was, at any depth and at the top', () => {
    const kept = parseSentJson('[{"a": {"b": [0.1, 12345678901234567890]}}, 1234567890.123456789]', 'the body', { keepInexactNumbers: true });
    expect(kept).toStrictEqual([{ a: { b: [0.1, new InexactJsonNumber('12345678901234567890', 12345678901234567000)] } }, new InexactJsonNumber('1234567890.123456789', 1234567890.1234567)]);
    expect(parseSentJson('0.12345678901234567891', 'the body', { keepInexactNumbers: true })).toStrictEqual(new InexactJsonNumber('0.12345678901234567891', 0.12345678901234568));
    expect(parseSentJson('[12345678901234567890]', 'the body')).toEqual([12345678901234567000]);
  });
});


import { parseJsonText } from '../../shared/domain/json-text';

describe('JSON text from files and request bodies', () => {
  it('when the text starts with a byte-order mark, then it is parsed without it', () => {
    expect(parseJsonText('\uFEFF{"a": 1}')).toEqual({ a: 1 });
  });

  it('when the text is JSON without a mark, then it is parsed as is; a mark anywhere else is still refused', () => {
    expect(parseJsonText('[1, "x"]')).toEqual([1, 'x']);
    expect(() => parseJsonText('{"a": 1}\uFEFF')).toThrow(SyntaxError);
    expect(() => parseJsonText('\uFEFF\uFEFF{}')).toThrow(SyntaxError);
  });
});

/** Rows given as JSON (POST /models/{model}/score) read as the batch readers read a file's cells. */
import fc from 'fast-check';

import { parseNumberBytes } from '../../../shared/adapters/tabular/parse-number';
import { jsonRows } from '../../../shared/domain/json-rows';

const csvNumber = (text: string) => {
  const bytes = Buffer.from(text, 'latin1');
  return parseNumberBytes(bytes, 0, bytes.length);
};
const jsonNumber = (text: string) => jsonRows([{ x: text }]).number(0, 0);

describe('JSON rows', () => {
  it.each(['0x10', '0b11', '0o7', '\t5', '5\n', '1_000', 'inf', '-Infinity', 'NaN', ' 12 ', '+.5', '5.e3', '1e', '-', '.', '1e400', '007'])(
    'when a numeric field is the text %p, then it reads as the same number as in a CSV drop',
    (text) => {
      expect(jsonNumber(text)).toBe(csvNumber(text));
    },
  );

  it('when numeric fields are any short text of number-like characters, then they read as in a CSV drop', () => {
    const chars = fc.constantFrom(...'0123456789+-.eExXbBoO_ infatyINFATY\t'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { minLength: 1, maxLength: 12 }).map((c) => c.join('')), (text) => {
        fc.pre(text.trim() !== '');
        expect(jsonNumber(text)).toBe(csvNumber(text));
      }),
      { numRuns: 5000 },
    );
  });
});

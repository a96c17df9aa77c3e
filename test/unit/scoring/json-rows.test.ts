/** Rows given as JSON (POST /models/{model}/score) read as the batch readers read a file's cells. */
import fc from 'fast-check';

import { parseNumberBytes } from '../../../shared/adapters/tabular/parse-number';
import { InexactJsonNumber } from '../../../shared/domain/json-number';
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

  it('when a cell is a number JSON may have rounded (a whole number past 2^53 - 1, an infinity), then it is lossy; text, fractions and safe whole numbers are not', () => {
    const cells = [2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53), 1e21, Infinity, -Infinity, 0.1, -0, '9007199254740993', true, null];
    const rows = jsonRows(cells.map((x) => ({ x })));
    expect(cells.map((_, r) => rows.lossyNumber!(0, r))).toEqual([false, false, true, true, true, true, true, false, false, false, false, false]);
  });

  it('when a cell is a number kept with text the double does not hold, then it is lossy, read as that double and written as its text', () => {
    const rows = jsonRows([{ x: new InexactJsonNumber('0.12345678901234567891', 0.12345678901234568) }, { x: 0.12345678901234568 }]);
    expect([rows.lossyNumber!(0, 0), rows.number(0, 0), rows.text(0, 0), rows.isEmpty(0, 0)]).toEqual([true, 0.12345678901234568, '0.12345678901234568', false]);
    expect(rows.lossyNumber!(0, 1)).toBe(false);
  });

  it('when a row lacks a field another row has, then it is missing there, even when named like an Object.prototype member', () => {
    const rows = jsonRows([{ id: 'a', constructor: 'x', toString: '1' }, { id: 'b' }]);
    expect(rows.columns).toEqual(['id', 'constructor', 'toString']);
    expect([rows.isEmpty(1, 1), rows.text(1, 1), rows.isEmpty(2, 1), rows.number(2, 1)]).toEqual([true, null, true, NaN]);
    expect([rows.text(1, 0), rows.number(2, 0)]).toEqual(['x', 1]);
  });
});

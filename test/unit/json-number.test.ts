import fc from 'fast-check';

import { doubleHoldsNumberText, InexactJsonNumber } from '../../shared/domain/json-number';

/** `text` (a double's shortest text) with its mantissa's fraction made longer by `tail`: `1e+21` and `00001` give `1.00001e+21`. */
function withFractionTail(text: string, tail: string): string {
  const [mantissa, exponent] = text.split('e') as [string, string | undefined];
  return `${mantissa}${mantissa.includes('.') ? '' : '.'}${tail}${exponent === undefined ? '' : `e${exponent}`}`;
}

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('whether a double holds a JSON number as written', () => {
  it('when a number has more significant digits than a double keeps, then it is not held; numbers that round-trip are', () => {
    for (const text of ['1.5', '1e3', '1E+3', '0.1', '-0', '0', '100.000', '0.25', '9007199254740991', '9007199254740992', '1e21', '5e-324', '1.7976931348623157e308', '0.30000000000000004']) {
      expect([text, doubleHoldsNumberText(text)]).toEqual([text, true]);
    }
    for (const text of ['0.12345678901234567891', '1234567890.123456789', '-1234567890.123456789', '9007199254740993', '12345678901234567890', '0.10000000000000000001', '1e400', '-1e400', '1e-400', '2e-324']) {
      expect([text, doubleHoldsNumberText(text)]).toEqual([text, false]);
    }
  });

  it('when any double is written as JSON writes it, with trailing zeros or in a longer exponent form, then it is held', () => {
    fc.assert(
      fc.property(finiteDouble, fc.nat({ max: 30 }), (value, zeros) => {
        expect(doubleHoldsNumberText(JSON.stringify(value))).toBe(true);
        expect(doubleHoldsNumberText(withFractionTail(String(value), '0'.repeat(zeros + 1)))).toBe(true);
        expect(doubleHoldsNumberText(`${String(value).replace(/e.*$/, '')}e${Number(String(value).split('e')[1] ?? 0)}`)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('when any double but zero has a digit added far past the ones it keeps, then the double JSON reads does not hold the number sent', () => {
    fc.assert(
      fc.property(finiteDouble, fc.integer({ min: 20, max: 40 }), fc.integer({ min: 1, max: 9 }), (value, zeros, digit) => {
        fc.pre(value !== 0); // a digit added to zero is a number of its own
        const sent = withFractionTail(String(value), `${'0'.repeat(zeros)}${digit}`);
        // Mostly the same double; the next one when its shortest text was a tie (22145267521327970).
        expect(doubleHoldsNumberText(sent)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('when an inexact number is written back as JSON, then it is the double it reads as', () => {
    expect(JSON.stringify({ id: new InexactJsonNumber('0.12345678901234567891', 0.12345678901234568) })).toBe('{"id":0.12345678901234568}');
  });
});

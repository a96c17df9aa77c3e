import { Readable } from 'node:stream';

import fc from 'fast-check';

import { parseCsvWindow } from '../../../shared/adapters/tabular/csv-parser';
import { readCsv } from '../../../shared/adapters/tabular/csv-reader';
import type { RawRows } from '../../../shared/domain/raw-rows';

const COLUMNS = ['a', 'b', 'c', 'd'];

/** Cells that take every branch: plain decimals (the fused path) and everything it hands back. */
const cell = fc.oneof(
  fc.constantFrom('12.5', '-0.001', '7', '0', '-0', '00012', '5.', '.5', '-', '.', '1234567890123456', '0.12345678901234567890123'),
  fc.constantFrom('1e5', ' 3', '4 ', '+4', 'NaN', 'inf', '-Infinity', '', 'abc', '1.2.3', '12x'),
  fc.constantFrom('"1.5"', '"a,b"', '"x""y"', '"line\nbreak"', 'é', '2024-03-01T10:00:00Z', '"2024-03-01"', 'x"y"'),
  fc.double({ noNaN: true }).map(String),
  fc.integer({ min: -1e6, max: 1e6 }).map((n) => (n / 1000).toFixed(3)),
);

const row = fc.array(cell, { minLength: 1, maxLength: 6 }).map((cells) => cells.join(','));
const csvBody = fc
  .record({
    rows: fc.array(fc.oneof({ weight: 8, arbitrary: row }, { weight: 1, arbitrary: fc.constant('') }), { minLength: 1, maxLength: 25 }),
    eol: fc.constantFrom('\n', '\r\n'),
    trailingEol: fc.boolean(),
  })
  .map(({ rows, eol, trailingEol }) => rows.join(eol) + (trailingEol ? eol : ''));

/** Everything a consumer can observe about one batch. */
function observe(rows: RawRows, withTake: boolean) {
  const seen: unknown[] = [];
  const widest = Math.max(COLUMNS.length, ...Array.from({ length: rows.rowCount }, (_, r) => rows.fieldCount(r)));
  for (let c = 0; c < widest; c += 1) {
    const out = new Float64Array(rows.rowCount);
    rows.numbers!(c, out);
    seen.push(['numbers', c, Array.from(out, (v) => Object.is(v, -0) ? '-0' : v)]);
  }
  for (let r = 0; r < rows.rowCount; r += 1) {
    seen.push([rows.rowNumber(r), rows.fieldCount(r), rows.defect(r), rows.rawCells(r), rows.rawBytes?.(r)]);
    for (let c = 0; c < widest; c += 1) {
      const n = rows.number(c, r);
      seen.push([rows.isEmpty(c, r), Object.is(n, -0) ? '-0' : n, rows.text(c, r), rows.symbol?.(c, r), rows.epochMillis?.(c, r)]);
    }
  }
  if (withTake) {
    for (let c = 0; c < COLUMNS.length; c += 1) {
      const expected = new Float64Array(rows.rowCount);
      rows.numbers!(c, expected);
      const taken = rows.takeNumbers?.(c);
      if (taken) expect(Array.from(taken)).toEqual(Array.from(expected));
      // Handed over: asking again parses from the bytes and gives the same numbers.
      const again = new Float64Array(rows.rowCount);
      rows.numbers!(c, again);
      expect(Array.from(again)).toEqual(Array.from(expected));
    }
  }
  return seen;
}

async function readAll(text: string, windowBytes: number, numericColumns?: string[]) {
  const batches: RawRows[] = [];
  const source = Readable.from([Buffer.from(`${COLUMNS.join(',')}\n${text}`)]);
  for await (const b of readCsv(source, { windowBytes, ...(numericColumns ? { numericColumns } : {}) })) batches.push(b);
  return batches;
}

describe('CSV numbers parsed while tokenizing', () => {
  it('when columns are hinted as numeric, then every cell, number, defect and row reads exactly as without the hint', async () => {
    await fc.assert(
      fc.asyncProperty(csvBody, fc.integer({ min: 8, max: 200 }), fc.subarray(COLUMNS), async (text, windowBytes, numeric) => {
        const plain = await readAll(text, windowBytes);
        const hinted = await readAll(text, windowBytes, numeric);
        expect(hinted.map((b) => observe(b, true))).toEqual(plain.map((b) => observe(b, false)));
      }),
      { numRuns: 400 },
    );
  });

  it('when a hinted column holds plain decimals, then the reader hands them over parsed, with NaN for absent cells', () => {
    const { rows } = parseCsvWindow(Buffer.from('1.25,x,-3\n7,y\n,z,0.5,9\n'), {
      columns: ['a', 'b', 'c'],
      firstRowNumber: 1,
      eof: true,
      numericColumns: [0, 2],
    });
    expect(Array.from(rows.takeNumbers(0)!)).toEqual([1.25, 7, NaN]);
    expect(Array.from(rows.takeNumbers(2)!)).toEqual([-3, NaN, 0.5]);
    expect(rows.takeNumbers(1)).toBeUndefined();
    expect(rows.takeNumbers(0)).toBeUndefined();
    expect(rows.number(0, 0)).toBe(1.25);
    expect(rows.rawCells(2)).toEqual(['', 'z', '0.5', '9']);
  });

  it('when a categorical column has more distinct values than the symbol table holds, then every symbol still equals its text', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => `v${(i * 7919) % 6000}`);
    const { rows } = parseCsvWindow(Buffer.from(`${values.join('\n')}\n`), { columns: ['v'], firstRowNumber: 1, eof: true });
    for (let r = 0; r < rows.rowCount; r += 1) expect(rows.symbol(0, r)).toBe(values[r]);
  });
});

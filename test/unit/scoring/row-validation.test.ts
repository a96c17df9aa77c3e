import { parseCsvWindow } from '../../../shared/adapters/tabular/csv-parser';
import { InexactJsonNumber } from '../../../shared/domain/json-number';
import { jsonRows } from '../../../shared/domain/json-rows';
import { layoutColumns, parseDateTime, validateRows } from '../../../shared/domain/row-validation';
import { type ModelInput, modelInputSchema } from '../../../shared/schemas/model';

const model = (over: Partial<ModelInput> = {}) =>
  modelInputSchema.parse({
    name: 'churn',
    task: 'regression',
    idColumn: 'id',
    timestampColumn: 'ts',
    segmentKeys: ['region'],
    features: [
      { name: 'age', type: 'numeric', range: { min: 0, max: 120 }, strictRange: true },
      { name: 'income', type: 'numeric', nullable: true },
      { name: 'plan', type: 'categorical', allowedValues: ['basic', 'pro'], strictValues: true },
      { name: 'active', type: 'boolean' },
      { name: 'since', type: 'datetime' },
    ],
    ...over,
  });

function rowsOf(text: string) {
  const buf = Buffer.from(text);
  const nl = buf.indexOf(10);
  const columns = buf.subarray(0, nl).toString().split(',');
  return parseCsvWindow(buf.subarray(nl + 1), { columns, firstRowNumber: 1, eof: true }).rows;
}

const header = 'id,ts,region,age,income,plan,active,since,extra';

describe('row validation', () => {
  it('when a JSON id is a number a double may have rounded, then its row is rejected inexact_id, and exact number ids and long digit strings are kept', () => {
    const cells = { ts: null, region: 'n', age: 1, income: 1, plan: 'pro', active: true, since: '2020-01-01' };
    const ids = [
      9007199254740991,
      -9007199254740991,
      0.25,
      '9007199254740993',
      JSON.parse('9007199254740993') as number,
      -(2 ** 60),
      JSON.parse('1e400') as number,
      1e300,
      new InexactJsonNumber('0.12345678901234567891', 0.12345678901234568),
    ];
    const rows = jsonRows(ids.map((id) => ({ id, ...cells })));
    const out = validateRows(rows, layoutColumns(model(), rows.columns, 'json'));
    expect(out.ids).toEqual(['9007199254740991', '-9007199254740991', '0.25', '9007199254740993']);
    expect(out.rejected.map((r) => [r.row, r.code])).toEqual([
      [5, 'inexact_id'],
      [6, 'inexact_id'],
      [7, 'inexact_id'],
      [8, 'inexact_id'],
      [9, 'inexact_id'],
    ]);
    expect(out.rejected[0]!.reason).toBe(
      'the id is the number 9007199254740992 as JSON read it, which may not be the number sent (a whole number past ±9007199254740991, more significant digits than a double holds, or beyond a double\'s range): send such ids as strings',
    );
    expect(out.rejected[2]!.reason).toMatch(/^the id is the number Infinity as JSON read it/);
    expect(out.rejected[4]!.reason).toMatch(/^the id is the number 0\.12345678901234568 as JSON read it/);
  });

  it('when rows are valid, then the batch holds typed columns and the id, timestamp and segment travel along', () => {
    const rows = rowsOf(`${header}\nA,2024-01-02T03:04:05Z,north,42,1000.5,pro,true,2020-05-01,zzz\nB,,south,7,,basic,0,2021-01-01 10:00,\n`);
    const m = model();
    const out = validateRows(rows, layoutColumns(m, rows.columns));
    expect(out.rejected).toEqual([]);
    expect(out.batch.rowCount).toBe(2);
    expect(Array.from(out.batch.numeric.age!)).toEqual([42, 7]);
    expect(Array.from(out.batch.numeric.income!)).toEqual([1000.5, NaN]);
    expect(Array.from(out.batch.numeric.active!)).toEqual([1, 0]);
    expect(Array.from(out.batch.numeric.since!)).toEqual([Date.UTC(2020, 4, 1), Date.UTC(2021, 0, 1, 10)]);
    expect(out.batch.categorical.plan).toEqual(['pro', 'basic']);
    expect(out.ids).toEqual(['A', 'B']);
    expect(Array.from(out.timestamps!)).toEqual([Date.UTC(2024, 0, 2, 3, 4, 5), NaN]);
    expect(out.segments.region).toEqual(['north', 'south']);
    expect(Array.from(out.rowNumbers)).toEqual([1, 2]);
  });

  it('when cells are wrong, then each bad row is rejected with its row number, every reason and its cells', () => {
    const rows = rowsOf(
      [
        header,
        'A,,n,abc,1,pro,true,2020-01-01,',
        'B,,n,NaN,1,pro,true,2020-01-01,',
        'C,,n,Infinity,1,pro,true,2020-01-01,',
        'D,,n,130,1,gold,maybe,yesterday,',
        'E,,n,,1,pro,true,2020-01-01,',
        ',,n,1,1,pro,true,2020-01-01,',
        'G,,n,1,1,pro',
        'H,soon,n,1,1,pro,true,2020-01-01,',
        'I,,n,5,,pro,false,2020-01-01,',
      ].join('\n'),
    );
    const out = validateRows(rows, layoutColumns(model(), rows.columns));
    expect(out.batch.rowCount).toBe(1);
    expect(out.ids).toEqual(['I']);
    expect(Array.from(out.rowNumbers)).toEqual([9]);
    const byRow = Object.fromEntries(out.rejected.map((r) => [r.row, r]));
    expect(byRow[1]).toMatchObject({ code: 'not_a_number:age', reason: `'age' is "abc", not a number` });
    expect(byRow[1]!.cells).toEqual(['A', '', 'n', 'abc', '1', 'pro', 'true', '2020-01-01', '']);
    expect(byRow[2]).toMatchObject({ code: 'not_finite:age' });
    expect(byRow[3]).toMatchObject({ code: 'not_finite:age' });
    expect(byRow[4]!.reason).toBe(
      `'age' is 130, outside the allowed range [0, 120]; 'plan' is "gold", not one of the allowed values; 'active' is "maybe", not a boolean; 'since' is "yesterday", not an ISO 8601 date-time (such as 2026-11-01T10:00:00Z, or 2026-11-01 10:00 read as UTC)`,
    );
    expect(byRow[5]).toMatchObject({ code: 'missing_value:age' });
    expect(byRow[6]).toMatchObject({ code: 'missing_id' });
    expect(byRow[7]).toMatchObject({ code: 'ragged_row', reason: 'the row has 6 fields, the header has 9' });
    expect(byRow[8]).toMatchObject({ code: 'bad_timestamp', reason: 'the timestamp "soon" is not an ISO 8601 date-time (such as 2026-11-01T10:00:00Z, or 2026-11-01 10:00 read as UTC)' });
    expect(out.rejected).toHaveLength(8);
  });

  it('when a number is beyond what float32 (the model input type) holds, then the row is rejected with that reason', () => {
    // 3.4028235677973366e38 is the first double that float32 rounds to infinity.
    const rows = rowsOf(`${header}\nA,,n,1,1e39,pro,true,2020-01-01,\nB,,n,1,-3.4028235677973366e38,pro,true,2020-01-01,\nC,,n,1,3.4028235677973362e38,pro,true,2020-01-01,\n`);
    const out = validateRows(rows, layoutColumns(model(), rows.columns));
    expect(out.rejected.map((r) => [r.row, r.code, r.reason])).toEqual([
      [1, 'not_finite:income', `'income' is 1e+39, which float32 (the model's input type) cannot hold`],
      [2, 'not_finite:income', `'income' is -3.4028235677973366e+38, which float32 (the model's input type) cannot hold`],
    ]);
    expect(Array.from(out.batch.numeric.income!)).toEqual([3.4028235677973362e38]);
    expect(Math.fround(out.batch.numeric.income![0]!)).toBe(3.4028234663852886e38);
  });

  it('when required columns are missing, then the file is refused naming each, and extra columns are ignored', () => {
    expect(() => layoutColumns(model(), ['id', 'age', 'other'])).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT_FILE', message: expect.stringContaining("'income', 'plan', 'active', 'since', 'ts', 'region'") as string }),
    );
    expect(() => layoutColumns(model(), [])).toThrow(/no header row/);
    expect(() => layoutColumns(model(), [...header.split(','), 'age', 'extra'])).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT_FILE', message: "the header names 'age' more than once" }),
    );
    expect(layoutColumns(model(), header.split(',')).width).toBe(9);
  });

  it('when required columns are missing among a great many others, then the refusal names a hundred of those found and counts them, not echoes every one', () => {
    const few = ['id', 'age', 'other'];
    expect(() => layoutColumns(model(), few)).toThrow(expect.objectContaining({ details: expect.objectContaining({ columns: few }) as unknown }));
    expect(() => layoutColumns(model(), few)).toThrow(expect.objectContaining({ details: expect.not.objectContaining({ columnCount: expect.anything() }) as unknown }));
    const many = Array.from({ length: 300_000 }, (_, k) => `f${k}`);
    expect(() => layoutColumns(model(), many, 'json')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^no row has the required field\(s\) 'id'/) as string, details: expect.objectContaining({ columns: many.slice(0, 100), columnCount: 300_000 }) as unknown }),
    );
  });

  it('when a file lacks required columns, then the message shows its header (ten names, then a count), or says it looks separated by another character than commas', () => {
    expect(() => layoutColumns(model(), ['id', 'Age', 'other'])).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/; its header reads "id", "Age", "other"$/) as string }),
    );
    const wide = Array.from({ length: 25 }, (_, k) => `f${k}`);
    expect(() => layoutColumns(model(), wide)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/; its header reads "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", … \(25 columns\)$/) as string }),
    );
    const piped = header.replaceAll(',', '|');
    expect(() => layoutColumns(model(), [piped])).toThrow(
      expect.objectContaining({ message: expect.stringContaining(`; its header is one column, ${JSON.stringify(`${piped.slice(0, 40)}…`)}: the file looks separated by '|', and only comma-separated files are read; save it as comma-separated CSV`) as string }),
    );
    // One column without such a character is just a file with the wrong columns.
    expect(() => layoutColumns(model(), ['id age'])).toThrow(expect.objectContaining({ message: expect.stringMatching(/; its header reads "id age"$/) as string }));
  });

  it('when date-times have no offset, then they are read as UTC', () => {
    expect(parseDateTime('2024-03-01 12:30')).toBe(Date.UTC(2024, 2, 1, 12, 30));
    expect(parseDateTime('2024-03-01T12:30:00+02:00')).toBe(Date.UTC(2024, 2, 1, 10, 30));
    expect(parseDateTime('03/01/2024')).toBeNaN();
  });
});

describe('parseDateTime', () => {
  it('when date-times carry fractions, offsets or impossible dates, then they parse exactly or give NaN', () => {
    expect(parseDateTime('2024-03-01T12:30:15.250Z')).toBe(Date.UTC(2024, 2, 1, 12, 30, 15, 250));
    expect(parseDateTime('2024-03-01T12:30:15-0130')).toBe(Date.UTC(2024, 2, 1, 14, 0, 15));
    expect(parseDateTime(' 2024-03-01 ')).toBe(Date.UTC(2024, 2, 1));
    // Years before 100 are those years, as Date.parse reads them (Date.UTC would make them 19xx).
    expect(parseDateTime('0001-01-01T10:00:00Z')).toBe(Date.parse('0001-01-01T10:00:00Z'));
    expect(parseDateTime('0099-12-31')).toBe(Date.parse('0099-12-31T00:00:00Z'));
    for (const bad of ['2024-02-31', '2024-13-01', '2024-03-01T25:00', '2024-03-01T12:30X', '2024-3-1', 'yesterday'])
      expect(parseDateTime(bad)).toBeNaN();
  });
});

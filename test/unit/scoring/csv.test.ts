import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';

import fc from 'fast-check';

import { planCsvChunks } from '../../../shared/adapters/tabular/csv-chunk-planner';
import { parseCsvWindow } from '../../../shared/adapters/tabular/csv-parser';
import { readCsv } from '../../../shared/adapters/tabular/csv-reader';
import { parseNumberBytes } from '../../../shared/adapters/tabular/parse-number';
import type { RawRows } from '../../../shared/domain/raw-rows';

/** Splits a buffer into small pieces so records straddle stream chunks. */
function streamOf(buf: Buffer, piece = 7): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += piece) parts.push(buf.subarray(i, i + piece));
  return Readable.from(parts);
}

async function collect(batches: AsyncIterable<RawRows>) {
  const rows: { n: number; cells: (string | null)[]; defect?: string }[] = [];
  let columns: readonly string[] = [];
  for await (const b of batches) {
    columns = b.columns;
    for (let r = 0; r < b.rowCount; r += 1) {
      const defect = b.defect(r);
      rows.push({ n: b.rowNumber(r), cells: b.rawCells(r), ...(defect ? { defect } : {}) });
    }
  }
  return { columns, rows };
}

const quote = (s: string) => (/[",\r\n]/.test(s) || s === '' ? `"${s.replaceAll('"', '""')}"` : s);
const toCsv = (header: string[], rows: string[][], eol: string) =>
  [header, ...rows].map((r) => r.map(quote).join(',')).join(eol) + eol;

describe('CSV reading', () => {
  it('when fields hold quotes, commas, CRLF and newlines, then every cell comes back as written', async () => {
    const text = '\uFEFFid,note,x\r\n1,"a ""quoted"" word",2.5\r\n2,"line one\nline two, still",-3e2\r\n3,plain,\r\n';
    const { columns, rows } = await collect(readCsv(streamOf(Buffer.from(text)), { windowBytes: 16 }));
    expect(columns).toEqual(['id', 'note', 'x']);
    expect(rows).toEqual([
      { n: 1, cells: ['1', 'a "quoted" word', '2.5'] },
      { n: 2, cells: ['2', 'line one\nline two, still', '-3e2'] },
      { n: 3, cells: ['3', 'plain', ''] },
    ]);
  });

  it('when the file is gzip, then it reads the same rows', async () => {
    const text = 'a,b\n1,"x\ny"\n2,z';
    const { rows } = await collect(readCsv(streamOf(gzipSync(Buffer.from(text)), 5), { gzip: true }));
    expect(rows.map((r) => r.cells)).toEqual([
      ['1', 'x\ny'],
      ['2', 'z'],
    ]);
  });

  it('when a gzip stream is corrupt, then reading fails with INVALID_INPUT_FILE', async () => {
    const bad = gzipSync(Buffer.from('a,b\n1,2\n'.repeat(100))).subarray(0, 30);
    await expect(collect(readCsv(streamOf(bad), { gzip: true }))).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
  });

  it('when the file has blank lines, then they are skipped and not counted as rows', async () => {
    const { rows } = await collect(readCsv(streamOf(Buffer.from('a\n1\n\n\r\n2\n\n'))));
    expect(rows).toEqual([
      { n: 1, cells: ['1'] },
      { n: 2, cells: ['2'] },
    ]);
  });

  it('when a row has a stray quote, an unclosed quote or invalid UTF-8, then it is flagged with a defect and its bytes', async () => {
    // Quotes toggle quoted mode wherever they are (the planner relies on it), so a stray quote
    // pairs with the next one: the defective rows here keep their quotes balanced, except the
    // last, whose quote is still open at the end: it is cut at its line end and row 6 is read.
    const buf = Buffer.concat([
      Buffer.from('a,b\n1,x"y"\n2,ok\n3,'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n4,"ab"c\n5,"never closed\n6,z\n'),
    ]);
    const batches: RawRows[] = [];
    for await (const b of readCsv(streamOf(buf))) batches.push(b);
    const b = batches[0]!;
    expect(b.rowCount).toBe(6);
    expect(b.defect(0)).toMatch(/malformed quoting/);
    expect(b.defect(1)).toBeUndefined();
    expect(b.defect(2)).toMatch(/not valid UTF-8/);
    expect(b.rawBytes?.(2)).toBe(Buffer.from([0x33, 0x2c, 0xc3, 0x28, 0x0a]).toString('base64'));
    expect(b.defect(3)).toMatch(/malformed quoting/);
    expect(b.defect(4)).toMatch(/not closed .* the row was cut at its line end/);
    expect(b.rawCells(4)).toEqual(['5', '"never closed']);
    expect([b.rowNumber(5), b.rawCells(5), b.defect(5)]).toEqual([6, ['6', 'z'], undefined]);
  });

  it('when a line is longer than the record bound, then it is one unreadable row, skipped, and the rows around it are read', async () => {
    const limits = { maxRecordBytes: 1024, maxFieldBytes: 512, maxFields: 100 };
    const commas = ','.repeat(200_000);
    for (const tail of ['\n3,4\n', '']) {
      const file = Buffer.from(`a,b\n1,2\n${commas}${tail}`);
      const { rows } = await collect(readCsv(streamOf(file, 4096), { limits, windowBytes: 2048 }));
      expect(rows.map((r) => r.n)).toEqual(tail ? [1, 2, 3] : [1, 2]);
      expect(rows[0]).toEqual({ n: 1, cells: ['1', '2'] });
      expect(rows[1]!.cells).toEqual([]);
      const length = tail ? '200,001' : '200,000';
      expect(rows[1]!.defect).toBe(`the record is ${length} bytes long, more than the 1 KiB allowed (the record bound): it was skipped; it starts with "${','.repeat(64)}"`);
      if (tail) expect(rows[2]).toEqual({ n: 3, cells: ['3', '4'] });
    }
  });

  it('when a row has more fields or a longer field than the bounds, then it is unreadable and only the allowed fields are kept', async () => {
    const limits = { maxRecordBytes: 1024, maxFieldBytes: 8, maxFields: 4 };
    const file = Buffer.from('a,b\n1,2,3,4,5,6\n123456789,2\n"12345678",2\n7,8\n');
    const { rows } = await collect(readCsv(streamOf(file), { limits }));
    expect(rows).toEqual([
      { n: 1, cells: ['1', '2', '3', '4'], defect: 'the row has 6 fields, more than the 4 allowed (the field-count bound); the first 4 are kept' },
      { n: 2, cells: ['123456789', '2'], defect: 'a field is longer than 8 bytes (the field bound)' },
      { n: 3, cells: ['12345678', '2'] },
      { n: 4, cells: ['7', '8'] },
    ]);
  });

  it('when a quote on row 1 is never closed, then that row is cut at its line end and every later row is read, also when planned in chunks', async () => {
    const limits = { maxRecordBytes: 1024, maxFieldBytes: 1024, maxFields: 10 };
    const body = Array.from({ length: 2000 }, (_, i) => `${i + 2},${i % 7}`).join('\n');
    const file = Buffer.from(`x,y\n1,"oops\n${body}\n`);
    const whole = await collect(readCsv(streamOf(file, 1000), { limits, windowBytes: 4096 }));
    expect(whole.rows).toHaveLength(2001);
    expect(whole.rows[0]).toMatchObject({ n: 1, cells: ['1', '"oops'], defect: expect.stringMatching(/not closed within 1 KiB .* cut at its line end/) });
    expect(whole.rows[1]).toEqual({ n: 2, cells: ['2', '0'] });
    expect(whole.rows[2000]).toEqual({ n: 2001, cells: ['2001', '4'] });
    const plan = await planCsvChunks(streamOf(file, 1000), 4096, limits);
    expect(plan.rows).toBe(2001);
    const fromChunks: typeof whole.rows = [];
    for (const c of plan.chunks) {
      if (c.compression !== 'none') throw new Error('unexpected');
      fromChunks.push(...(await collect(readCsv(streamOf(file.subarray(c.offset, c.offset + c.length), 999), { columns: c.columns, firstRowNumber: c.firstRow, limits }))).rows);
    }
    expect(fromChunks).toEqual(whole.rows);
  });

  it('when rows are ragged, then field counts are reported and missing cells read as empty', () => {
    const { rows } = parseCsvWindow(Buffer.from('1,2\n1\n1,2,3\n'), { columns: ['a', 'b'], firstRowNumber: 1, eof: true });
    expect([0, 1, 2].map((r) => rows.fieldCount(r))).toEqual([2, 1, 3]);
    expect(rows.isEmpty(1, 1)).toBe(true);
    expect(rows.number(1, 0)).toBe(2);
  });

  it('when cells are quoted, then clean ones still parse from bytes and only escaped ones are unescaped', () => {
    const { rows } = parseCsvWindow(Buffer.from('"2024-03-01T10:00:00Z","north","say ""hi""",2024-03-01\n'), {
      columns: ['ts', 'region', 'note', 'day'],
      firstRowNumber: 1,
      eof: true,
    });
    expect(rows.epochMillis(0, 0)).toBe(Date.UTC(2024, 2, 1, 10));
    expect(rows.symbol(1, 0)).toBe('north');
    expect(rows.text(2, 0)).toBe('say "hi"');
    expect(rows.epochMillis(2, 0)).toBeUndefined();
    expect(rows.epochMillis(3, 0)).toBe(Date.UTC(2024, 2, 1));
  });

  it('when very short rows sit under a wide header, then batches are split by cells so memory stays bounded, and no row is lost', async () => {
    const header = Array.from({ length: 200 }, (_, i) => `c${i}`).join(',');
    const body = Array.from({ length: 30_000 }, (_, i) => `${i}`).join('\n');
    const batches: RawRows[] = [];
    for await (const b of readCsv(streamOf(Buffer.from(`${header}\n${body}\n`), 64 * 1024), { windowBytes: 1 << 20 })) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b.rowCount * 200).toBeLessThanOrEqual(1 << 20);
    const cells = batches.flatMap((b) => Array.from({ length: b.rowCount }, (_, r) => [b.rowNumber(r), b.text(0, r), b.fieldCount(r)]));
    expect(cells).toEqual(Array.from({ length: 30_000 }, (_, i) => [i + 1, String(i), 1]));
  });

  it('when the file is empty, then no batch is produced; when header only, then one empty batch with its columns', async () => {
    expect((await collect(readCsv(streamOf(Buffer.alloc(0))))).rows).toEqual([]);
    const headerOnly = await collect(readCsv(streamOf(Buffer.from('a,b\r\n'))));
    expect(headerOnly).toEqual({ columns: ['a', 'b'], rows: [] });
  });

  it('when numbers are parsed from bytes, then they equal Number(text) and words give NaN', () => {
    const cases = ['0', '-0.5', '1e3', '3.141592653589793', '123456789012345678', '1.7976931348623157e308', '5e-324', '.5', '-.25e-3', '+7', ' 42 '];
    for (const c of cases) expect(parseNumberBytes(Buffer.from(c), 0, c.length)).toBe(Number(c));
    for (const c of ['abc', '1.2.3', '1e', '--1', '0x10', '1,5']) expect(parseNumberBytes(Buffer.from(c), 0, c.length)).toBeNaN();
    expect(parseNumberBytes(Buffer.from('NaN'), 0, 3)).toBeNaN();
    expect(parseNumberBytes(Buffer.from('-Infinity'), 0, 9)).toBe(-Infinity);
    expect(parseNumberBytes(Buffer.from('inf'), 0, 3)).toBe(Infinity);
  });

  it('when any double is printed, then parsing its text from bytes gives it back exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = String(x);
        expect(parseNumberBytes(Buffer.from(s), 0, s.length)).toBe(Number(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CSV line ends', () => {
  const loneCr = /lone carriage return \(CR.*save it with LF or CRLF line ends/;

  it('when lines end with a lone CR, then reading and planning refuse the file saying so instead of taking it as one long header', async () => {
    const file = Buffer.from('id,x\ra,1\rb,2\r');
    await expect(collect(readCsv(streamOf(file, 3), { windowBytes: 4 }))).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE', message: expect.stringMatching(loneCr) });
    await expect(planCsvChunks(streamOf(file, 2), 10)).rejects.toThrow(loneCr);
    // Behind a byte order mark, too.
    await expect(collect(readCsv(streamOf(Buffer.from('\uFEFFid,x\ra,1\r'))))).rejects.toThrow(loneCr);
  });

  it('when a CR is part of CRLF, quoted in the header, or ends a header-only file, then the file reads as before', async () => {
    expect((await collect(readCsv(streamOf(Buffer.from('id,x\r\na,1\r\n'), 1)))).rows).toEqual([{ n: 1, cells: ['a', '1'] }]);
    expect((await collect(readCsv(streamOf(Buffer.from('"i\rd",x\na,1\n'))))).columns).toEqual(['i\rd', 'x']);
    expect((await collect(readCsv(streamOf(Buffer.from('id,x\r'))))).columns).toEqual(['id', 'x']);
  });
});

describe('CSV chunk planning', () => {
  const cell = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('a\nb', '"', '""', ',', '\r\n', 'x"\ny', '\n', ''),
    fc.double({ noNaN: true }).map(String),
  );

  it('when a file with quoted newlines is planned in small ranges, then reading each range yields exactly the file rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((w) =>
          fc.tuple(fc.constant(w), fc.array(fc.array(cell, { minLength: w, maxLength: w }), { maxLength: 30 })),
        ),
        fc.constantFrom('\n', '\r\n'),
        fc.integer({ min: 1, max: 64 }),
        async ([width, table], eol, target) => {
          const header = Array.from({ length: width }, (_, i) => `c${i}`);
          // A lone empty cell would be a blank line; the writer quotes empty cells, so it is not.
          const file = Buffer.from(toCsv(header, table, eol));
          const whole = await collect(readCsv(streamOf(file, 5)));
          expect(whole.rows.map((r) => r.cells)).toEqual(table);
          const plan = await planCsvChunks(streamOf(file, 3), target);
          expect(plan.rows).toBe(table.length);
          const fromChunks: typeof whole.rows = [];
          for (const c of plan.chunks) {
            if (c.compression !== 'none') throw new Error('unexpected');
            const range = file.subarray(c.offset, c.offset + c.length);
            const part = await collect(readCsv(streamOf(range, 4), { columns: c.columns, firstRowNumber: c.firstRow, windowBytes: 8 }));
            expect(part.rows).toHaveLength(c.rows);
            fromChunks.push(...part.rows);
          }
          expect(fromChunks).toEqual(whole.rows);
          expect(fromChunks.map((r) => r.n)).toEqual(table.map((_, i) => i + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when records break the record, field and field-count bounds, then planned ranges still read as exactly the rows of the whole file', async () => {
    // Soup of CSV tokens: stray and unclosed quotes, long runs without line ends, CR without LF.
    const token = fc.constantFrom('a', 'bb', '1.5', '"', '""', ',', ',,,,,,', '\n', '\r\n', '\r', 'x"y', 'zzzzzzzzzzzzzzz', '"q\nq"');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(token, { maxLength: 80 }),
        // The header (up to 8 bytes, 3 fields of 2) stays within every bound.
        fc.record({ maxRecordBytes: fc.integer({ min: 9, max: 40 }), maxFieldBytes: fc.integer({ min: 2, max: 20 }), maxFields: fc.integer({ min: 3, max: 6 }) }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 32 }),
        async (width, tokens, limits, target, piece, windowBytes) => {
          const header = Array.from({ length: width }, (_, i) => `c${i}`).join(',');
          const file = Buffer.from(`${header}\n${tokens.join('')}`);
          const whole = await collect(readCsv(streamOf(file, piece), { limits, windowBytes }));
          // The rows do not depend on how the bytes arrive or how much is parsed at a time.
          expect(await collect(readCsv(streamOf(file, 5), { limits, windowBytes: 1 << 20 }))).toEqual(whole);
          const plan = await planCsvChunks(streamOf(file, piece + 2), target, limits);
          expect(plan.rows).toBe(whole.rows.length);
          const fromChunks: typeof whole.rows = [];
          for (const c of plan.chunks) {
            if (c.compression !== 'none') throw new Error('unexpected');
            const range = file.subarray(c.offset, c.offset + c.length);
            const part = await collect(readCsv(streamOf(range, 4), { columns: c.columns, firstRowNumber: c.firstRow, windowBytes: 8, limits }));
            expect(part.rows).toHaveLength(c.rows);
            fromChunks.push(...part.rows);
          }
          expect(fromChunks).toEqual(whole.rows);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('when the file has no header, then planning fails with INVALID_INPUT_FILE', async () => {
    await expect(planCsvChunks(streamOf(Buffer.alloc(0)), 10)).rejects.toMatchObject({ code: 'INVALID_INPUT_FILE' });
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { run } from '../../../cli/drift';
import { readTable } from '../../../cli/tables';
import { fitTransforms } from '../../../shared/domain/transforms';
import expected from '../../fixtures/drift/cli-expected.json';
import { linearRegressor } from '../../fixtures/onnx-models';

const fixtures = path.join(__dirname, '../../fixtures/drift');
const referenceCsv = path.join(fixtures, 'reference.csv');
const currentCsv = path.join(fixtures, 'current.csv');

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function mlopsDrift(...args: string[]): Promise<Output> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await run(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function csvToParquet(csvPath: string, target: string): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const { values } = await readTable(csvPath);
  const numbers = (name: string) => values[name]!.map((v) => (v === null ? null : Number(v)));
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'age', data: Float64Array.from(numbers('age') as number[]), type: 'DOUBLE' },
      { name: 'income', data: Float64Array.from(numbers('income') as number[]), type: 'DOUBLE' },
      { name: 'city', data: values.city!.map(String), type: 'STRING' },
      { name: 'flag', data: Int32Array.from(numbers('flag') as number[]), type: 'INT32' },
      { name: 'score', data: numbers('score'), type: 'DOUBLE', nullable: true },
    ],
  });
  fs.writeFileSync(target, Buffer.from(buffer));
}

const close = (actual: number, wanted: number) =>
  expect(Math.abs(actual - wanted) / Math.max(1, Math.abs(wanted))).toBeLessThanOrEqual(1e-6);

describe('mlops drift', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-drift-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('when two CSV files are compared with --json, then one JSON object carries the scipy statistics per column', async () => {
    const { code, stdout } = await mlopsDrift(referenceCsv, currentCsv, '--json');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(stdout);
    expect(Object.keys(json)).toEqual(['dataset_drift', 'share_drifted', 'reason', 'columns', 'excluded']);
    expect(json.columns.map((c: { name: string; type: string; method: string }) => [c.name, c.type, c.method])).toEqual([
      ['age', 'numeric', 'ks'],
      ['income', 'numeric', 'ks'],
      ['city', 'categorical', 'chi_squared'],
      ['flag', 'categorical', 'z_test'],
      ['score', 'numeric', 'ks'],
    ]);
    for (const c of json.columns) {
      const want = expected[c.name as 'age' | 'income' | 'city' | 'flag' | 'score'];
      close(Math.abs(c.statistic), want.statistic);
      close(c.p_value, want.p_value);
      expect(c.threshold).toBe(0.05);
    }
    expect(json.columns.map((c: { drifted: boolean }) => c.drifted)).toEqual([false, true, true, false, false]);
    expect(json.share_drifted).toBe(0.4);
    expect(json.dataset_drift).toBe(false);
    expect(json.reason).toBe('2 of 5 evaluated columns drifted, share 0.400');
    expect(json.excluded).toEqual([]);
  });

  test('when the same data come as Parquet, then the JSON is the same as for CSV', async () => {
    const refParquet = path.join(tmp, 'reference.parquet');
    const curParquet = path.join(tmp, 'current.parquet');
    await csvToParquet(referenceCsv, refParquet);
    await csvToParquet(currentCsv, curParquet);
    const fromCsv = JSON.parse((await mlopsDrift(referenceCsv, currentCsv, '--json')).stdout);
    const fromParquet = await mlopsDrift(refParquet, curParquet, '--json');
    expect(fromParquet.code).toBe(0);
    expect(JSON.parse(fromParquet.stdout)).toEqual(fromCsv);
  });

  test('when --method and --columns are given, then that method runs on just those columns', async () => {
    const { code, stdout } = await mlopsDrift(referenceCsv, currentCsv, '--json', '--method', 'wasserstein', '--columns', 'income');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.columns).toHaveLength(1);
    expect(json.columns[0]).toMatchObject({ name: 'income', method: 'wasserstein', p_value: null, threshold: 0.1, drifted: true });
    close(json.columns[0].statistic, expected.income_wasserstein);
    expect(json).toMatchObject({ dataset_drift: true, share_drifted: 1 });
  });

  test('when --help is asked for, options come as --name=value, or a file follows --, then it reads them as the other commands do', async () => {
    const help = await mlopsDrift('--help');
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^usage: mlops drift <reference/);
    expect(help.stdout).toContain('Exit codes:');
    expect((await mlopsDrift(referenceCsv, currentCsv, '-h')).code).toBe(0);

    const inline = await mlopsDrift(referenceCsv, '--json', '--method=wasserstein', '--columns=income', '--', currentCsv);
    expect([inline.code, inline.stderr]).toEqual([0, '']);
    expect(JSON.parse(inline.stdout).columns).toEqual([expect.objectContaining({ name: 'income', method: 'wasserstein' })]);
  });

  test('when printing a table, then every column and the dataset verdict are listed', async () => {
    const { code, stdout } = await mlopsDrift(referenceCsv, currentCsv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^column\s+type\s+method\s+statistic\s+p-value\s+threshold\s+verdict/);
    expect(stdout).toContain('income  numeric      ks');
    expect(stdout).toContain('dataset drift: no (2 of 5 evaluated columns drifted, share 0.400)');
  });

  test('when arguments are wrong, then the exit code is 2 with a message and nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[referenceCsv], /two files are needed/],
      [[referenceCsv, currentCsv, '--method', 'magic'], /method/],
      [[referenceCsv, currentCsv, '--columns', 'nope'], /not in both files: nope/],
      [[referenceCsv, path.join(tmp, 'missing.csv')], /no such file/],
      [[referenceCsv, currentCsv, '--method', 'ks', '--columns', 'city'], /does not apply to categorical column 'city'/],
      // An option that takes one value is refused given twice (--columns, a list, adds: below).
      [[referenceCsv, currentCsv, '--method', 'ks', '--method=psi'], /^--method is given twice: it takes one value\n/],
      [[referenceCsv, currentCsv, '--correction', 'none', '--json', '--correction', 'none'], /^--correction is given twice: it takes one value\n/],
      [[referenceCsv, currentCsv, '--manifest', 'a.json', '--manifest', 'b.json'], /^--manifest is given twice: it takes one value\n/],
      [[referenceCsv, currentCsv, '--max-fields', '10', '--max-fields', '20'], /^--max-fields is given twice: it takes one value\n/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await mlopsDrift(...args);
      expect([code, stdout]).toEqual([2, '']);
      expect(stderr).toMatch(message);
    }
  });

  test('when CSV files have a BOM, quoted newlines, gzip, duplicate headers or ragged rows, then they are read or refused clearly', async () => {
    const write = (name: string, text: string | Buffer) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const rows = (shift: number) =>
      Array.from({ length: 40 }, (_, i) => `${(i % 13) + shift},"line one\nline ""two"" ${i % 3}"`).join('\r\n');
    const ref = write('bom.csv', `\ufeffx,note\r\n${rows(0)}\r\n`);
    const cur = write('cur.csv.gz', zlib.gzipSync(`x,note\n${rows(100)}\n`));
    const ok = await mlopsDrift(ref, cur, '--json');
    expect(ok.code).toBe(0);
    const json = JSON.parse(ok.stdout);
    expect(json.columns.map((c: { name: string; type: string; drifted: boolean }) => [c.name, c.type, c.drifted])).toEqual([
      ['x', 'numeric', true],
      ['note', 'categorical', false],
    ]);

    const duplicate = await mlopsDrift(write('dup.csv', 'a,b,a\n1,2,3\n'), ref);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain("column 'a' appears twice");
    const ragged = await mlopsDrift(write('ragged.csv', 'x,note\n1,a\n2\n'), ref);
    expect(ragged.code).toBe(2);
    expect(ragged.stderr).toMatch(/row 2 has 1 fields, the header has 2/);
  });

  test('when the current file lacks a column of the reference, then the message says which file lacks it and how to compare the others; a semicolon-separated file is named as such', async () => {
    const write = (name: string, text: string) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const ref = write('ref.csv', `x,plan\n${Array.from({ length: 40 }, (_, i) => `${i},p${i % 3}`).join('\n')}\n`);
    const cur = write('cur.csv', `x,extra\n${Array.from({ length: 40 }, (_, i) => `${i},e`).join('\n')}\n`);
    const lacking = await mlopsDrift(ref, cur);
    expect([lacking.code, lacking.stdout]).toEqual([2, '']);
    expect(lacking.stderr).toMatch(/^mlops drift: column\(s\) not in both files: plan \(not in the current file\); name the columns to compare with --columns a,b\n/);
    expect((await mlopsDrift(ref, cur, '--columns', 'x')).code).toBe(0);
    const named = await mlopsDrift(ref, cur, '--columns', 'x,extra');
    expect(named.stderr).toMatch(/^mlops drift: column\(s\) not in both files: extra \(not in the reference\)\n/);

    // Trailing commas (a spreadsheet's empty columns) make columns without a name: left out, not refused.
    const trailing = write('trailing.csv', `x,plan,,\n${Array.from({ length: 40 }, (_, i) => `${i},p${i % 3},,`).join('\n')}\n`);
    const padded = await mlopsDrift(trailing, ref, '--json');
    expect([padded.code, padded.stderr]).toEqual([0, '']);
    const report = JSON.parse(padded.stdout) as { columns: { name: string }[]; excluded: { name: string }[] };
    expect([...report.columns, ...report.excluded].map((c) => c.name).sort()).toEqual(['plan', 'x']);

    const semicolons = await mlopsDrift(ref, write('semi.csv', 'x;plan\n1;p1\n'));
    expect(semicolons.code).toBe(2);
    expect(semicolons.stderr).toContain(`semi.csv: its header is one column, "x;plan": the file looks separated by ';', and only comma-separated files are read; save it as comma-separated CSV`);
  });
});

describe('mlops drift on hostile inputs', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-drift-hostile-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const write = (name: string, lines: string[]) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const parquet = async (name: string, columnData: unknown[]) => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const file = path.join(tmp, name);
    fs.writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData } as Parameters<typeof parquetWriteBuffer>[0])));
    return file;
  };
  const json = async (...args: string[]) => {
    const out = await mlopsDrift(...args, '--json');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    return JSON.parse(out.stdout);
  };
  /** 200 values spread over [0, 20), shifted by `shift`. */
  const spread = (shift: number) => Array.from({ length: 200 }, (_, i) => ((i * 37) % 200) / 10 + shift);
  const noneLeftOut = { missing: 0, nan: 0, infinite: 0, unparsed: 0 };

  test('when a numeric column holds NaN or infinite cells, then it stays numeric, they are left out and counted, and the shift is found', async () => {
    const reference = write('nan-ref.csv', ['x', ...spread(0).map(String)]);
    const current = write('nan-cur.csv', ['x', ...spread(15).slice(3).map(String), 'NaN', 'inf', '-Infinity']);
    const fromCsv = await json(reference, current);
    expect(fromCsv.columns).toEqual([
      expect.objectContaining({ name: 'x', type: 'numeric', method: 'ks', verdict: 'drift', left_out: { reference: noneLeftOut, current: { ...noneLeftOut, nan: 1, infinite: 2 } } }),
    ]);
    expect(fromCsv.columns[0].statistic).toBeGreaterThan(0.7);
    expect(fromCsv.dataset_drift).toBe(true);

    const currentParquet = await parquet('nan-cur.parquet', [{ name: 'x', data: Float64Array.from([...spread(15).slice(3), NaN, Infinity, -Infinity]), type: 'DOUBLE' }]);
    expect((await json(reference, currentParquet)).columns).toEqual(fromCsv.columns);

    const table = await mlopsDrift(reference, current);
    expect(table.stdout).toContain('left out of x (current): 1 NaN, 2 infinite');
  });

  test('when a few cells of a numeric column are text, then the column stays numeric and they are counted as not of its type', async () => {
    const reference = write('odd-ref.csv', ['x', ...spread(0).map(String)]);
    const current = write('odd-cur.csv', ['x', ...spread(0).slice(2).map(String), 'n/a', '?']);
    const [column] = (await json(reference, current)).columns;
    expect(column).toMatchObject({ type: 'numeric', method: 'ks', verdict: 'no_drift', left_out: { current: { ...noneLeftOut, unparsed: 2 } } });
  });

  test('when the same data come as CSV and as Parquet, then a timestamp column has one type and nothing drifts', async () => {
    const start = Date.UTC(2024, 0, 1);
    const times = Array.from({ length: 200 }, (_, i) => new Date(start + i * 3_600_000));
    const csv = write('ts.csv', ['ts,x', ...times.map((t, i) => `${t.toISOString()},${spread(0)[i]}`)]);
    const pq = await parquet('ts.parquet', [
      { name: 'ts', data: times, type: 'TIMESTAMP' },
      { name: 'x', data: Float64Array.from(spread(0)), type: 'DOUBLE' },
    ]);
    const named = await json(csv, pq, '--columns', 'ts,x');
    expect(named.columns.map((c: { name: string; type: string; statistic: number; verdict: string }) => [c.name, c.type, c.statistic, c.verdict])).toEqual([
      ['ts', 'datetime', 0, 'no_drift'],
      ['x', 'numeric', 0, 'no_drift'],
    ]);
    expect(named.dataset_drift).toBe(false);

    const byDefault = await json(csv, pq);
    expect(byDefault.columns.map((c: { name: string }) => c.name)).toEqual(['x']);
    expect(byDefault.excluded).toEqual([{ name: 'ts', reason: expect.stringMatching(/^date-time/) }]);
  });

  /** Flights with no shift: new ids and later times in the current file, the same delays and carriers. */
  function flights(name: string, from: number) {
    const carriers = ['AA', 'BA', 'LH', 'AF'];
    return write(name, [
      'flight_id,seq,ts,delay,carrier,region',
      ...Array.from({ length: 300 }, (_, k) => {
        const i = from + k;
        return `FL${String(i).padStart(5, '0')},${i},${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},${((k * 7919) % 300) / 7 + (k % 3) * 0.001},${carriers[k % 4]},${k % 2 ? 'north' : 'south'}`;
      }),
    ]);
  }

  test('when files carry ids and timestamps, then those are left out by default and named, and undrifted data do not drift', async () => {
    const report = await json(flights('f-ref.csv', 0), flights('f-cur.csv', 300));
    expect(report.columns.map((c: { name: string; verdict: string }) => [c.name, c.verdict])).toEqual([
      ['delay', 'no_drift'],
      ['carrier', 'no_drift'],
      ['region', 'no_drift'],
    ]);
    expect(report.excluded).toEqual([
      { name: 'flight_id', reason: 'a distinct value in every row: an id' },
      { name: 'seq', reason: 'a distinct value in every row: an id' },
      { name: 'ts', reason: expect.stringMatching(/^date-time/) },
    ]);
    expect(report.dataset_drift).toBe(false);
    const table = await mlopsDrift(flights('f-ref.csv', 0), flights('f-cur.csv', 300));
    expect(table.stdout).toContain('not tested: flight_id (a distinct value in every row: an id)');
  });

  test('when --manifest names the model, then its features are tested with their declared types, its id, timestamp and segment keys are not, and segments are reported', async () => {
    const manifest = path.join(tmp, 'manifest.json');
    const model = {
      name: 'delays',
      task: 'regression',
      idColumn: 'flight_id',
      timestampColumn: 'ts',
      segmentKeys: ['region'],
      features: [
        { name: 'delay', type: 'numeric' },
        { name: 'carrier', type: 'categorical' },
        { name: 'seq', type: 'numeric' },
      ],
    };
    const transforms = fitTransforms(
      { specVersion: 1, steps: [{ type: 'one_hot', column: 'carrier', categories: ['AA'], unseen: 'ignore' }], output: ['delay', 'carrier_AA'] },
      { rowCount: 1, numeric: { delay: Float64Array.of(1) }, categorical: { carrier: ['AA'] } },
    );
    fs.writeFileSync(manifest, JSON.stringify({ model, artifact: { path: 'model.onnx' }, signature: linearRegressor([1, 1], 0).signature, transforms }));
    const report = await json(flights('m-ref.csv', 0), flights('m-cur.csv', 300), '--manifest', manifest);
    expect(report.columns.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual([
      ['seq', 'numeric'],
      ['delay', 'numeric'],
      ['carrier', 'categorical'],
    ]);
    expect(report.excluded).toEqual([
      { name: 'flight_id', reason: "the model's id column" },
      { name: 'ts', reason: "the model's timestamp column" },
      { name: 'region', reason: 'a segment key: drift is reported per segment' },
    ]);
    expect(report.segments.map((s: { segment: string }) => s.segment)).toEqual(['region=north', 'region=south']);
    // A declared feature is tested even when it looks like an id: seq drifts, alone among three.
    expect(report.segments[0]).toMatchObject({ dataset_drift: false, share_drifted: 1 / 3, drifted_columns: ['seq'] });
  });

  test('when no column has enough values, then the verdict says the data were insufficient instead of no drift', async () => {
    const small = (name: string, shift: number) => write(name, ['x,c', ...Array.from({ length: 10 }, (_, i) => `${i + shift},${'abc'[i % 3]}`)]);
    const [reference, current] = [small('few-ref.csv', 0), small('few-cur.csv', 100)];
    const report = await json(reference, current);
    expect(report).toMatchObject({ dataset_drift: null, share_drifted: null, reason: 'insufficient data: no column has 30 non-null values in both files' });
    expect(report.columns.map((c: { verdict: string }) => c.verdict)).toEqual(['insufficient_data', 'insufficient_data']);
    expect((await mlopsDrift(reference, current)).stdout).toContain('dataset drift: insufficient data: no column has 30 non-null values in both files');
  });

  test('when --columns names a column twice, is given twice or names none, then it counts once, adds or is refused', async () => {
    const twice = await json(referenceCsv, currentCsv, '--columns', 'income,income,age');
    expect(twice.columns.map((c: { name: string }) => c.name)).toEqual(['income', 'age']);
    expect(twice.share_drifted).toBe(0.5);
    // --columns given twice: both lists, the name in both once.
    expect(await json(referenceCsv, currentCsv, '--columns', 'income', '--columns', 'age,income')).toEqual(twice);
    // A flag given twice is on, as once (json() adds a second --json).
    expect(await json(referenceCsv, currentCsv, '--json', '--columns', 'income,income,age')).toEqual(twice);
    for (const empty of ['', ',', ' , ']) {
      const out = await mlopsDrift(referenceCsv, currentCsv, '--columns', empty);
      expect([out.code, out.stdout]).toEqual([2, '']);
      expect(out.stderr).toContain('--columns needs at least one column name');
    }
  });

  test('when a line is past the record bound or a quote is never closed, then the file is refused naming the row, without reading the rest into one record', async () => {
    const lines = ['x', ...spread(0).map(String)];
    const long = write('long.csv', [...lines.slice(0, 10), `${'9'.repeat(5 << 20)}`, ...lines.slice(10)]);
    const byDefault = await mlopsDrift(long, long);
    expect([byDefault.code, byDefault.stdout]).toEqual([2, '']);
    expect(byDefault.stderr).toMatch(/row 10: the record is 5,242,881 bytes long, more than the 4 MiB allowed \(the record bound\)/);
    const quote = write('quote.csv', [...lines.slice(0, 3), '"never closed', ...lines.slice(3)]);
    const bounded = await mlopsDrift(quote, quote, '--max-record-bytes', '256');
    expect(bounded.code).toBe(2);
    expect(bounded.stderr).toMatch(/row 3: a quote on this line is not closed within 256 bytes/);
  });

  test('when a file is refused for a CSV bound, then the message ends with the option that raises that bound', async () => {
    const lines = ['x', ...spread(0).map(String)];
    const long = write('long-line.csv', [...lines.slice(0, 10), '9'.repeat(600), ...lines.slice(10)]);
    const record = await mlopsDrift(long, long, '--max-record-bytes', '512');
    expect(record.code).toBe(2);
    expect(record.stderr).toMatch(/row 10: the record is 601 bytes long, more than the 512 bytes allowed \(the record bound\).*\n--max-record-bytes N raises the record bound\n$/);
    const wide = write('wide-field.csv', [...lines.slice(0, 5), `"${'7'.repeat(40)}"`, ...lines.slice(5)]);
    const field = await mlopsDrift(wide, wide, '--max-field-bytes', '16');
    expect(field.code).toBe(2);
    expect(field.stderr).toBe(`mlops drift: ${wide}: row 5: a field is longer than 16 bytes (the field bound)\n--max-field-bytes N raises the field bound\n`);
  });
});

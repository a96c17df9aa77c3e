import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { run } from '../../../cli/drift';
import { readTable } from '../../../cli/tables';
import expected from '../../fixtures/drift/cli-expected.json';

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
    expect(Object.keys(json)).toEqual(['dataset_drift', 'share_drifted', 'columns']);
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
      Array.from({ length: 40 }, (_, i) => `${i + shift},"line one\nline ""two"" ${i % 3}"`).join('\r\n');
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
});

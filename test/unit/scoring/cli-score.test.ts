/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { DuckDBInstance } from '@duckdb/node-api';

import { scoreCommand, scoreFiles } from '../../../cli/score';
import { removeStaleParts, scoreInParts } from '../../../cli/score-parts';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { hyparquet, hyparquetWriter } from '../../../shared/adapters/tabular/hyparquet';
import { bufferAsyncBuffer, parquetColumns, readParquetMetadata } from '../../../shared/adapters/tabular/parquet-reader';
import { applyTransforms, fitTransforms } from '../../../shared/domain/transforms';
import { linearRegressor } from '../../fixtures/onnx-models';
import { duckdbShapeOf } from '../../support/duckdb-read';
import { parquetOf, readParquetRows } from '../../support/scoring-fixtures';

const model = {
  name: 'energy',
  task: 'regression',
  idColumn: 'meter',
  features: [
    { name: 'kw', type: 'numeric' },
    { name: 'temp', type: 'numeric', nullable: true },
    { name: 'site', type: 'categorical' },
  ],
};
const spec = {
  specVersion: 1 as const,
  steps: [
    { type: 'impute' as const, columns: ['temp'], strategy: 'mean' as const },
    { type: 'standardize' as const, columns: ['kw', 'temp'] },
    { type: 'one_hot' as const, column: 'site', categories: ['a', 'b'], unseen: 'ignore' as const },
  ],
  output: ['kw', 'temp', 'site_a', 'site_b'],
};
const training = { rowCount: 4, numeric: { kw: Float64Array.of(1, 2, 3, 4), temp: Float64Array.of(10, 20, NaN, 30) }, categorical: { site: ['a', 'b', 'a', 'b'] } };
const fitted = fitTransforms(spec, training);
const fx = linearRegressor([1.5, -0.5, 2, 3], 0.1);

function manifestDir(golden?: unknown[], version = 4): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-score-'));
  fs.mkdirSync(path.join(dir, 'artifacts'));
  fs.writeFileSync(path.join(dir, 'artifacts', 'model.onnx'), fx.bytes);
  const manifest = { model, version, artifact: { path: 'artifacts/model.onnx' }, signature: fx.signature, transforms: fitted, ...(golden ? { goldenRecords: golden } : {}) };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

function golden(input: Record<string, number | string | null>) {
  const batch = { rowCount: 1, numeric: { kw: Float64Array.of(input.kw as number), temp: Float64Array.of((input.temp as number | null) ?? NaN) }, categorical: { site: [input.site as string] } };
  const features = Array.from(applyTransforms(fitted, batch).matrix.values);
  return { input, expectedFeatures: features, expectedOutput: { prediction: fx.predict(features) } };
}

/** A CSV of `n` rows; every 37th has a bad number, every 53rd an unseen site (scored, one-hot ignores it). */
function bigCsv(n: number): string {
  const lines = ['meter,kw,temp,site'];
  for (let i = 1; i <= n; i += 1) lines.push(`m${i},${i % 37 === 0 ? 'oops' : (i % 17) / 4},${i % 11 === 0 ? '' : i % 29},${i % 53 === 0 ? 'c' : 'ab'[i % 2]}`);
  return `${lines.join('\n')}\n`;
}

/** Small chunks, so a few hundred rows make several. */
const smallChunks = { targetChunkBytes: 1024, targetChunkRows: 40 };
const oneChunk = { targetChunkBytes: Number.MAX_SAFE_INTEGER, targetChunkRows: Number.MAX_SAFE_INTEGER };

async function score(dir: string, input: string, name: string, targets: typeof smallChunks) {
  const lines: string[] = [];
  const out = path.join(dir, name, 'out.parquet');
  expect(await scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, input), out, (l) => lines.push(l), { chunkTargets: targets })).toBe(0);
  const bytes = fs.readFileSync(out);
  const quarantine = fs.existsSync(`${out}.rejected.jsonl`) ? fs.readFileSync(`${out}.rejected.jsonl`, 'utf8') : undefined;
  return {
    out,
    lines: lines.map((l) => l.replaceAll(out, '<out>')),
    rows: await readParquetRows(bytes),
    rowGroups: hyparquet.parquetMetadata(new Uint8Array(bytes)).row_groups.length,
    quarantine,
    files: fs.readdirSync(path.dirname(out)).sort(),
  };
}

describe('mlops score', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a manifest with golden records and a CSV are given, then parity passes and every row is scored or quarantined', async () => {
    dir = manifestDir([golden({ kw: 2.5, temp: 15, site: 'a' }), golden({ kw: 0, temp: null, site: 'b' })]);
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site,notes\nm1,1,10,a,x\nm2,oops,10,b,y\nm3,4,,c,z\n');
    const lines: string[] = [];
    const out = path.join(dir, 'out', 'predictions.parquet');
    expect(await scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, 'in.csv'), out, (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([
      'parity: 2 golden records match',
      `read 3 rows: 2 scored -> ${out}`,
      `1 rejected -> ${out}.rejected.jsonl`,
      '  not_a_number:kw: 1',
    ]);
    const predictions = await readParquetRows(fs.readFileSync(out));
    const expected = (kw: number, temp: number, site: string) => golden({ kw, temp, site }).expectedOutput.prediction;
    expect(predictions.map((p) => [p.meter, p.prediction, p.model_version, p.run_id, p.source_row])).toEqual([
      ['m1', expected(1, 10, 'a'), 4, 'local', 1],
      ['m3', fx.predict(golden({ kw: 4, temp: null, site: 'c' }).expectedFeatures), 4, 'local', 3],
    ]);
    expect(JSON.parse(fs.readFileSync(`${out}.rejected.jsonl`, 'utf8'))).toEqual({
      row: 2,
      reason: `'kw' is "oops", not a number`,
      cells: ['m2', 'oops', '10', 'b', 'y'],
    });
  });

  it('when the input is Parquet, then it is scored the same way', async () => {
    dir = manifestDir();
    const pq = hyparquetWriter.parquetWriteBuffer({
      columnData: [
        { name: 'meter', data: ['p1', 'p2'], type: 'STRING' },
        { name: 'kw', data: [1, 3], type: 'DOUBLE' },
        { name: 'temp', data: [10, 30], type: 'DOUBLE' },
        { name: 'site', data: ['b', 'a'], type: 'STRING' },
      ],
    });
    fs.writeFileSync(path.join(dir, 'in.parquet'), Buffer.from(pq));
    const out = path.join(dir, 'p.parquet');
    expect(await scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, 'in.parquet'), out, () => undefined)).toBe(0);
    const predictions = await readParquetRows(fs.readFileSync(out));
    expect(predictions.map((p) => p.prediction)).toEqual([golden({ kw: 1, temp: 10, site: 'b' }).expectedOutput.prediction, golden({ kw: 3, temp: 30, site: 'a' }).expectedOutput.prediction]);
  });

  it('when a golden record does not match, then scoring stops with PARITY_MISMATCH and writes nothing', async () => {
    const wrong = golden({ kw: 2, temp: 20, site: 'a' });
    wrong.expectedOutput.prediction += 0.01;
    dir = manifestDir([wrong]);
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const out = path.join(dir, 'out.parquet');
    await expect(scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, 'in.csv'), out, () => undefined)).rejects.toMatchObject({
      code: 'PARITY_MISMATCH',
    });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('when arguments or the manifest are wrong, then usage exits 2 and a bad manifest exits 1 naming the field', async () => {
    dir = manifestDir();
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    expect(await scoreCommand.run(['only-one'])).toBe(2);
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ model, version: 1 }));
    expect(await scoreCommand.run([path.join(dir, 'bad.json'), 'in.csv', 'out.parquet'])).toBe(1);
    spy.mockRestore();
    expect(errors[0]).toMatch(/^three paths are needed[\s\S]*\n\nusage: mlops score/);
    expect(errors[1]).toMatch(/^VALIDATION_ERROR: invalid manifest .*bad\.json:\n.*\n\s+→ at artifact\n/);
  });

  it('when the manifest is a registration manifest (no model, no artifact), then it is refused as one, saying how to write a version manifest', async () => {
    dir = manifestDir();
    // What POST /models/{model}/versions takes beside the ONNX file, as examples/ hold them.
    fs.writeFileSync(path.join(dir, 'registration.json'), JSON.stringify({ signature: fx.signature, transforms: fitted }));
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const out = path.join(dir, 'out.parquet');
    const refused = scoreFiles(path.join(dir, 'registration.json'), path.join(dir, 'in.csv'), out, () => undefined);
    await expect(refused).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { missing: ['model', 'artifact'] } });
    await expect(refused).rejects.toThrow(/registration\.json is a registration manifest .* it has no 'model' or 'artifact'\. .*write one with mlops package <dir>/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('when a number float32 cannot hold comes in, then the row is rejected even where the transforms would bring it into range', async () => {
    dir = manifestDir();
    // temp is standardized (std 7.07): 1e39 would become 1.4e38, a finite float32, and be scored.
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,1e39,a\nm2,1,10,b\n');
    const { rows, quarantine } = await score(dir, 'in.csv', 'out', oneChunk);
    expect(rows.map((r) => r.meter)).toEqual(['m2']);
    expect(JSON.parse(quarantine!)).toMatchObject({ row: 1, reason: `'temp' is 1e+39, which float32 (the model's input type) cannot hold` });
  });

  it('when the manifest version does not fit the int32 model_version column, then it is refused, and the largest that fits is written as it is', async () => {
    dir = manifestDir(undefined, 2 ** 31);
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const out = path.join(dir, 'out.parquet');
    await expect(scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, 'in.csv'), out, () => undefined)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/at version/),
    });
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
    dir = manifestDir(undefined, 2 ** 31 - 1);
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    expect((await score(dir, 'in.csv', 'out', oneChunk)).rows.map((r) => r.model_version)).toEqual([2 ** 31 - 1]);
  });

  it('when a CSV spans several chunks, then one file holds the same rows, log and quarantine as one chunk, and no part is left', async () => {
    dir = manifestDir();
    fs.writeFileSync(path.join(dir, 'in.csv'), bigCsv(600));
    const chunked = await score(dir, 'in.csv', 'chunked', smallChunks);
    const whole = await score(dir, 'in.csv', 'whole', oneChunk);
    expect(chunked.rowGroups).toBeGreaterThan(5);
    expect(whole.rowGroups).toBe(1);
    expect(chunked.rows).toHaveLength(600 - 16);
    expect(chunked.rows).toEqual(whole.rows);
    expect(chunked.lines).toEqual(whole.lines);
    expect(chunked.lines[0]).toBe('read 600 rows: 584 scored -> <out>');
    expect(chunked.quarantine).toBe(whole.quarantine);
    expect(chunked.quarantine!.trimEnd().split('\n').map((l) => (JSON.parse(l) as { row: number }).row)).toEqual(Array.from({ length: 16 }, (_, k) => 37 * (k + 1)));
    expect(chunked.files).toEqual(['out.parquet', 'out.parquet.rejected.jsonl']);

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const read = await connection.runAndReadAll(`SELECT meter, prediction, source_row FROM read_parquet('${chunked.out}')`);
      expect(read.getRowsJS()).toEqual(whole.rows.map((r) => [r.meter, r.prediction, r.source_row]));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('when a Parquet input has several row groups, then chunks of whole groups give the same rows as one chunk', async () => {
    dir = manifestDir();
    const n = 150;
    const pq = hyparquetWriter.parquetWriteBuffer({
      columnData: [
        { name: 'meter', data: Array.from({ length: n }, (_, i) => `p${i}`), type: 'STRING' },
        { name: 'kw', data: Array.from({ length: n }, (_, i) => (i % 9) / 2), type: 'DOUBLE' },
        { name: 'temp', data: Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : i % 7)), type: 'DOUBLE', nullable: true },
        { name: 'site', data: Array.from({ length: n }, (_, i) => 'ab'[i % 2]!), type: 'STRING' },
      ],
      rowGroupSize: 20,
    });
    fs.writeFileSync(path.join(dir, 'in.parquet'), Buffer.from(pq));
    const chunked = await score(dir, 'in.parquet', 'chunked', smallChunks);
    const whole = await score(dir, 'in.parquet', 'whole', oneChunk);
    expect(chunked.rowGroups).toBe(4);
    expect(chunked.rows).toHaveLength(n);
    expect(chunked.rows).toEqual(whole.rows);
    expect(chunked.files).toEqual(['out.parquet']);
  });

  it('when a chunk fails, then no output appears and the temporary parts are removed', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-score-'));
    const out = path.join(dir, 'out.parquet');
    const chunks = [0, 1].map((index) => ({ format: 'parquet' as const, index, rowGroupStart: index, rowGroupEnd: index + 1, firstRow: 1 + index * 10, rows: 10 }));
    const seen: string[] = [];
    await expect(
      scoreInParts(chunks, out, `${out}.rejected.jsonl`, (chunk, part) => {
        seen.push(path.dirname(part));
        if (chunk.index === 1) return Promise.reject(new Error('the model failed'));
        fs.writeFileSync(part, 'PAR1');
        return Promise.resolve({ model: 'm', version: 1, runId: 'local', chunkIndex: 0, rowsRead: 1, rowsScored: 1, rowsRejected: 0, partPath: part, rejectionReasons: {} });
      }),
    ).rejects.toThrow('the model failed');
    expect(seen).toHaveLength(2);
    expect(path.dirname(seen[0]!)).toBe(dir);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  const scoreOut = (args: { manifest?: string; input: string; output: string }) =>
    scoreFiles(args.manifest ?? path.join(dir, 'manifest.json'), args.input, args.output, () => undefined);

  it('when the output path names the input, the manifest or the model, however spelled, then the run is refused and nothing is overwritten', async () => {
    dir = manifestDir();
    const input = path.join(dir, 'in.csv');
    const csv = 'meter,kw,temp,site\nm1,1,10,a\n';
    fs.writeFileSync(input, csv);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync(input, path.join(dir, 'link.parquet'));
    fs.linkSync(input, path.join(dir, 'hard.parquet'));
    const manifest = fs.readFileSync(path.join(dir, 'manifest.json'));
    const spellings: Array<[string, RegExp]> = [
      [input, /is the input file/],
      [path.join(dir, 'sub', '..', '.', 'in.csv'), /is the input file/],
      [path.join(dir, 'link.parquet'), /is the input file/],
      [path.join(dir, 'hard.parquet'), /is the input file/],
      [path.join(dir, 'manifest.json'), /is the manifest/],
      [path.join(dir, 'artifacts', 'model.onnx'), /is the model artifact/],
    ];
    for (const [output, reason] of spellings) {
      await expect(scoreOut({ input, output })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(reason) });
    }
    expect(fs.readFileSync(input, 'utf8')).toBe(csv);
    expect(fs.readFileSync(path.join(dir, 'manifest.json'))).toEqual(manifest);
    expect(fs.readFileSync(path.join(dir, 'artifacts', 'model.onnx'))).toEqual(fx.bytes);
  });

  it('when the output is named like another format (out.csv), then the run is refused before scoring instead of writing Parquet under that name', async () => {
    dir = manifestDir();
    const input = path.join(dir, 'in.csv');
    fs.writeFileSync(input, 'meter,kw,temp,site\nm1,1,10,a\n');
    for (const name of ['out.csv', 'out.CSV.gz', 'out.json']) {
      await expect(scoreOut({ input, output: path.join(dir, name) })).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        message: expect.stringMatching(/would be a Parquet file under a \.\S+ name, which readers take for \S+: name it \.parquet$/) as string,
      });
      expect(fs.existsSync(path.join(dir, name))).toBe(false);
    }
    await expect(scoreOut({ input, output: path.join(dir, 'predictions') })).resolves.toBe(0);
  });

  it('when a run fails, then the output and quarantine of the earlier run are left as they were, and it says so', async () => {
    dir = manifestDir();
    const out = path.join(dir, 'out.parquet');
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\nm2,oops,10,b\n');
    await scoreOut({ input: path.join(dir, 'in.csv'), output: out });
    const before = [fs.readFileSync(out), fs.readFileSync(`${out}.rejected.jsonl`)];

    fs.writeFileSync(path.join(dir, 'bad.csv'), 'meter,kw,site\nm1,1,a\n');
    const printed: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void printed.push(m));
    try {
      expect(await scoreCommand.run([path.join(dir, 'manifest.json'), path.join(dir, 'bad.csv'), out])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toEqual([expect.stringMatching(/^INVALID_INPUT_FILE: .*'temp'/), `nothing was written: ${out} and ${out}.rejected.jsonl left as they were`]);
    expect([fs.readFileSync(out), fs.readFileSync(`${out}.rejected.jsonl`)]).toEqual(before);

    // A complete run replaces both: with no rejected rows, the earlier quarantine goes.
    fs.writeFileSync(path.join(dir, 'good.csv'), 'meter,kw,temp,site\nm9,2,20,b\n');
    await scoreOut({ input: path.join(dir, 'good.csv'), output: out });
    expect((await readParquetRows(fs.readFileSync(out))).map((r) => r.meter)).toEqual(['m9']);
    expect(fs.existsSync(`${out}.rejected.jsonl`)).toBe(false);
  });

  it('when the input has no data rows, then the earlier output is replaced by one of no rows with every output column, and the earlier quarantine goes', async () => {
    dir = manifestDir();
    const out = path.join(dir, 'out.parquet');
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\nm2,oops,10,b\n');
    await scoreOut({ input: path.join(dir, 'in.csv'), output: out });
    const earlierSchema = hyparquet.parquetMetadata(new Uint8Array(fs.readFileSync(out))).schema;

    fs.writeFileSync(path.join(dir, 'empty.csv'), 'meter,kw,temp,site\n');
    const lines: string[] = [];
    expect(await scoreFiles(path.join(dir, 'manifest.json'), path.join(dir, 'empty.csv'), out, (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([`read 0 rows (${path.join(dir, 'empty.csv')} has no data rows): 0 scored -> ${out}`]);
    expect(fs.readdirSync(dir).sort()).toEqual(['artifacts', 'empty.csv', 'in.csv', 'manifest.json', 'out.parquet']);
    const bytes = fs.readFileSync(out);
    const metadata = await readParquetMetadata(bufferAsyncBuffer(bytes));
    expect(metadata).toMatchObject({ num_rows: 0n, row_groups: [] });
    expect(metadata.schema).toEqual(earlierSchema);
    expect(parquetColumns(metadata)).toEqual(['meter', 'prediction', 'model_version', 'run_id', 'source_row', 'source_file']);
    expect(await readParquetRows(bytes)).toEqual([]);

    expect(await duckdbShapeOf(out)).toEqual({
      columns: [
        ['meter', 'VARCHAR'],
        ['prediction', 'DOUBLE'],
        ['model_version', 'INTEGER'],
        ['run_id', 'VARCHAR'],
        ['source_row', 'INTEGER'],
        ['source_file', 'VARCHAR'],
      ],
      rows: 0,
    });

    // The same file as a header-only gzip CSV gives (one chunk, scored and stitched like rows), and
    // a Parquet input of no rows; in a folder not made yet.
    fs.writeFileSync(path.join(dir, 'empty.csv.gz'), gzipSync('meter,kw,temp,site\n'));
    const noRows = (name: string, type: 'DOUBLE' | 'STRING') => ({ name, data: [], type });
    fs.writeFileSync(path.join(dir, 'empty.parquet'), parquetOf([noRows('meter', 'STRING'), noRows('kw', 'DOUBLE'), noRows('temp', 'DOUBLE'), noRows('site', 'STRING')], 10));
    for (const input of ['empty.csv.gz', 'empty.parquet']) {
      const other = path.join(dir, input.replace('.', '-'), 'out.parquet');
      await expect(scoreOut({ input: path.join(dir, input), output: other })).resolves.toBe(0);
      expect(fs.readFileSync(other)).toEqual(bytes);
    }
  });

  it('when scoring is interrupted by SIGINT or SIGTERM, then its hidden parts folder is removed and the signal ends the process', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-score-'));
    const root = path.resolve(__dirname, '../../..');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, ['-r', path.join(root, 'test/support/register-ts.js'), path.join(root, 'test/support/score-parts-child.ts'), path.join(dir, 'out.parquet')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, s) => resolve(s)));
      try {
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        expect(fs.readdirSync(dir)).toEqual([expect.stringMatching(/^\.out\.parquet\.parts-\d+-/)]);
        child.kill(signal);
        expect(await exited).toBe(signal);
        expect(fs.readdirSync(dir)).toEqual([]);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });

  it('when a killed run left its parts folder, then the next run removes it, and leaves the folder of a run still going', async () => {
    dir = manifestDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = path.join(dir, `.out.parquet.parts-${dead}-a1b2c3`);
    const running = path.join(dir, `.out.parquet.parts-${process.ppid}-d4e5f6`);
    for (const folder of [stale, running]) {
      fs.mkdirSync(folder);
      fs.writeFileSync(path.join(folder, 'chunk-00000.parquet'), 'PAR1');
    }
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    await scoreOut({ input: path.join(dir, 'in.csv'), output: path.join(dir, 'out.parquet') });
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(running)).toBe(true);
    expect(removeStaleParts(path.join(dir, 'out.parquet'))).toEqual([]);
  });

  it('when artifact.path is absolute, climbs out of the manifest folder or links out of it, then the manifest is refused before anything is read', async () => {
    dir = manifestDir();
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'model.onnx'), fx.bytes);
      fs.symlinkSync(path.join(outside, 'model.onnx'), path.join(dir, 'linked-out.onnx'));
      fs.symlinkSync(path.join(dir, 'artifacts', 'model.onnx'), path.join(dir, 'linked-in.onnx'));
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      const withArtifact = (artifactPath: string) => {
        const file = path.join(dir, `m-${Math.random().toString(36).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify({ ...manifest, artifact: { path: artifactPath } }));
        return file;
      };
      const refused: Array<[string, RegExp]> = [
        ['../../../etc/passwd', /leads out of the manifest's folder/],
        [path.join(outside, 'model.onnx'), /is absolute/],
        ['linked-out.onnx', /symbolic link out of the manifest's folder/],
      ];
      for (const [artifactPath, reason] of refused) {
        await expect(scoreOut({ manifest: withArtifact(artifactPath), input: path.join(dir, 'in.csv'), output: path.join(dir, 'o.parquet') })).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
          message: expect.stringMatching(reason),
        });
      }
      expect(await scoreOut({ manifest: withArtifact('linked-in.onnx'), input: path.join(dir, 'in.csv'), output: path.join(dir, 'o.parquet') })).toBe(0);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('when a CSV has a quote never closed on row 1 and a line past the record bound, then those two rows are quarantined with the reason and the rest are scored', async () => {
    dir = manifestDir();
    const rows = Array.from({ length: 3000 }, (_, i) => `m${i + 3},${i % 9},${i % 11},${'ab'[i % 2]}`);
    fs.writeFileSync(path.join(dir, 'in.csv'), `meter,kw,temp,site\nm1,1,"10,a\n${'x,'.repeat(20_000)}\n${rows.join('\n')}\n`);
    const out = path.join(dir, 'out.parquet');
    const printed: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((m: string) => void printed.push(m));
    try {
      expect(await scoreCommand.run([path.join(dir, 'manifest.json'), path.join(dir, 'in.csv'), out, '--max-record-bytes', '4096'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toEqual([`read 3002 rows: 3000 scored -> ${out}`, `2 rejected -> ${out}.rejected.jsonl`, '  unreadable_row: 2']);
    const quarantined = fs.readFileSync(`${out}.rejected.jsonl`, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { row: number; reason: string; cells: string[] });
    expect(quarantined.map((q) => [q.row, q.cells.length])).toEqual([
      [1, 3],
      [2, 0],
    ]);
    expect(quarantined[0]!.reason).toMatch(/a quote on this line is not closed within 4 KiB/);
    expect(quarantined[1]!.reason).toMatch(/^the record is 40,001 bytes long, more than the 4 KiB allowed/);
  });

  it('when the CSV header has more fields than --max-fields allows, then the refusal names the option that raises the bound', async () => {
    dir = manifestDir();
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const out = path.join(dir, 'out.parquet');
    const printed: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void printed.push(m));
    try {
      expect(await scoreCommand.run([path.join(dir, 'manifest.json'), path.join(dir, 'in.csv'), out, '--max-fields', '3'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(printed[0]).toMatch(/^INVALID_INPUT_FILE: .*the row has 4 fields, more than the 3 allowed \(the field-count bound\).*\n--max-fields N raises the field-count bound$/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('when a CSV bound option is not a positive whole number, then usage exits 2 naming it', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      expect(await scoreCommand.run(['m.json', 'in.csv', 'out.parquet', '--max-fields', '0'])).toBe(2);
      expect(await scoreCommand.run(['m.json', 'in.csv', 'out.parquet', '--max-field-bytes', '1e6'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors[0]).toMatch(/^--max-fields takes a positive whole number of fields, not '0'/);
    expect(errors[1]).toMatch(/^--max-field-bytes takes a positive whole number of bytes, not '1e6'/);
  });

  it('when a CSV bound option is given twice, in any spelling, then usage exits 2 naming it, not the last value kept', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      expect(await scoreCommand.run(['m.json', 'in.csv', 'out.parquet', '--max-fields', '10', '--max-fields=20'])).toBe(2);
      expect(await scoreCommand.run(['m.json', '--max-record-bytes', '100', 'in.csv', 'out.parquet', '--max-fields', '5', '--max-record-bytes', '100'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors[0]).toMatch(/^--max-fields is given twice: it takes one value\n\nusage: mlops score/);
    expect(errors[1]).toMatch(/^--max-record-bytes is given twice: it takes one value\n/);
  });
  it('when --help is asked for, a bound comes as --name=value, or a path follows --, then it reads them as the other commands do', async () => {
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await scoreCommand.run(['--help'])).toBe(0);
      expect(await scoreCommand.run(['m.json', '-h'])).toBe(0);
      expect(err).not.toHaveBeenCalled();
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(out[0]).toMatch(/^usage: mlops score <version-manifest.json>/);
    expect(out[0]).toContain('Exit codes:');
    dir = manifestDir();
    fs.writeFileSync(path.join(dir, '-in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    const cwd = process.cwd();
    process.chdir(dir);
    const quiet = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const code = await scoreCommand.run(['--max-fields=4', '--', 'manifest.json', '-in.csv', 'out.parquet']);
      expect(code).toBe(0);
    } finally {
      quiet.mockRestore();
      process.chdir(cwd);
    }
    expect((await readParquetRows(fs.readFileSync(path.join(dir, 'out.parquet')))).map((r) => r.meter)).toEqual(['m1']);
  });
  it('when the input is missing or a folder, or the output is a folder, then it says so with the paths as given, before the model is loaded', async () => {
    dir = manifestDir();
    fs.writeFileSync(path.join(dir, 'in.csv'), 'meter,kw,temp,site\nm1,1,10,a\n');
    fs.mkdirSync(path.join(dir, 'out.parquet'));
    const printed: string[] = [];
    const err = jest.spyOn(console, 'error').mockImplementation((m: string) => void printed.push(m));
    const runtime = jest.spyOn(OnnxModelRuntime.prototype, 'prepare');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await scoreCommand.run(['manifest.json', 'nope.csv', 'o.parquet'])).toBe(1);
      expect(await scoreCommand.run(['manifest.json', 'artifacts', 'o.parquet'])).toBe(1);
      expect(await scoreCommand.run(['manifest.json', 'in.csv', 'out.parquet'])).toBe(1);
    } finally {
      process.chdir(cwd);
      err.mockRestore();
    }
    expect(runtime).not.toHaveBeenCalled();
    runtime.mockRestore();
    expect(printed).toEqual([
      'NOT_FOUND: no such input file: nope.csv',
      'nothing was written',
      'VALIDATION_ERROR: the input artifacts is a folder: give a .csv, .csv.gz or .parquet file',
      'nothing was written',
      'VALIDATION_ERROR: the output out.parquet is a folder: give a file path',
      'nothing was written: out.parquet left as it was',
    ]);
  });
  it('when the input or the output is in a folder whose name ends in a space, then the file is scored (those names broke the lake path rules)', async () => {
    dir = manifestDir();
    fs.mkdirSync(path.join(dir, 'drop '));
    const input = path.join(dir, 'drop ', 'in.csv');
    fs.writeFileSync(input, 'meter,kw,temp,site\nm1,1,10,a\nm2,oops,10,b\n');
    const out = path.join(dir, 'scored ', 'out.parquet');
    expect(await scoreFiles(path.join(dir, 'manifest.json'), input, out, () => undefined)).toBe(0);
    expect((await readParquetRows(fs.readFileSync(out))).map((r) => [r.meter, r.source_file])).toEqual([['m1', 'in.csv']]);
    expect(JSON.parse(fs.readFileSync(`${out}.rejected.jsonl`, 'utf8'))).toMatchObject({ row: 2 });

    // A path the rules allow is named in full, as before.
    const plain = path.join(dir, 'plain.csv');
    fs.copyFileSync(input, plain);
    expect(await scoreFiles(path.join(dir, 'manifest.json'), plain, out, () => undefined)).toBe(0);
    expect((await readParquetRows(fs.readFileSync(out)))[0]!.source_file).toBe(path.relative(path.parse(plain).root, plain).split(path.sep).join('/'));
  });
});

/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { checkCommand } from '../../../cli/check';
import { fitCommand } from '../../../cli/fit';
import { packageCommand } from '../../../cli/package';
import { transformCommand } from '../../../cli/transform';
import {
  linearRegressor,
  sklearnLinearRegressionPipeline,
  zipMapClassifier,
} from '../../fixtures/onnx-models';
import { runCli } from '../../support/cli-run';
import { readParquetRows } from '../../support/scoring-fixtures';

const commands = {
  fit: fitCommand,
  transform: transformCommand,
  package: packageCommand,
  check: checkCommand,
};

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-commands-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content?: string | Buffer) => {
  const p = path.join(dir, name);
  if (content !== undefined) fs.writeFileSync(p, content);
  return p;
};

/** Fitted transforms feeding 'kw' twice: the raw value and a passthrough copy. */
const kwTwice = JSON.stringify({
  specVersion: 1,
  specHash: '0'.repeat(64),
  inputs: [{ name: 'kw', kind: 'numeric' }],
  steps: [{ type: 'passthrough', columns: ['kw'], outputs: ['kw2'] }],
  output: ['kw', 'kw2'],
  trainingRows: 1,
  fittedRows: 1,
});

const model = {
  name: 'energy',
  task: 'regression',
  idColumn: 'meter',
  features: [
    { name: 'kw', type: 'numeric' },
    { name: 'site', type: 'categorical' },
  ],
};

describe('mlops fit, transform, package and check on the command line', () => {
  it.each(Object.entries(commands))(
    'when `mlops %s --help` runs, then the usage goes to stdout and it exits 0',
    async (name, command) => {
      const result = await runCli(command, ['--help']);
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toMatch(new RegExp(`^usage: mlops ${name} `));
      expect(result.out).toContain('Exit codes:');
    },
  );

  it.each([
    [fitCommand, ['spec.json', 'data.csv'], /mlops fit: --out <fitted.json> is required/],
    [fitCommand, ['spec.json'], /mlops fit: missing <training.csv\|parquet>/],
    [fitCommand, ['spec.json', 'data.csv', '-o', 'x.json', '--bogus'], /mlops fit: Unknown option '--bogus'/],
    [
      fitCommand,
      ['spec.json', 'data.csv', '--out'],
      /mlops fit: Option '-o, --out <value>' argument missing/,
    ],
    [transformCommand, ['a', 'b', 'c', '-o', 'x'], /mlops transform: unexpected argument 'c'/],
    [packageCommand, ['.', '--sample', 's.csv'], /mlops package: --sample and --expected go together/],
    [checkCommand, [], /mlops check: missing <package-dir\|manifest.json>/],
    // An option that takes one value, given twice in any spelling, is refused, not the last kept.
    [fitCommand, ['spec.json', 'data.csv', '-o', 'a.json', '--out=b.json'], /mlops fit: --out is given twice: it takes one value\n/],
    [fitCommand, ['spec.json', 'data.csv', '-o', 'a.json', '--model', 'm.json', '--model', 'm.json'], /mlops fit: --model is given twice: it takes one value\n/],
    [transformCommand, ['f.json', 'd.csv', '-o', 'x', '--id', 'a', '--keep', 'y', '--id', 'b'], /mlops transform: --id is given twice: it takes one value\n/],
    [packageCommand, ['.', '--version', '2', '--version', '3'], /mlops package: --version is given twice: it takes one value\n/],
    [checkCommand, ['.', '--data', 'a.csv', '--data', 'b.csv'], /mlops check: --data is given twice: it takes one value\n/],
  ] as const)(
    'when the command line is wrong (%#), then stderr names the argument, shows the usage, and it exits 2',
    async (command, args, message) => {
      const result = await runCli(command, [...args]);
      expect(result.code).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toMatch(message);
      expect(result.err).toContain('usage: mlops');
    },
  );

  it('when the files name a column that is not there, or an option points nowhere, then the argument is named and it exits 2', async () => {
    file('fitted.json', JSON.stringify({}));
    file('data.csv', 'meter,kw,site\nm1,1,a\n');
    const fitted = await runCli(fitCommand, [
      file('spec.json', JSON.stringify({ specVersion: 1, output: ['kw'] })),
      file('data.csv'),
      '-o',
      file('f.json'),
    ]);
    expect(fitted.code).toBe(0);
    const transformed = await runCli(transformCommand, [
      file('f.json'),
      file('data.csv'),
      '-o',
      file('x.parquet'),
      '--keep',
      'nope',
    ]);
    expect(transformed.code).toBe(2);
    expect(transformed.err).toContain(
      `mlops transform: --id: ${file('data.csv')} has no column 'id' (its columns: meter, kw, site)\n`,
    );
    expect((await runCli(packageCommand, [dir])).err).toContain(
      `mlops package: --onnx: no such file ${path.join(dir, 'model.onnx')}\n`,
    );
    expect((await runCli(checkCommand, [dir, '--data', 'nowhere.csv'])).err).toContain(
      'mlops check: --data: no such file nowhere.csv',
    );
    expect((await runCli(checkCommand, [dir])).err).toContain(
      `mlops check: <package-dir|manifest.json>: ${path.join(dir, 'manifest.json')} does not exist`,
    );
  });

  it('when a spec or a definition is invalid, then it fails with exit 1 and the field named', async () => {
    file('data.csv', 'meter,kw,site\nm1,1,a\n');
    const result = await runCli(fitCommand, [
      file(
        'spec.json',
        JSON.stringify({
          specVersion: 1,
          steps: [{ type: 'standardize', columns: ['kw'], outputs: ['a', 'b'] }],
          output: ['kw'],
        }),
      ),
      file('data.csv'),
      '-o',
      file('f.json'),
    ]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^mlops fit: VALIDATION_ERROR: invalid transform spec:\n.*standardize needs 1 output name\(s\), got 2\n\s+→ at steps\[0\]\.outputs/,
    );
  });

  it('when `mlops fit` types columns without a model, then one_hot columns are categories even when they look like numbers, and bad cells leave their rows out', async () => {
    file('data.csv', 'meter,kw,site\nm1,1.5,10\nm2,2.5,20\nm3,oops,10\nm4,3,30\n');
    const spec = {
      specVersion: 1,
      steps: [
        { type: 'one_hot', column: 'site' },
        { type: 'standardize', columns: ['kw'] },
      ],
      output: ['kw', 'site_10', 'site_20', 'site_30'],
    };
    const inferred = await runCli(fitCommand, [
      file('spec.json', JSON.stringify(spec)),
      file('data.csv'),
      '-o',
      file('f.json'),
    ]);
    // 'kw' holds text in one row: without a model it is a categorical column, which standardize refuses.
    expect(inferred.err).toContain("column 'kw' is categorical, a numeric column is needed");
    // The output says why first, and what to do; 'site' is categorical by the spec and not named.
    expect(inferred.out).toBe(
      '\'kw\' is read as categorical: 1 of its 4 cells are not numbers (first: row 3, "oops"); give --model to type it as numeric, leaving those rows out\n',
    );
    const typed = await runCli(fitCommand, [
      file('spec.json'),
      file('data.csv'),
      '-o',
      file('f.json'),
      '--model',
      file('model.json', JSON.stringify(model)),
    ]);
    expect(typed).toMatchObject({ code: 0, err: '' });
    expect(typed.out).toContain(
      '1 of 4 rows left out (first: row 3: \'kw\' is "oops", not a finite number)',
    );
    const fitted = JSON.parse(fs.readFileSync(file('f.json'), 'utf8')) as {
      inputs: unknown;
      steps: { categories?: string[] }[];
      trainingRows: number;
    };
    expect(fitted.inputs).toEqual([
      { name: 'site', kind: 'categorical' },
      { name: 'kw', kind: 'numeric' },
    ]);
    expect(fitted.steps[0]!.categories).toEqual(['10', '20', '30']);
    expect(fitted.trainingRows).toBe(3);
  });

  it('when the ONNX file is outside the manifest\'s folder (by its path or through a symbolic link) or has a name a package in the lake cannot hold, then `mlops package` refuses it and writes nothing; one in a subfolder is fine', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-commands-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'model.onnx'), linearRegressor([1, 2], 0).bytes);
      file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
      file('fitted.json', kwTwice);
      const climbing = await runCli(packageCommand, [dir, '--onnx', path.join(outside, 'model.onnx')]);
      expect(climbing.code).toBe(2);
      expect(climbing.err).toContain(`mlops package: --onnx: ${path.join(outside, 'model.onnx')} is not inside ${dir}, the folder of the manifest`);
      expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);

      // Inside by name, outside once followed: `mlops check` would refuse the package it wrote.
      fs.symlinkSync(path.join(outside, 'model.onnx'), path.join(dir, 'model.onnx'));
      const linkedFile = await runCli(packageCommand, [dir]);
      expect(linkedFile.code).toBe(2);
      expect(linkedFile.err).toContain(`leads through a symbolic link out of ${dir}, the folder of the manifest (to ${fs.realpathSync(path.join(outside, 'model.onnx'))})`);
      fs.symlinkSync(outside, path.join(dir, 'linked'));
      const linkedFolder = await runCli(packageCommand, [dir, '--onnx', path.join(dir, 'linked', 'model.onnx')]);
      expect(linkedFolder.code).toBe(2);
      expect(linkedFolder.err).toContain('leads through a symbolic link out of');
      expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
      fs.rmSync(path.join(dir, 'model.onnx'));
      fs.rmSync(path.join(dir, 'linked'));

      file(' model.onnx', linearRegressor([1, 2], 0).bytes);
      const spaced = await runCli(packageCommand, [dir, '--onnx', path.join(dir, ' model.onnx')]);
      expect(spaced.code).toBe(1);
      expect(spaced.err).toContain('the ONNX file\'s path in the package, " model.onnx", cannot name a file of a package in the data lake');
      expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);

      fs.mkdirSync(path.join(dir, 'onnx'));
      file('onnx/model.onnx', linearRegressor([1, 2], 0).bytes);
      expect((await runCli(packageCommand, [dir, '--onnx', path.join(dir, 'onnx', 'model.onnx')])).code).toBe(0);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).artifact.path).toBe('onnx/model.onnx');
      expect((await runCli(checkCommand, [dir])).code).toBe(0);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('when the model definition names a column the model does not have (a drift override on a typo), then `mlops package` refuses it as POST /models would, and writes nothing', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }], policies: { drift: { columns: [{ column: 'kwh', ignore: true }] } } }));
    file('fitted.json', kwTwice);
    const refused = await runCli(packageCommand, [dir]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `model definition ${path.join(dir, 'model.json')}: the drift override names 'kwh', which is not a monitored column of the model (kw, prediction) (at policies.drift.columns.0.column)`,
    );
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
  });

  it('when a package does not hold together, then `mlops check` prints the failing check with its code and exits 1', async () => {
    const fx = sklearnLinearRegressionPipeline(
      {
        numeric: [{ name: 'kw', mean: 1, std: 2 }],
        categorical: [{ name: 'region', categories: ['a', 'b'] }],
      },
      [1, 2, 3],
      0,
    );
    file('model.onnx', fx.bytes);
    file('model.json', JSON.stringify(model));
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const result = await runCli(checkCommand, [dir]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^ok {4}artifact {4}sha256 [0-9a-f]{64}, \d+ bytes\n/);
    expect(result.out).toContain(
      "FAIL  signature   SIGNATURE_MISMATCH: the model's inputs cannot be fed: the input 'region' has no column: no feature of the model is named so, and there are no fitted transforms to feed it",
    );
  });

  it('when a manifest has what registration refuses (a description over 2000 characters, a field registration does not know), then `mlops check` refuses it too and exits 1', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const written = JSON.parse(fs.readFileSync(file('manifest.json'), 'utf8')) as Record<string, unknown>;
    file('manifest.json', JSON.stringify({ ...written, description: 'a short note', metrics: { rmse: 0.5 } }));
    expect((await runCli(checkCommand, [dir])).code).toBe(0);

    file('manifest.json', JSON.stringify({ ...written, description: 'x'.repeat(2001) }));
    const long = await runCli(checkCommand, [dir]);
    expect(long.code).toBe(1);
    expect(long.err).toContain(`invalid registration manifest ${path.join(dir, 'manifest.json')}`);
    expect(long.err).toMatch(/description/);
    expect(long.out).not.toContain('passed');

    file('manifest.json', JSON.stringify({ ...written, descripton: 'a typo' }));
    const typo = await runCli(checkCommand, [dir]);
    expect(typo.code).toBe(1);
    expect(typo.err).toContain('descripton');
  });

  it('when the manifest names no validation dataset, then `mlops check` passes with a note that the lifecycle would fail its validation; with one, no note', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const without = await runCli(checkCommand, [dir]);
    expect(without.code).toBe(0);
    expect(without.out).toContain(
      'note  datasets    no validation dataset (datasets: [{ "role": "validation", "uri": "datasets/<model>/validation.csv" }], a file in the lake: mlops lake put): the lifecycle validates on it, and fails the validation of a version without one\npassed: energy v1',
    );
    const written = JSON.parse(fs.readFileSync(file('manifest.json'), 'utf8')) as Record<string, unknown>;
    file('manifest.json', JSON.stringify({ ...written, datasets: [{ role: 'training', uri: 'datasets/energy/train.csv' }] }));
    expect((await runCli(checkCommand, [dir])).out).toContain('note  datasets');
    file('manifest.json', JSON.stringify({ ...written, datasets: [{ role: 'validation', uri: 'datasets/energy/validation.csv' }] }));
    const withOne = await runCli(checkCommand, [dir]);
    expect(withOne.code).toBe(0);
    expect(withOne.out).not.toContain('datasets');
    expect(withOne.out).toContain('passed: energy v1');
  });

  it('when the package holds a registration manifest (no model, no artifact: what the API takes), then `mlops check` says so and how to write a version manifest, and exits 1', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const { model: _definition, artifact: _artifact, version: _version, ...registration } = JSON.parse(fs.readFileSync(file('manifest.json'), 'utf8')) as Record<string, unknown>;
    file('manifest.json', JSON.stringify(registration));
    const result = await runCli(checkCommand, [dir]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${path.join(dir, 'manifest.json')} is a registration manifest (what POST /models/{model}/versions takes with the ONNX file): it has no 'model' or 'artifact'.`);
    expect(result.err).toContain('write one with mlops package <dir>');
    expect(result.out).not.toContain('passed');
  });

  it('when the artifact changed after packaging, or the graph names other classes than the definition, then the artifact or signature check fails', async () => {
    const fx = linearRegressor([1, 2], 0);
    file('model.onnx', fx.bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const passed = await runCli(checkCommand, [dir]);
    expect(passed.code).toBe(0);
    expect(passed.out.split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'ok artifact',
      'ok signature',
      'ok transforms',
      'note parity',
      'note datasets',
      'passed: energy',
      '',
    ]);
    file('model.onnx', linearRegressor([1, 3], 0).bytes);
    const changed = await runCli(checkCommand, [dir]);
    expect(changed.code).toBe(1);
    expect(changed.out).toMatch(
      /^FAIL {2}artifact {4}ARTIFACT_INTEGRITY: the artifact has sha256 [0-9a-f]{64}, the package says [0-9a-f]{64}\n$/,
    );

    file(
      'model.onnx',
      zipMapClassifier(2, [{ feature: 0, threshold: 0, left: [1, 0], right: [0, 1] }], ['no', 'yes']),
    );
    file(
      'model.json',
      JSON.stringify({
        ...model,
        task: 'binary',
        classLabels: ['yes', 'no'],
        features: [{ name: 'kw', type: 'numeric' }],
      }),
    );
    fs.rmSync(file('fitted.json'));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const swapped = await runCli(checkCommand, [dir]);
    expect(swapped.out).toContain(
      `FAIL  signature   SIGNATURE_MISMATCH: the graph's classes are ["no","yes"] (ZipMap 'zipmap'), the model definition names ["yes","no"]`,
    );
  });
  it('when --keep names an output feature, the id, or a column twice, then no Parquet file with two columns of one name is written', async () => {
    const fitted = file('fitted.json', kwTwice);
    file('data.csv', 'id,kw,kw2,y\nm1,3,9,1\n');
    const clash = await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet'), '--keep', 'y,kw2']);
    expect(clash.code).toBe(2);
    expect(clash.err).toContain(
      "mlops transform: --keep: 'kw2' is the name of an output feature of the fitted transforms: the Parquet file would hold two columns of that name\n",
    );
    expect(fs.existsSync(file('x.parquet'))).toBe(false);
    const idClash = await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet'), '--id', 'kw']);
    expect(idClash.code).toBe(2);
    expect(idClash.err).toContain("mlops transform: --id: 'kw' is the name of an output feature");

    const twice = await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet'), '--keep', 'y,id,y']);
    expect(twice).toMatchObject({ code: 0, err: '' });
    const rows = await readParquetRows(fs.readFileSync(file('x.parquet')));
    expect(rows).toEqual([{ id: 'm1', y: 1, kw: 3, kw2: 3 }]);
  });

  it('when a cell is one scoring rejects (text, NaN, a number float32 cannot hold), then `mlops transform` leaves its row out with the reason, as scoring quarantines it', async () => {
    const fitted = file('fitted.json', kwTwice);
    file('data.csv', 'id,kw\nm1,3\nm2,1e39\nm3,-4e38\nm4,NaN\nm5,3e38\n');
    const result = await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet')]);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain('5 rows read: 2 transformed');
    // 3e38 is below float32's largest value: scoring feeds it, and so does the training matrix.
    expect(await readParquetRows(fs.readFileSync(file('x.parquet')))).toEqual([
      { id: 'm1', kw: 3, kw2: 3 },
      { id: 'm5', kw: Math.fround(3e38), kw2: Math.fround(3e38) },
    ]);
    const rejected = fs.readFileSync(file('x.parquet.rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(rejected).toEqual([
      { row: 2, reason: "'kw' is 1e39, which float32 (the model's input type) cannot hold" },
      { row: 3, reason: "'kw' is -4e38, which float32 (the model's input type) cannot hold" },
      { row: 4, reason: '\'kw\' is "NaN", not a number, a boolean or an ISO 8601 date-time' },
    ]);
  });

  it.each([
    [';', "';'"],
    ['\t', 'tabs'],
  ])('when a CSV file is separated by %j, then fit and transform say so and what to do, instead of a broken quote or a missing column', async (separator, named) => {
    const fitted = file('fitted.json', kwTwice);
    const data = file('data.csv', ['id,kw,note', 'm1,3,"a, b"', 'm2,4,c'].map((l) => l.replaceAll(',', separator)).join('\n') + '\n');
    const header = JSON.stringify(['id', 'kw', 'note'].join(separator));
    const told = `INVALID_INPUT_FILE: ${data}: its header is one column, ${header}: the file looks separated by ${named}, and only comma-separated files are read; save it as comma-separated CSV\n`;
    const transformed = await runCli(transformCommand, [fitted, data, '-o', file('x.parquet')]);
    expect(transformed).toMatchObject({ code: 1, err: `mlops transform: ${told}` });
    const spec = file('spec.json', JSON.stringify({ specVersion: 1, steps: [{ type: 'standardize', columns: ['kw'] }], output: ['kw'] }));
    const fittedAgain = await runCli(fitCommand, [spec, data, '-o', file('f.json')]);
    expect(fittedAgain).toMatchObject({ code: 1, err: `mlops fit: ${told}` });
    expect(fs.existsSync(file('x.parquet'))).toBe(false);
    expect(fs.existsSync(file('f.json'))).toBe(false);
  });

  it('when a file has empty columns without a name (trailing commas, as spreadsheets export), then fit and transform read it as scoring does, leaving them out', async () => {
    const data = file('data.csv', 'id,kw,,\nm1,3,,\nm2,5,,\n');
    const spec = file('spec.json', JSON.stringify({ specVersion: 1, steps: [{ type: 'standardize', columns: ['kw'] }], output: ['kw'] }));
    expect(await runCli(fitCommand, [spec, data, '-o', file('f.json')])).toMatchObject({ code: 0, err: '' });
    expect(await runCli(transformCommand, [file('f.json'), data, '-o', file('x.parquet')])).toMatchObject({ code: 0, err: '' });
    expect(await readParquetRows(fs.readFileSync(file('x.parquet')))).toEqual([
      { id: 'm1', kw: -1 },
      { id: 'm2', kw: 1 },
    ]);
    // Two columns of one real name are still refused: which one would a step read?
    const twice = await runCli(transformCommand, [file('f.json'), file('twice.csv', 'id,kw,kw\nm1,3,4\n'), '-o', file('y.parquet')]);
    expect(twice).toMatchObject({ code: 1, err: expect.stringContaining("column 'kw' appears twice in the header") as string });
  });

  it('when the data lacks an input column of the fitted transforms, then `mlops transform` names it and shows the header, so a typo or another case shows', async () => {
    const result = await runCli(transformCommand, [file('fitted.json', kwTwice), file('data.csv', 'id,KW\nm1,3\n'), '-o', file('x.parquet')]);
    expect(result).toMatchObject({ code: 1, err: 'mlops transform: INVALID_INPUT_FILE: the file lacks column(s) \'kw\'; its header reads "id", "KW"\n' });
  });

  it('when the output is named like another format (features.csv), then `mlops transform` refuses it instead of writing Parquet under that name', async () => {
    const result = await runCli(transformCommand, [file('fitted.json', kwTwice), file('data.csv', 'id,kw\nm1,3\n'), '-o', file('features.csv')]);
    expect(result).toMatchObject({
      code: 1,
      err: `mlops transform: VALIDATION_ERROR: the output ${file('features.csv')} would be a Parquet file under a .csv name, which readers take for CSV: name it .parquet\n`,
    });
    expect(fs.existsSync(file('features.csv'))).toBe(false);
  });

  it('when a --keep column holds numbers with a few NaN or infinities spelled out, then it is kept as numbers, not as text', async () => {
    const fitted = file('fitted.json', kwTwice);
    file('data.csv', 'id,kw,y,note\nm1,3,1.5,a\nm2,4,nan,1\nm3,5,,2\nm4,6,-Infinity,3\n');
    expect(await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet'), '--keep', 'y,note'])).toMatchObject({ code: 0, err: '' });
    const rows = await readParquetRows(fs.readFileSync(file('x.parquet')));
    expect(rows.map((r) => [r.y, r.note])).toEqual([
      [1.5, 'a'],
      [NaN, '1'],
      [NaN, '2'],
      [-Infinity, '3'],
    ]);
  });

  it('when --keep is given twice, then the columns of both are kept (not only the last)', async () => {
    const fitted = file('fitted.json', kwTwice);
    file('data.csv', 'id,kw,w,y\nm1,3,0.5,1\n');
    const result = await runCli(transformCommand, [fitted, file('data.csv'), '-o', file('x.parquet'), '--keep', 'y', '--keep=w']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(await readParquetRows(fs.readFileSync(file('x.parquet')))).toEqual([{ id: 'm1', y: 1, w: 0.5, kw: 3, kw2: 3 }]);
  });
  it('when an output path names a file the command reads, then fit, transform and package refuse it and the file is left as it was', async () => {
    const spec = file('spec.json', JSON.stringify({ specVersion: 1, output: ['kw'] }));
    const data = file('data.csv', 'id,kw\nm1,1\n');
    const fit = await runCli(fitCommand, [spec, data, '-o', path.join(dir, '.', 'data.csv')]);
    expect(fit.code).toBe(1);
    expect(fit.err).toContain(`mlops fit: VALIDATION_ERROR: the output ${path.join(dir, 'data.csv')} is the training file ${data}: fitting would overwrite it`);
    expect(fs.readFileSync(data, 'utf8')).toBe('id,kw\nm1,1\n');

    const fitted = file('fitted.json', kwTwice);
    const transform = await runCli(transformCommand, [fitted, data, '-o', fitted]);
    expect(transform.err).toContain(`the output ${fitted} is the fitted transforms ${fitted}: transforming would overwrite it`);
    expect(fs.readFileSync(fitted, 'utf8')).toBe(kwTwice);
    fs.symlinkSync(data, file('data.parquet.rejected.jsonl'));
    const quarantine = await runCli(transformCommand, [fitted, data, '-o', file('data.parquet')]);
    expect(quarantine.err).toContain(`is the data file ${data}: transforming would overwrite it`);
    expect(fs.readFileSync(data, 'utf8')).toBe('id,kw\nm1,1\n');

    const onnx = file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    const pkg = await runCli(packageCommand, [dir, '-o', onnx]);
    expect(pkg.code).toBe(1);
    expect(pkg.err).toContain(`the output ${onnx} is the ONNX file ${onnx}: packaging would overwrite it`);
    expect(fs.readFileSync(onnx)).toEqual(linearRegressor([1, 2], 0).bytes);
  });

  it('when writing an output fails half-way (a full disk), then the earlier output is left whole and no partial file stays behind', async () => {
    const fitted = file('fitted.json', kwTwice);
    const data = file('data.csv', 'id,kw\nm1,1\nm2,oops\n');
    const out = file('x.parquet', 'the earlier output');
    const quarantine = file('x.parquet.rejected.jsonl', 'the earlier quarantine');
    const spec = file('spec.json', JSON.stringify({ specVersion: 1, output: ['kw'] }));
    const fittedOut = file('f.json', 'the earlier fit');
    const training = file('training.csv', 'id,kw\nm1,1\n');
    const write = fs.writeFileSync;
    const full = jest.spyOn(fs, 'writeFileSync').mockImplementation((target, content, options) => {
      write(target, typeof content === 'string' ? content.slice(0, 5) : (content as Uint8Array).subarray(0, 5), options);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      const transform = await runCli(transformCommand, [fitted, data, '-o', out]);
      expect(transform.code).toBe(1);
      expect(transform.err).toContain(`mlops transform: cannot write ${quarantine}: ENOSPC: no space left on device`);
      const fit = await runCli(fitCommand, [spec, training, '-o', fittedOut]);
      expect(fit.err).toContain(`mlops fit: cannot write ${fittedOut}: ENOSPC`);
    } finally {
      full.mockRestore();
    }
    expect(fs.readFileSync(out, 'utf8')).toBe('the earlier output');
    expect(fs.readFileSync(quarantine, 'utf8')).toBe('the earlier quarantine');
    expect(fs.readFileSync(fittedOut, 'utf8')).toBe('the earlier fit');
    expect(fs.readdirSync(dir).sort()).toEqual(['data.csv', 'f.json', 'fitted.json', 'spec.json', 'training.csv', 'x.parquet', 'x.parquet.rejected.jsonl']);
  });
  it.each(['0x10', '1e3', '2.0', '0', '2147483648', ''])(
    'when --version is %j, then `mlops package` refuses it with exit 2 instead of writing another number',
    async (version) => {
      file('model.onnx', linearRegressor([1, 2], 0).bytes);
      file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
      file('fitted.json', kwTwice);
      const result = await runCli(packageCommand, [dir, '--version', version]);
      expect(result.code).toBe(2);
      expect(result.err).toContain(`mlops package: --version: '${version}' is not a whole number from 1 to 2147483647\n`);
      expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);
    },
  );

  it('when --version is a plain number, then the manifest carries it', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir, '--version', '0012'])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).version).toBe(12);
  });
  it('when the training file has no data rows, or a column no values, then `mlops fit` says so instead of calling the column text', async () => {
    const spec = file('spec.json', JSON.stringify({ specVersion: 1, steps: [{ type: 'standardize', columns: ['kw'] }], output: ['kw'] }));
    const headerOnly = await runCli(fitCommand, [spec, file('header.csv', 'id,kw\n'), '-o', file('f.json')]);
    expect(headerOnly.code).toBe(1);
    expect(headerOnly.err).toBe(`mlops fit: INSUFFICIENT_DATA: ${file('header.csv')} has no data rows: there is nothing to fit on\n`);
    const emptyColumn = await runCli(fitCommand, [spec, file('empty.csv', 'id,kw\nm1,\nm2,\n'), '-o', file('f.json')]);
    expect(emptyColumn.code).toBe(1);
    expect(emptyColumn.err).toBe("mlops fit: INSUFFICIENT_DATA: step 1 (standardize): column 'kw' has no non-missing training value to fit on\n");
    expect(fs.existsSync(file('f.json'))).toBe(false);
  });
  it('when the --sample file lacks a feature column, then `mlops package` names it instead of writing golden records that can never pass; a header with spaces around a name is read as scoring reads it', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    file('expected.csv', 'meter,prediction\nm1,9\n');
    const lacking = await runCli(packageCommand, [dir, '--sample', file('sample.csv', 'meter,kW\nm1,3\n'), '--expected', file('expected.csv')]);
    expect(lacking.code).toBe(1);
    expect(lacking.err).toBe(`mlops package: VALIDATION_ERROR: ${file('sample.csv')} lacks the model's feature column(s) 'kw' (its columns: meter, kW)\n`);
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(false);

    const spaced = await runCli(packageCommand, [dir, '--sample', file('sample.csv', 'meter, kw \nm1,3\n'), '--expected', file('expected.csv')]);
    expect(spaced.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).goldenRecords).toEqual([
      { input: { kw: 3 }, expectedOutput: { prediction: 9 } },
    ]);
    expect((await runCli(checkCommand, [dir])).out).toContain('ok    parity      1 golden records match');
  });
  it('when `mlops check --data` names a file in a folder whose name ends in a space, then the sample is scored', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    fs.mkdirSync(path.join(dir, 'samples '));
    const result = await runCli(checkCommand, [dir, '--data', file('samples /recent.csv', 'meter,kw\nm1,3\n')]);
    expect(result.err).toBe('');
    expect(result.out).toContain('ok    sample      1 rows read, 1 scored, 0 rejected');
    expect(result.code).toBe(0);
  });

  it('when `mlops check --data` names a file with only a header, then the failure names the file as given, not its path inside the lake the check reads it through', async () => {
    file('model.onnx', linearRegressor([1, 2], 0).bytes);
    file('model.json', JSON.stringify({ ...model, features: [{ name: 'kw', type: 'numeric' }] }));
    file('fitted.json', kwTwice);
    expect((await runCli(packageCommand, [dir])).code).toBe(0);
    const data = file('header.csv', 'meter,kw\n');
    const result = await runCli(checkCommand, [dir, '--data', data]);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`FAIL  sample      INVALID_INPUT_FILE: the sample ${data} has no data rows\n`);
  });
});

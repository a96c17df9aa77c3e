/**
 * `mlops package <dir>`: builds a registration package from what the training side has: the ONNX
 * file, the model definition, the fitted transforms (if any) and sample rows with the outputs the
 * trained model gave for them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { errors, parseOrThrow } from '../shared/domain/errors';
import { lakePathProblem } from '../shared/domain/lake-paths';
import { type GoldenRecord, goldenRecordsSchema } from '../shared/domain/parity';
import { integerLabelMapper } from '../shared/domain/signature-roles';
import { type FittedTransforms, fittedTransformsSchema } from '../shared/domain/transforms';
import { MAX_VERSION_NUMBER, versionNumberSchema } from '../shared/schemas/common';
import { type ModelDraft, modelDraftSchema } from '../shared/schemas/model';
import { versionManifestSchema } from '../shared/schemas/version-manifest';
import { columnReferenceProblems } from '../shared/usecases/column-clashes';
import { defineCommand, EXIT, UsageError } from './command';
import { refuseOverwritingInputs, writeFileInPlace } from './output-files';
import { readTable } from './tables';
import { goldenInputs } from './typed-table';
import { isInsideFolder, readJsonFile, symlinkOutOf } from './version-package';

const USAGE = `usage: mlops package <dir> [options]

Writes <dir>/manifest.json, a registration package for the ONNX file beside it: the artifact's
sha256 (and, for a classifier ending in ZipMap, the sha256 of the graph registration stores),
the signature read from the graph, the model definition (class labels taken from the graph when
it leaves them out), the fitted transforms, and golden records made from --sample and --expected.
Check the result with \`mlops check <dir>\`.

options:
      --onnx <file>         the model (default: <dir>/model.onnx), inside the manifest's folder
      --model <file>        the model definition (default: <dir>/model.json)
      --transforms <file>   fitted transforms from \`mlops fit\` (default: <dir>/fitted.json if it exists)
      --sample <file>       raw input rows (CSV or Parquet, the model's columns)
      --expected <file>     the trained model's outputs for those rows, in the same order: a
                            'prediction' column, for classifiers a 'probability_<class>' column per
                            class (the model's probability prefix), and optionally one column per
                            transforms output feature (the expected features)
      --version <n>         the version number written in the manifest (default: 1)
  -o, --out <file>          the manifest to write (default: <dir>/manifest.json)
  -h, --help                this text

Exit codes: 0 written, 1 failed, 2 usage.`;

export const packageCommand = defineCommand({
  name: 'package',
  summary:
    'build a registration package (manifest.json: sha256, signature from the ONNX file, golden records)',
  usage: USAGE,
  options: {
    onnx: { type: 'string' },
    model: { type: 'string' },
    transforms: { type: 'string' },
    sample: { type: 'string' },
    expected: { type: 'string' },
    version: { type: 'string' },
    out: { type: 'string', short: 'o' },
    help: { type: 'boolean', short: 'h' },
  },
  positionals: ['<dir>'],
  async run({ values, positionals }, log) {
    const dir = positionals[0]!;
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
      throw new UsageError(`<dir>: ${dir} is not a folder`);
    if ((values.sample === undefined) !== (values.expected === undefined))
      throw new UsageError('--sample and --expected go together');
    const onnxFile = values.onnx ?? path.join(dir, 'model.onnx');
    const modelFile = values.model ?? path.join(dir, 'model.json');
    const transformsFile =
      values.transforms ??
      (fs.existsSync(path.join(dir, 'fitted.json')) ? path.join(dir, 'fitted.json') : undefined);
    const out = values.out ?? path.join(dir, 'manifest.json');
    if (!fs.existsSync(onnxFile)) throw new UsageError(`--onnx: no such file ${onnxFile}`);
    if (!fs.existsSync(modelFile)) throw new UsageError(`--model: no such file ${modelFile}`);
    if (transformsFile && !fs.existsSync(transformsFile))
      throw new UsageError(`--transforms: no such file ${transformsFile}`);
    refuseOverwritingInputs(
      [out],
      { 'ONNX file': onnxFile, 'model definition': modelFile, 'fitted transforms': transformsFile, sample: values.sample, 'expected outputs': values.expected },
      'packaging',
    );
    const artifactPath = artifactPathIn(out, onnxFile);
    // Digits only: Number() would read 0x10 as 16 and 1e3 as 1000.
    const version = values.version === undefined ? 1 : /^\d+$/.test(values.version.trim()) ? Number(values.version) : NaN;
    if (!versionNumberSchema.safeParse(version).success)
      throw new UsageError(`--version: '${values.version}' is not a whole number from 1 to ${MAX_VERSION_NUMBER}`);

    const modelJson = readJsonFile(modelFile, 'model definition') as Record<string, unknown>;
    const draft = parseOrThrow(modelDraftSchema, modelJson, `model definition ${modelFile}`);
    // The checks POST /models makes of a new definition's column names: a typo found here, not after registering.
    const columnProblems = columnReferenceProblems(draft);
    if (columnProblems.length > 0)
      throw errors.validation(
        `model definition ${modelFile}: ${columnProblems.map((p) => `${p.message} (at ${p.path.join('.')})`).join('; ')}`,
      );
    const transforms = transformsFile
      ? parseOrThrow(
          fittedTransformsSchema,
          readJsonFile(transformsFile, 'fitted transforms'),
          `fitted transforms ${transformsFile}`,
        )
      : undefined;
    const bytes = fs.readFileSync(onnxFile);
    const runtime = new OnnxModelRuntime();
    const prepared = await runtime.prepare(bytes).finally(() => runtime.close());
    const classLabels =
      draft.task === 'regression' ? undefined : (draft.classLabels ?? prepared.classLabels?.labels);
    if (draft.task !== 'regression' && !classLabels)
      throw errors.validation(
        `${modelFile} names no classLabels and the graph names none: add classLabels to the model definition`,
      );

    const golden =
      values.sample && values.expected
        ? await goldenRecords(
            values.sample,
            values.expected,
            { ...draft, ...(classLabels ? { classLabels } : {}) },
            transforms,
          )
        : undefined;
    const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const manifest = {
      model: classLabels && !draft.classLabels ? { ...modelJson, classLabels } : modelJson,
      version,
      artifact: {
        path: artifactPath,
        sha256: sha256(bytes),
        ...(prepared.rewrites.length > 0 ? { rewrittenSha256: sha256(prepared.bytes) } : {}),
      },
      signature: prepared.interface,
      ...(transforms ? { transforms } : {}),
      ...(golden ? { goldenRecords: golden } : {}),
    };
    parseOrThrow(versionManifestSchema, manifest, 'manifest');
    writeFileInPlace(out, `${JSON.stringify(manifest, null, 2)}\n`);
    log(
      `wrote ${out}: ${draft.name} v${version}, ${path.basename(onnxFile)} sha256 ${manifest.artifact.sha256}`,
    );
    for (const rewrite of prepared.rewrites) log(`  registration rewrites the graph: ${rewrite}`);
    log(
      `  inputs ${prepared.interface.inputs.map((t) => `${t.name} (${t.type})`).join(', ')}; outputs ${prepared.interface.outputs.map((t) => `${t.name} (${t.type})`).join(', ')}`,
    );
    if (classLabels && !draft.classLabels)
      log(`  class labels from the graph (${prepared.classLabels!.from}): ${JSON.stringify(classLabels)}`);
    log(
      transforms
        ? `  fitted transforms: ${transforms.output.length} features, spec ${transforms.specHash}`
        : '  no fitted transforms: the graph takes raw columns',
    );
    log(golden ? `  ${golden.length} golden records` : '  no golden records (give --sample and --expected)');
    log(`next: mlops check ${dir}`);
    return EXIT.ok;
  },
});

/**
 * The ONNX file's path relative to the manifest's folder, as `artifact.path`: it must lie inside
 * that folder, also once symbolic links are followed (\`mlops check\` and a package in Blob Storage
 * refuse one that climbs out), and be a name the package folder in the data lake can hold.
 */
function artifactPathIn(manifestFile: string, onnxFile: string): string {
  const folder = path.dirname(path.resolve(manifestFile));
  const relative = path.relative(folder, path.resolve(onnxFile));
  if (!isInsideFolder(folder, path.resolve(onnxFile)))
    throw new UsageError(
      `--onnx: ${onnxFile} is not inside ${folder}, the folder of the manifest: a package's artifact.path stays inside its folder, so put the ONNX file there (or write the manifest with -o beside it)`,
    );
  const escape = symlinkOutOf(folder, onnxFile);
  if (escape !== undefined)
    throw new UsageError(
      `--onnx: ${onnxFile} leads through a symbolic link out of ${folder}, the folder of the manifest (to ${escape}): \`mlops check\` refuses such a package, so copy the ONNX file there`,
    );
  const artifactPath = relative.split(path.sep).join('/');
  const problem = lakePathProblem(artifactPath);
  if (problem)
    throw errors.validation(
      `the ONNX file's path in the package, ${JSON.stringify(artifactPath)}, cannot name a file of a package in the data lake (${problem}): rename it`,
    );
  return artifactPath;
}

const INTEGER_TEXT = /^-?\d+$/;

/** Golden records from sample rows and the outputs the trained model gave for them. */
async function goldenRecords(
  sampleFile: string,
  expectedFile: string,
  model: ModelDraft,
  transforms: FittedTransforms | undefined,
): Promise<GoldenRecord[]> {
  const sample = await readTable(sampleFile, { mode: 'text' });
  const expected = await readTable(expectedFile, { mode: 'text' });
  const inputs = goldenInputs(sample, model.features, sampleFile);
  if (expected.rowCount !== sample.rowCount)
    throw errors.validation(
      `--expected: ${expectedFile} has ${expected.rowCount} rows, ${sampleFile} has ${sample.rowCount}: one expected row per sample row, in order`,
    );
  const column = (name: string) => expected.values[name] as (string | null)[] | undefined;
  const ids = [sample.values[model.idColumn] as (string | null)[] | undefined, column(model.idColumn)] as const;
  if (ids[0] && ids[1]) {
    const row = ids[0].findIndex((id, r) => id !== ids[1]![r]);
    if (row >= 0)
      throw errors.validation(
        `--expected: row ${row + 1} has ${model.idColumn} ${ids[1][row]}, the sample's row has ${ids[0][row]}: keep both files in the same order`,
      );
  }
  const predictions = column('prediction');
  if (!predictions) throw errors.validation(`--expected: ${expectedFile} has no 'prediction' column`);
  const prefix = model.predictionColumns.probabilityPrefix;
  const labels = model.classLabels ?? [];
  // A class's probability is `<prefix><label>`, or, for named classes, `<prefix><position>`: what
  // `probability_{c}` over `model.classes_` writes for integer targets 0..k-1 (the rule that maps
  // an integer prediction to a named class).
  const byLabel = labels.map((l) => `${prefix}${l}`);
  const byPosition = labels.every((l) => INTEGER_TEXT.test(l)) ? [] : labels.map((_, i) => `${prefix}${i}`);
  const probabilityColumns =
    byLabel.some((c) => column(c)) || !byPosition.some((c) => column(c)) ? byLabel : byPosition;
  const givenProbabilities = probabilityColumns.filter((c) => column(c));
  if (givenProbabilities.length > 0 && givenProbabilities.length < labels.length)
    throw errors.validation(
      `--expected: ${expectedFile} lacks ${probabilityColumns.filter((c) => !column(c)).join(', ')} (give every class's probability, or none)`,
    );
  const featureColumns =
    transforms && transforms.output.every((f) => column(f)) ? transforms.output : undefined;
  // Probability columns that name no class would be left out of the golden records unseen.
  const strays =
    model.task === 'regression' || givenProbabilities.length > 0
      ? []
      : expected.columns.filter(
          (c) => c.startsWith(prefix) && c !== 'prediction' && c !== model.idColumn && !featureColumns?.includes(c),
        );
  if (strays.length > 0)
    throw errors.validation(
      `--expected: ${strays.join(', ')} name${strays.length === 1 ? 's' : ''} no class of ${JSON.stringify(labels)}: ` +
        `give the probabilities as ${byLabel.join(', ')}${byPosition.length > 0 ? ` (or by position, ${byPosition.join(', ')})` : ''}`,
    );
  const labelOf = integerLabelMapper(labels);
  const number = (cell: string | null, name: string, r: number) => {
    const v = Number(cell ?? '');
    if (cell === null || !Number.isFinite(v))
      throw errors.validation(
        `--expected: row ${r + 1}, column '${name}': ${JSON.stringify(cell)} is not a number`,
      );
    return v;
  };
  const records = inputs.map((input, r): GoldenRecord => {
    const cell = predictions[r] ?? null;
    const prediction =
      model.task === 'regression'
        ? number(cell, 'prediction', r)
        : INTEGER_TEXT.test(cell ?? '') && !labels.includes(cell!)
          ? (labelOf(Number(cell)) ?? cell!)
          : (cell ?? '');
    return {
      input,
      ...(featureColumns
        ? { expectedFeatures: featureColumns.map((f) => number(column(f)![r] ?? null, f, r)) }
        : {}),
      expectedOutput: {
        prediction,
        ...(givenProbabilities.length > 0
          ? { probabilities: probabilityColumns.map((c) => number(column(c)![r] ?? null, c, r)) }
          : {}),
      },
    };
  });
  return parseOrThrow(goldenRecordsSchema, records, 'golden records');
}

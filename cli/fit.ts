/**
 * `mlops fit <spec.json> <training.csv|parquet> --out <fitted.json> [--model <model.json>]`: fits a
 * transform spec on training data with the backend's own code, so the fitted transforms (and
 * their specHash) are exactly what registration expects.
 */
import { errors, parseOrThrow } from '../shared/domain/errors';
import { categoricalColumns, fitTransforms, parseTransformSpec } from '../shared/domain/transforms';
import { modelDraftSchema } from '../shared/schemas/model';
import { defineCommand, EXIT, UsageError } from './command';
import { refuseOverwritingInputs, writeFileInPlace } from './output-files';
import { readTable } from './tables';
import { inferColumnTypes, mostlyNumericCategories, typedBatch, type TypedColumn } from './typed-table';
import { readJsonFile } from './version-package';

const USAGE = `usage: mlops fit <spec.json> <training.csv|.csv.gz|.parquet> --out <fitted.json> [--model <model.json>]

Fits the transform spec on the training file exactly as the backend does and writes the fitted
transforms (with the spec's specHash) as JSON.

options:
  -o, --out <file>      where to write the fitted transforms (required)
      --model <file>    a model definition: columns are typed by its features (numeric, boolean,
                        datetime, categorical) as scoring reads them; without it, a column is
                        numeric when every cell is a number (or every cell is empty), datetime
                        when every cell is an ISO 8601 date-time, boolean when every cell is
                        true/false, else categorical (columns a one_hot or ordinal step reads
                        are always categorical)
  -h, --help            this text

Rows with a cell of the wrong type are left out and counted. Exit codes: 0 fitted, 1 failed, 2 usage.`;

export const fitCommand = defineCommand({
  name: 'fit',
  summary: 'fit a transform spec on training data (CSV or Parquet) into fitted transforms JSON',
  usage: USAGE,
  options: {
    out: { type: 'string', short: 'o' },
    model: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  positionals: ['<spec.json>', '<training.csv|parquet>'],
  async run({ values, positionals }, log) {
    const [specFile, dataFile] = positionals as [string, string];
    if (!values.out) throw new UsageError('--out <fitted.json> is required');
    refuseOverwritingInputs([values.out], { 'transform spec': specFile, 'training file': dataFile, 'model definition': values.model }, 'fitting');
    const spec = parseTransformSpec(readJsonFile(specFile, 'transform spec'));
    const table = await readTable(dataFile, { mode: 'text' });
    if (table.rowCount === 0) throw errors.insufficientData(`${dataFile} has no data rows: there is nothing to fit on`);
    const named = categoricalColumns(spec);
    const columns = values.model ? modelColumns(values.model, table.columns) : inferColumnTypes(table, named);
    if (!values.model)
      for (const c of mostlyNumericCategories(table, columns, named))
        log(
          `'${c.name}' is read as categorical: ${c.others} of its ${c.cells} cells are not numbers (first: row ${c.first.row}, ${JSON.stringify(c.first.text)}); ` +
            'give --model to type it as numeric, leaving those rows out',
        );
    const { batch, rejected } = typedBatch(table, columns);
    if (rejected.length > 0)
      log(
        `${rejected.length} of ${table.rowCount} rows left out (first: row ${rejected[0]!.row}: ${rejected[0]!.reason})`,
      );
    const fitted = fitTransforms(spec, batch);
    writeFileInPlace(values.out, `${JSON.stringify(fitted, null, 2)}\n`);
    log(
      `fitted ${fitted.steps.length} steps on ${fitted.trainingRows} rows (${fitted.fittedRows} after training-only steps): ` +
        `${fitted.inputs.length} columns in, ${fitted.output.length} features out -> ${values.out}`,
    );
    log(`specHash ${fitted.specHash}`);
    return EXIT.ok;
  },
});

/** The file's columns that are features of the model, typed by it. */
function modelColumns(modelFile: string, fileColumns: readonly string[]): TypedColumn[] {
  const model = parseOrThrow(
    modelDraftSchema,
    readJsonFile(modelFile, 'model definition'),
    `model definition ${modelFile} (--model)`,
  );
  return model.features
    .filter((f) => fileColumns.includes(f.name))
    .map((f) => ({ name: f.name, type: f.type }));
}

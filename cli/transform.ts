/**
 * `mlops transform <fitted.json> <data> --out <features.parquet>`: the model's input matrix as
 * production computes it, with named columns and the id, so the model is trained on exactly the
 * features it will be fed.
 */
import { BufferedParquetSink } from '../shared/adapters/tabular/parquet-writer';
import { asNumber } from '../shared/domain/drift/infer';
import { parseOrThrow } from '../shared/domain/errors';
import { applyTransforms, fittedTransformsSchema } from '../shared/domain/transforms';
import type { OutputColumn } from '../shared/ports/tabular-files';
import { defineCommand, EXIT, UsageError } from './command';
import { refuseNonParquetNames, refuseOverwritingInputs, writeFilesInPlace } from './output-files';
import { type RawTable, readTable } from './tables';
import { typedBatch, type TypedColumn } from './typed-table';
import { readJsonFile } from './version-package';

const USAGE = `usage: mlops transform <fitted.json> <data.csv|.csv.gz|.parquet> --out <features.parquet> [--id <column>] [--keep <a,b>]

Applies fitted transforms to a data file as scoring does and writes one Parquet file: the id
column, the --keep columns, then one double column per feature in the transforms' output order
(float32 values, as the model is fed). Rows the transforms reject (unseen category, missing value
without an imputer, ...) are left out and written to <features.parquet>.rejected.jsonl with the
reason.

options:
  -o, --out <file>      the Parquet file to write (required)
      --id <column>     the id column (default: id)
      --keep <a,b>      columns copied as they are (the target, a weight, ...); not one named
                        like an output feature; given twice, both lists are kept
  -h, --help            this text

Exit codes: 0 written, 1 failed, 2 usage.`;

const ROW_GROUP_ROWS = 65_536;

export const transformCommand = defineCommand({
  name: 'transform',
  summary: 'apply fitted transforms to a file: the model input matrix as Parquet (named columns, plus id)',
  usage: USAGE,
  options: {
    out: { type: 'string', short: 'o' },
    id: { type: 'string' },
    // Given twice, both lists count (not only the last).
    keep: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
  positionals: ['<fitted.json>', '<data>'],
  async run({ values, positionals }, log) {
    const [fittedFile, dataFile] = positionals as [string, string];
    if (!values.out) throw new UsageError('--out <features.parquet> is required');
    const rejectedFile = `${values.out}.rejected.jsonl`;
    refuseOverwritingInputs([values.out, rejectedFile], { 'fitted transforms': fittedFile, 'data file': dataFile }, 'transforming');
    refuseNonParquetNames([values.out]);
    const fitted = parseOrThrow(
      fittedTransformsSchema,
      readJsonFile(fittedFile, 'fitted transforms'),
      `fitted transforms ${fittedFile}`,
    );
    const table = await readTable(dataFile, { mode: 'text' });
    const id = values.id ?? 'id';
    // A column named twice, or the id (written anyway), is written once.
    const keep = [
      ...new Set(
        (values.keep ?? [])
          .flatMap((list) => list.split(','))
          .map((c) => c.trim())
          .filter((c) => c !== '' && c !== id),
      ),
    ];
    if (!table.columns.includes(id))
      throw new UsageError(
        `--id: ${dataFile} has no column '${id}' (its columns: ${table.columns.join(', ')})`,
      );
    const missingKeep = keep.filter((c) => !table.columns.includes(c));
    if (missingKeep.length > 0)
      throw new UsageError(
        `--keep: ${dataFile} has no column ${missingKeep.map((c) => `'${c}'`).join(', ')}`,
      );
    refuseClashingColumns(id, keep, fitted.output);

    // The fitted transforms know their inputs as numeric or categorical: numbers, booleans and date-times all read as numbers.
    const columns: TypedColumn[] = fitted.inputs.map((i) => ({
      name: i.name,
      type: i.kind === 'categorical' ? 'categorical' : 'number',
    }));
    const typed = typedBatch(table, columns);
    const result = applyTransforms(fitted, typed.batch);
    const rows = Array.from(result.keptRows, (k) => typed.keptRows[k]!);
    const rejected = [
      ...typed.rejected,
      ...result.rejected.map((r) => ({ row: typed.keptRows[r.row]! + 1, reason: r.reason })),
    ].sort((a, b) => a.row - b.row);

    const sink = new BufferedParquetSink();
    for (let start = 0; start < rows.length || start === 0; start += ROW_GROUP_ROWS) {
      const group = rows.slice(start, start + ROW_GROUP_ROWS);
      sink.writeRowGroup(outputColumns(table, id, keep, fitted.output, result.matrix.values, start, group));
      if (rows.length === 0) break;
    }
    // The rejected rows first, the output last: a new output always comes with its own list.
    writeFilesInPlace([
      { file: rejectedFile, data: rejected.length > 0 ? rejected.map((r) => JSON.stringify(r)).join('\n') + '\n' : null },
      { file: values.out, data: sink.finish() },
    ]);
    log(
      `${table.rowCount} rows read: ${rows.length} transformed (${fitted.output.length} features) -> ${values.out}`,
    );
    if (rejected.length > 0) log(`${rejected.length} rejected -> ${rejectedFile}`);
    return EXIT.ok;
  },
});

/**
 * Two output columns of one name would make a Parquet file whose readers keep one of them (a
 * kept raw 'x1' in place of the standardized feature 'x1'): refused, naming the option.
 */
function refuseClashingColumns(id: string, keep: readonly string[], features: readonly string[]): void {
  const clash = 'of the fitted transforms: the Parquet file would hold two columns of that name';
  if (features.includes(id)) throw new UsageError(`--id: '${id}' is the name of an output feature ${clash}`);
  const clashing = keep.filter((c) => features.includes(c));
  if (clashing.length > 0)
    throw new UsageError(
      `--keep: ${clashing.map((c) => `'${c}'`).join(', ')} ${clashing.length === 1 ? 'is the name of an output feature' : 'are names of output features'} ${clash}`,
    );
}

function outputColumns(
  table: RawTable,
  id: string,
  keep: readonly string[],
  features: readonly string[],
  matrix: Float32Array,
  firstMatrixRow: number,
  rows: readonly number[],
): OutputColumn[] {
  const text = (name: string) => rows.map((r) => (table.values[name] as (string | null)[])[r] ?? null);
  const width = features.length;
  return [
    { name: id, type: 'string', values: text(id) },
    ...keep.map((name): OutputColumn => {
      const cells = text(name);
      // A target with a few `nan` cells (numpy's savetxt writes them) is still a column of numbers.
      const numbers = cells.map((c) => (c === null ? NaN : asNumber(c)));
      return numbers.every((n): n is number => n !== undefined)
        ? { name, type: 'double', values: Float64Array.from(numbers) }
        : { name, type: 'string', values: cells };
    }),
    ...features.map((name, j): OutputColumn => ({
      name,
      type: 'double',
      values: Float64Array.from(rows, (_, k) => matrix[(firstMatrixRow + k) * width + j]!),
    })),
  ];
}

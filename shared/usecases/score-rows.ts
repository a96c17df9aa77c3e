import { errors } from '../domain/errors';
import { type JsonCell, jsonFieldNames, jsonRows } from '../domain/json-rows';
import type { RawRows } from '../domain/raw-rows';
import { type ColumnLayout, layoutColumns, validateRows } from '../domain/row-validation';
import type { ModelDefinition } from '../schemas/model';
import { type BatchDeps, loadScoringVersionCached } from './batch-inference';
import { transformAndPredict } from './score-chunk';

export type RowResult =
  | { row: number; id: string | null; prediction: number | string; probabilities?: Record<string, number> }
  | { row: number; id: string | null; error: { code: string; reason: string } };

export interface ScoredRows {
  model: string;
  version: number;
  scored: number;
  rejected: number;
  /** One result per input row, in input order (`row` is its 0-based index). */
  results: RowResult[];
}

/** The fields a layout reads, in their order among `fields`. */
function fieldsRead(layout: ColumnLayout, fields: readonly string[]): string[] {
  const read = new Set([layout.id, ...layout.features.map((f) => f.column), ...layout.segments.map((s) => s.column)]);
  if (layout.timestamp !== undefined) read.add(layout.timestamp);
  return [...read].sort((a, b) => a - b).map((i) => fields[i]!);
}

/**
 * The rows as validation reads them: refused (in the words of rows and fields) when they lack a
 * field the model needs or name one twice, else with only the fields the model reads. A rejected
 * row's cells span every column, so rows each with thousands of fields of their own made every
 * rejected row that wide (50 rows of 20,000 took 14 s and 860 MB; a 100 MB body would take the
 * worker down).
 */
export function rowsAsRead(definition: ModelDefinition, rows: readonly Readonly<Record<string, JsonCell>>[]): RawRows {
  const fields = jsonFieldNames(rows);
  return jsonRows(rows, fieldsRead(layoutColumns(definition, fields, 'json'), fields));
}

/**
 * Scores a few rows given as JSON with the same validation, transforms and model as batch scoring
 * (the champion, or `version`): the model deployed as an API. A row that cannot be scored gets
 * its reason instead of a prediction; the others are scored.
 */
export async function scoreRows(
  deps: BatchDeps,
  input: { model: string; rows: readonly Record<string, JsonCell>[]; version?: number },
): Promise<ScoredRows> {
  const record = await deps.registry.getModel(input.model);
  if (!record) throw errors.modelNotFound(input.model);
  const definition = record.definition;
  const number = input.version ?? (await deps.registry.getChampion(input.model))?.value.version ?? null;
  if (number === null) throw errors.illegalTransition(`model '${input.model}' has no champion to score with; name a version`, { model: input.model });
  const { version } = await loadScoringVersionCached(deps, definition, input.model, number);
  const raw = rowsAsRead(definition, input.rows);
  const layout = layoutColumns(definition, raw.columns, 'json');
  const valid = validateRows(raw, layout);
  // The id field as validation found it (names are matched with spaces around them ignored); none
  // for an id JSON may have rounded, which would name another of the caller's rows.
  const idOf = (row: number) => (raw.lossyNumber?.(layout.id, row) ? null : raw.text(layout.id, row));
  const results = new Array<RowResult>(raw.rowCount);
  for (const r of valid.rejected) results[r.row - 1] = { row: r.row - 1, id: idOf(r.row - 1), error: { code: r.code, reason: r.reason } };
  if (valid.batch.rowCount > 0) {
    const { keptRows, predictions, rejected } = await transformAndPredict(version, valid.batch);
    for (const t of rejected) {
      const row = valid.sourceRows[t.row]!;
      results[row] = { row, id: idOf(row), error: { code: t.code, reason: t.reason } };
    }
    if (predictions) {
      const labels = definition.classLabels ?? [];
      for (let k = 0; k < keptRows.length; k++) {
        const row = valid.sourceRows[keptRows[k]!]!;
        results[row] =
          predictions.kind === 'regression'
            ? { row, id: idOf(row), prediction: predictions.values[k]! }
            : {
                row,
                id: idOf(row),
                prediction: predictions.labels[k]!,
                probabilities: Object.fromEntries(labels.map((l, c) => [l, predictions.probabilities[k * predictions.classCount + c]!])),
              };
      }
    }
  }
  const scored = results.filter((r) => 'prediction' in r).length;
  return { model: input.model, version: number, scored, rejected: results.length - scored, results };
}

import { errors } from '../domain/errors';
import type { ModelDefinition } from '../schemas/model';
import { ACTUAL_COLUMN, ACTUALS_AT_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN } from './actuals/columns';
import { ADDED_COLUMNS } from './score-chunk';

/** Columns the backend adds: to every prediction row, then to every labelled row (predictions joined with actuals). */
const BACKEND_COLUMNS: readonly string[] = [...ADDED_COLUMNS, ACTUAL_COLUMN, ACTUALS_ID_COLUMN, ACTUALS_ROW_COLUMN, ACTUALS_AT_COLUMN];

/**
 * What makes a definition's predictions or labelled data ambiguous, in words (empty: nothing).
 * Their files have one column per name, so a model column (id, timestamp, segment key) named like
 * a column the backend adds, or a prediction column named like either, would have its values
 * overwritten by the other's.
 */
export function outputColumnClashes(definition: ModelDefinition): string[] {
  const own = new Map<string, string>([[definition.idColumn, 'the id column']]);
  if (definition.timestampColumn && !own.has(definition.timestampColumn)) own.set(definition.timestampColumn, 'the timestamp column');
  for (const key of definition.segmentKeys) if (!own.has(key)) own.set(key, 'the segment key');
  const added = `a column the backend adds to predictions and labelled data (${BACKEND_COLUMNS.join(', ')})`;
  const problems: string[] = [];
  for (const [name, role] of own) if (BACKEND_COLUMNS.includes(name)) problems.push(`${role} '${name}' is ${added}: rename it`);
  const names = definition.predictionColumns;
  const predictionColumns = [names.prediction, ...(definition.classLabels ?? []).map((label) => `${names.probabilityPrefix}${label}`)];
  for (const name of predictionColumns) {
    const clash = own.get(name) ?? (BACKEND_COLUMNS.includes(name) ? added : undefined);
    if (clash) problems.push(`the prediction column '${name}' is also ${clash}: set predictionColumns to other names`);
  }
  return problems;
}

/** VALIDATION_ERROR when the definition's predictions would be ambiguous (outputColumnClashes). */
export function checkOutputColumns(definition: ModelDefinition): void {
  const clashes = outputColumnClashes(definition);
  if (clashes.length > 0) throw errors.validation(`the model definition cannot be scored: ${clashes.join('; ')}`, { clashes });
}

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

/** A column a definition names that the model does not have, or names in two roles, with where and why. */
export interface ColumnReferenceProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Column names a definition uses in the wrong place, in words with the path of each (empty:
 * nothing). Names that point at no column of the model (a drift override or a group split on a
 * typo) would be silently ignored or fail every validation, and a column in two roles (a feature
 * named like the target, a segment key like the timestamp) would read or write one column for two
 * meanings. Checked for new definitions only: stored models keep reading as they were stored.
 */
export function columnReferenceProblems(definition: ModelDefinition): ColumnReferenceProblem[] {
  const problems: ColumnReferenceProblem[] = [...untrimmedColumnNames(definition), ...reservedColumnNames(definition)];
  const { idColumn, targetColumn, timestampColumn } = definition;
  const roles = new Map<string, string>([[idColumn, 'the id column']]);
  if (timestampColumn !== undefined && !roles.has(timestampColumn)) roles.set(timestampColumn, 'the timestamp column');
  if (!roles.has(targetColumn)) roles.set(targetColumn, 'the target column');
  if (timestampColumn === idColumn) problems.push({ path: ['timestampColumn'], message: `the timestamp column '${timestampColumn}' is also the id column: name two columns` });
  if (targetColumn === idColumn || targetColumn === timestampColumn)
    problems.push({ path: ['targetColumn'], message: `the target column '${targetColumn}' is also ${roles.get(targetColumn)}: actuals need a column of their own` });
  const features = new Set(definition.features.map((f) => f.name));
  definition.features.forEach((feature, i) => {
    const role = roles.get(feature.name);
    if (role) problems.push({ path: ['features', i, 'name'], message: `the feature '${feature.name}' is also ${role}: rename one of them` });
  });
  const segmentKeys = new Set<string>();
  definition.segmentKeys.forEach((key, i) => {
    if (segmentKeys.has(key)) problems.push({ path: ['segmentKeys', i], message: `the segment key '${key}' is named twice` });
    segmentKeys.add(key);
    // The id as a key is allowed (one segment per id); the target is not in drops, and the timestamp column has a type of its own.
    if (key === targetColumn || key === timestampColumn) problems.push({ path: ['segmentKeys', i], message: `the segment key '${key}' is also ${roles.get(key)}: segment by a column of its own` });
  });
  // What monitoring profiles, and so what a drift override can be about.
  const monitored = [...new Set([...features, ...segmentKeys, definition.predictionColumns.prediction])];
  const overridden = new Set<string>();
  definition.policies.drift.columns.forEach((override, i) => {
    const path = ['policies', 'drift', 'columns', i, 'column'];
    if (overridden.has(override.column)) problems.push({ path, message: `the drift override for '${override.column}' is given twice: give one` });
    else if (!monitored.includes(override.column))
      problems.push({ path, message: `the drift override names '${override.column}', which is not a monitored column of the model (${monitored.join(', ')})` });
    overridden.add(override.column);
  });
  const groupable = [...features, ...segmentKeys, idColumn, ...(timestampColumn !== undefined ? [timestampColumn] : [])];
  definition.policies.validation.splits.forEach((split, i) => {
    const path = ['policies', 'validation', 'splits', i];
    if (split.kind === 'group' && !groupable.includes(split.column)) {
      problems.push({
        path: [...path, 'column'],
        message: `the group split names '${split.column}', which is not a column of the model (${[...new Set(groupable)].join(', ')})${split.column === targetColumn ? ': grouping by the target leaves one class per group' : ''}`,
      });
    }
    if (split.kind === 'time' && timestampColumn === undefined)
      problems.push({ path: [...path, 'kind'], message: 'a time split needs the model to have a timestampColumn' });
    if (split.kind === 'stratified' && definition.task === 'regression')
      problems.push({ path: [...path, 'kind'], message: 'a stratified split needs classes: a regression model cannot use it (use kfold)' });
  });
  return problems;
}

/** Every column name a definition gives, with where it gives it. */
function namedColumns(definition: ModelDefinition): [(string | number)[], string][] {
  const named: [(string | number)[], string | undefined][] = [
    [['idColumn'], definition.idColumn],
    [['timestampColumn'], definition.timestampColumn],
    [['targetColumn'], definition.targetColumn],
    ...definition.features.map((f, i): [(string | number)[], string] => [['features', i, 'name'], f.name]),
    ...definition.segmentKeys.map((key, i): [(string | number)[], string] => [['segmentKeys', i], key]),
    [['predictionColumns', 'prediction'], definition.predictionColumns.prediction],
  ];
  return named.filter((entry): entry is [(string | number)[], string] => entry[1] !== undefined);
}

/**
 * Column names that end in a space: files' header names are matched trimmed (headerIndex), so no
 * file could ever have such a column, and every drop, actuals or validation file would be refused.
 */
function untrimmedColumnNames(definition: ModelDefinition): ColumnReferenceProblem[] {
  return namedColumns(definition)
    .filter(([, name]) => name !== name.trim())
    .map(([path, name]) => ({ path, message: `the column name '${name}' ends with a space: file headers are matched without surrounding spaces, so no file could have it` }));
}

/**
 * Column names that every JavaScript object already has (`__proto__`, `constructor`, `toString`,
 * `valueOf`, ...): rows, batches and profiles are objects keyed by column name, where such a name
 * reads the inherited property when the column is not there (`constructor` as a categorical
 * feature read `Object` as its numeric column: every validation failed with a TypeError, retried
 * as an outage) and `__proto__` sets the object's prototype instead of holding the column.
 */
function reservedColumnNames(definition: ModelDefinition): ColumnReferenceProblem[] {
  return namedColumns(definition)
    .filter(([, name]) => name in Object.prototype)
    .map(([path, name]) => ({ path, message: `the column name '${name}' is reserved: every JavaScript object has a property of that name, and the backend keys columns by name; rename the column` }));
}

/** VALIDATION_ERROR when the definition's predictions would be ambiguous (outputColumnClashes). */
export function checkOutputColumns(definition: ModelDefinition): void {
  const clashes = outputColumnClashes(definition);
  if (clashes.length > 0) throw errors.validation(`the model definition cannot be scored: ${clashes.join('; ')}`, { clashes });
}

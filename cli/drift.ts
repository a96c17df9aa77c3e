/**
 * `mlops drift <reference> <current> [--json] [--columns a,b] [--manifest m.json] [--method <name>] [--correction <c>]`
 * compares two CSV or Parquet files column by column with the same code the monitoring uses.
 */
import { z } from 'zod';

import { type CsvLimits, csvLimits } from '../shared/domain/csv-limits';
import {
  inferColumnType,
  type InferredType,
  isIdColumn,
  type LeftOut,
  toCategoricalColumn,
  toNumericColumn,
} from '../shared/domain/drift/infer';
import { compareBatches, type DriftReport } from '../shared/domain/drift/report';
import { compareSegments } from '../shared/domain/drift/segments';
import { formatIssues, isDomainError } from '../shared/domain/errors';
import type { RowBatch } from '../shared/domain/tabular';
import type { ModelDefinition } from '../shared/schemas/model';
import { driftMethodSchema, type DriftPolicy, driftPolicySchema } from '../shared/schemas/policies';
import { plainArgs, repeatedOption } from './command';
import { CSV_LIMIT_OPTIONS, CSV_LIMITS_USAGE, csvLimitValue, withCsvOptionHint } from './csv-options';
import { type RawTable, readTable } from './tables';
import { readManifest } from './version-package';

const USAGE = `usage: mlops drift <reference.csv|.csv.gz|.parquet> <current.csv|.csv.gz|.parquet> [options]

options:
  --json                 print one JSON object instead of a table
  --columns a,b          only these columns, tested whatever they look like (default: every
                         column of the reference except ids and date-times); given twice, both
                         lists are tested
  --manifest <file>      a version manifest (as for mlops score): test the model's features with
                         their declared types, leave out its id and timestamp, report per segment
  --method <name>        one method for every column: ${driftMethodSchema.options.join(', ')}
                         (default: auto by column type and reference size)
  --correction <c>       none | bonferroni | benjamini_hochberg (default: benjamini_hochberg)
${CSV_LIMITS_USAGE}
  -h, --help             this text

Exit codes: 0 compared (drift or not), 2 bad arguments, unreadable files or a method that does
not fit a column.`;

const argsSchema = z.object({
  reference: z.string().min(1),
  current: z.string().min(1),
  json: z.boolean(),
  columns: z.array(z.string().min(1)).min(1, '--columns needs at least one column name').optional(),
  manifest: z.string().min(1).optional(),
  method: z.union([z.literal('auto'), driftMethodSchema]),
  correction: z.enum(['none', 'bonferroni', 'benjamini_hochberg']),
  csvLimits: z.object({ maxRecordBytes: z.number(), maxFieldBytes: z.number(), maxFields: z.number() }).partial(),
});
type DriftArgs = z.infer<typeof argsSchema>;

export function parseDriftArgs(argv: readonly string[]): DriftArgs {
  const { options: args, paths } = plainArgs(argv);
  const positional: string[] = [];
  const csvLimits: Partial<CsvLimits> = {};
  const options: Record<string, unknown> = { json: false, method: 'auto', correction: 'benjamini_hochberg', csvLimits };
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // Every option with a value takes one, but --columns (a list: given twice, both are tested).
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      const repeated = a === '--columns' ? undefined : repeatedOption(seen, a);
      if (repeated !== undefined) throw new UsageError(repeated);
      return v;
    };
    if (a === '--json') options.json = true;
    // A name given twice is one column: counting it twice would weigh it twice in the share.
    // --columns given twice adds to the list (the last one alone would drop the first silently).
    else if (a === '--columns')
      options.columns = [...new Set([...((options.columns as string[] | undefined) ?? []), ...value().split(',').map((c) => c.trim()).filter(Boolean)])];
    else if (a === '--manifest') options.manifest = value();
    else if (a === '--method') options.method = value();
    else if (a === '--correction') options.correction = value();
    else if (CSV_LIMIT_OPTIONS[a]) {
      const bound = csvLimitValue(a, value());
      if (typeof bound === 'string') throw new UsageError(bound);
      csvLimits[CSV_LIMIT_OPTIONS[a]] = bound;
    }
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  positional.push(...paths);
  if (positional.length !== 2) throw new UsageError('two files are needed: <reference> <current>');
  const parsed = argsSchema.safeParse({ ...options, reference: positional[0], current: positional[1] });
  if (!parsed.success) throw new UsageError(formatIssues(parsed.error));
  return parsed.data;
}

class UsageError extends Error {}

/** A column that is tested, with the type it is read as. */
export interface TestedColumn {
  name: string;
  type: InferredType;
}

/** A column left out of the tests, and why. */
export interface ExcludedColumn {
  name: string;
  reason: string;
}

export interface ColumnPlan {
  tested: TestedColumn[];
  excluded: ExcludedColumn[];
  /** The model's segment keys (with --manifest): drift is also reported per segment. */
  segmentKeys: string[];
}

const DATETIME_REASON = 'date-time: compared across windows it always drifts; test derived parts (hour, weekday) instead';

const featureType = (model: ModelDefinition, name: string): InferredType | undefined => {
  const feature = model.features.find((f) => f.name === name);
  if (!feature) return undefined;
  return feature.type === 'numeric' || feature.type === 'datetime' ? feature.type : 'categorical';
};

/** Refuses columns a file lacks, saying which file lacks each (and `advice`, what to do instead). */
function requireInBoth(names: readonly string[], reference: RawTable, current: RawTable, advice = ''): void {
  const where = (c: string) => {
    const inReference = reference.columns.includes(c);
    const inCurrent = current.columns.includes(c);
    return inReference && inCurrent ? undefined : !inReference && !inCurrent ? 'in neither' : inReference ? 'not in the current file' : 'not in the reference';
  };
  const missing = names.flatMap((c) => {
    const why = where(c);
    return why ? [`${c} (${why})`] : [];
  });
  if (missing.length > 0) throw new UsageError(`column(s) not in both files: ${missing.join(', ')}${advice}`);
}

/**
 * Which columns are tested, as what, and which are left out. Named columns (`--columns`) are
 * tested whatever they look like. Otherwise ids (a distinct value in every row) and date-times
 * are left out: both drift by construction between two windows. With a model definition its
 * features are tested with their declared types, and its id, timestamp and segment keys are not.
 */
export function planColumns(
  reference: RawTable,
  current: RawTable,
  options: { columns?: readonly string[]; model?: ModelDefinition; minSamples: number },
): ColumnPlan {
  const { model } = options;
  const typeOf = (name: string): InferredType =>
    (model && featureType(model, name)) ?? inferColumnType([reference.values[name]!, current.values[name]!]);
  const segmentKeys = model?.segmentKeys ?? [];
  if (options.columns) {
    requireInBoth([...options.columns, ...segmentKeys], reference, current);
    return { tested: options.columns.map((name) => ({ name, type: typeOf(name) })), excluded: [], segmentKeys };
  }
  const tested: TestedColumn[] = [];
  const excluded: ExcludedColumn[] = [];
  if (model) {
    const features = model.features.map((f) => f.name);
    requireInBoth([...features, model.idColumn, ...(model.timestampColumn ? [model.timestampColumn] : []), ...segmentKeys], reference, current);
    const roles = new Map<string, string>([
      [model.idColumn, "the model's id column"],
      ...(model.timestampColumn ? [[model.timestampColumn, "the model's timestamp column"] as [string, string]] : []),
      ...segmentKeys.map((k): [string, string] => [k, 'a segment key: drift is reported per segment']),
    ]);
    for (const name of reference.columns) {
      const role = roles.get(name);
      const type = featureType(model, name);
      if (role) excluded.push({ name, reason: role });
      else if (type === undefined) excluded.push({ name, reason: 'not a feature of the model' });
      else if (type === 'datetime') excluded.push({ name, reason: DATETIME_REASON });
      else tested.push({ name, type });
    }
    return { tested, excluded, segmentKeys };
  }
  requireInBoth(reference.columns, reference, current, '; name the columns to compare with --columns a,b');
  for (const name of reference.columns) {
    const samples = [reference.values[name]!, current.values[name]!];
    const type = inferColumnType(samples);
    if (type === 'datetime') excluded.push({ name, reason: DATETIME_REASON });
    else if (isIdColumn(samples, type, options.minSamples)) excluded.push({ name, reason: 'a distinct value in every row: an id' });
    else tested.push({ name, type });
  }
  return { tested, excluded, segmentKeys };
}

export interface DriftInput {
  reference: RowBatch;
  current: RowBatch;
  leftOut: Map<string, { reference: LeftOut; current: LeftOut }>;
}

/** Both files as RowBatches of the tested columns (date-times as epoch milliseconds) and the segment keys. */
export function toBatches(reference: RawTable, current: RawTable, plan: ColumnPlan): DriftInput {
  const ref = { rowCount: reference.rowCount, numeric: {} as Record<string, Float64Array>, categorical: {} as Record<string, Array<string | null>> };
  const cur = { rowCount: current.rowCount, numeric: {} as Record<string, Float64Array>, categorical: {} as Record<string, Array<string | null>> };
  const leftOut = new Map<string, { reference: LeftOut; current: LeftOut }>();
  for (const { name, type } of plan.tested) {
    const [a, b] = [reference.values[name]!, current.values[name]!];
    if (type === 'categorical') {
      const [x, y] = [toCategoricalColumn(a), toCategoricalColumn(b)];
      ref.categorical[name] = x.values;
      cur.categorical[name] = y.values;
      leftOut.set(name, { reference: x.leftOut, current: y.leftOut });
    } else {
      const [x, y] = [toNumericColumn(a, type), toNumericColumn(b, type)];
      ref.numeric[name] = x.values;
      cur.numeric[name] = y.values;
      leftOut.set(name, { reference: x.leftOut, current: y.leftOut });
    }
  }
  for (const key of plan.segmentKeys) {
    ref.categorical[key] = toCategoricalColumn(reference.values[key]!).values;
    cur.categorical[key] = toCategoricalColumn(current.values[key]!).values;
  }
  return { reference: ref, current: cur, leftOut };
}

/** What the dataset verdict is and why, in words; null drift when nothing could be evaluated. */
function datasetSummary(report: DriftReport, tested: number, policy: DriftPolicy) {
  if (report.evaluatedColumns === 0) {
    const reason =
      tested === 0
        ? 'no column to test: every column was left out (see "excluded"); name columns with --columns to test them'
        : `insufficient data: no column has ${policy.minSamples} non-null values in both files`;
    return { dataset_drift: null, share_drifted: null, reason };
  }
  const reason = `${report.driftedColumns} of ${report.evaluatedColumns} evaluated columns drifted, share ${report.shareDrifted.toFixed(3)}`;
  return { dataset_drift: report.datasetDrift, share_drifted: report.shareDrifted, reason };
}

/** The documented JSON shape (docs/drift.md). */
export function driftJson(
  report: DriftReport,
  plan: ColumnPlan,
  policy: DriftPolicy,
  leftOut: DriftInput['leftOut'],
  segments?: Record<string, DriftReport>,
) {
  const byName = new Map(report.columns.map((c) => [c.name, c]));
  return {
    ...datasetSummary(report, plan.tested.length, policy),
    columns: plan.tested.flatMap(({ name, type }) => {
      const c = byName.get(name);
      if (!c) return [];
      return [
        {
          name,
          type,
          method: c.method,
          statistic: c.statistic,
          p_value: c.pValue,
          threshold: c.threshold,
          drifted: c.drifted,
          verdict: c.verdict,
          left_out: leftOut.get(name)!,
        },
      ];
    }),
    excluded: plan.excluded,
    ...(segments
      ? {
          segments: Object.entries(segments).map(([segment, r]) => ({
            segment,
            ...datasetSummary(r, plan.tested.length, policy),
            drifted_columns: r.columns.filter((c) => c.drifted).map((c) => c.name),
          })),
        }
      : {}),
  };
}

type DriftJson = ReturnType<typeof driftJson>;

const num = (x: number | null): string =>
  x === null ? '-' : x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6) ? x.toExponential(3) : x.toFixed(4);

const verdictWords = (s: { dataset_drift: boolean | null; reason: string }) =>
  s.dataset_drift === null ? s.reason : `${s.dataset_drift ? 'YES' : 'no'} (${s.reason})`;

function leftOutWords(counts: LeftOut): string {
  const parts = [
    counts.nan > 0 ? `${counts.nan} NaN` : '',
    counts.infinite > 0 ? `${counts.infinite} infinite` : '',
    counts.unparsed > 0 ? `${counts.unparsed} not of the column's type` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

function table(json: DriftJson): string {
  const head = ['column', 'type', 'method', 'statistic', 'p-value', 'threshold', 'verdict'];
  const rows = json.columns.map((c) => [c.name, c.type, c.method, num(c.statistic), num(c.p_value), String(c.threshold), c.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const notes = json.columns.flatMap((c) =>
    (['reference', 'current'] as const).flatMap((side) => {
      const words = leftOutWords(c.left_out[side]);
      return words ? [`left out of ${c.name} (${side}): ${words}`] : [];
    }),
  );
  const excluded = json.excluded.map((e) => `not tested: ${e.name} (${e.reason})`);
  return [
    line(head),
    ...rows.map(line),
    '',
    ...notes,
    ...excluded,
    ...(notes.length + excluded.length > 0 ? [''] : []),
    `dataset drift: ${verdictWords(json)}`,
    ...(json.segments ?? []).map((s) => `segment ${s.segment}: ${verdictWords(s)}`),
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  if (plainArgs(args).help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let parsed: DriftArgs;
  try {
    parsed = parseDriftArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const model = parsed.manifest ? readManifest(parsed.manifest).model : undefined;
    const policy = driftPolicySchema.parse({ method: parsed.method, multipleTestingCorrection: parsed.correction });
    const limits = csvLimits(parsed.csvLimits);
    const [refTable, curTable] = await Promise.all([readTable(parsed.reference, { limits }), readTable(parsed.current, { limits })]);
    const plan = planColumns(refTable, curTable, {
      ...(parsed.columns ? { columns: parsed.columns } : {}),
      ...(model ? { model } : {}),
      minSamples: policy.minSamples,
    });
    const input = toBatches(refTable, curTable, plan);
    const names = plan.tested.map((c) => c.name);
    const report = compareBatches(input.reference, input.current, policy, names);
    const segments = plan.segmentKeys.length > 0 ? compareSegments(input.reference, input.current, plan.segmentKeys, policy) : undefined;
    const json = driftJson(report, plan, policy, input.leftOut, segments);
    process.stdout.write(parsed.json ? `${JSON.stringify(json)}\n` : `${table(json)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || isDomainError(error)) {
      process.stderr.write(`mlops drift: ${withCsvOptionHint(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}

export const summary = 'compare two CSV/Parquet files for data drift, per column and for the dataset';

/**
 * `mlops drift <reference> <current> [--json] [--columns a,b] [--method <name>] [--correction <c>]`
 * compares two CSV or Parquet files column by column with the same code the monitoring uses.
 */
import { z } from 'zod';

import { inferColumnKind, toCategoricalColumn, toNumericColumn } from '../shared/domain/drift/infer';
import { compareBatches, type DriftReport } from '../shared/domain/drift/report';
import { formatIssues, isDomainError } from '../shared/domain/errors';
import type { RowBatch } from '../shared/domain/tabular';
import { driftMethodSchema, driftPolicySchema } from '../shared/schemas/policies';
import { type RawTable, readTable } from './tables';

const USAGE = `usage: mlops drift <reference.csv|.csv.gz|.parquet> <current.csv|.csv.gz|.parquet> [options]

options:
  --json                 print one JSON object instead of a table
  --columns a,b          only these columns (default: all columns of the reference)
  --method <name>        one method for every column: ${driftMethodSchema.options.join(', ')}
                         (default: auto by column type and reference size)
  --correction <c>       none | bonferroni | benjamini_hochberg (default: benjamini_hochberg)`;

const argsSchema = z.object({
  reference: z.string().min(1),
  current: z.string().min(1),
  json: z.boolean(),
  columns: z.array(z.string().min(1)).optional(),
  method: z.union([z.literal('auto'), driftMethodSchema]),
  correction: z.enum(['none', 'bonferroni', 'benjamini_hochberg']),
});
type DriftArgs = z.infer<typeof argsSchema>;

export function parseDriftArgs(args: readonly string[]): DriftArgs {
  const positional: string[] = [];
  const options: Record<string, unknown> = { json: false, method: 'auto', correction: 'benjamini_hochberg' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') options.json = true;
    else if (a === '--columns') options.columns = value().split(',').map((c) => c.trim()).filter(Boolean);
    else if (a === '--method') options.method = value();
    else if (a === '--correction') options.correction = value();
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new UsageError('two files are needed: <reference> <current>');
  const parsed = argsSchema.safeParse({ ...options, reference: positional[0], current: positional[1] });
  if (!parsed.success) throw new UsageError(formatIssues(parsed.error));
  return parsed.data;
}

class UsageError extends Error {}

/** Both files as RowBatches with one inferred type per column (from both files together). */
export function toBatches(reference: RawTable, current: RawTable, columns?: readonly string[]): [RowBatch, RowBatch] {
  const wanted = columns ?? reference.columns;
  const missing = wanted.filter((c) => !reference.columns.includes(c) || !current.columns.includes(c));
  if (missing.length > 0) throw new UsageError(`column(s) not in both files: ${missing.join(', ')}`);
  const ref: RowBatch = { rowCount: reference.rowCount, numeric: {}, categorical: {} };
  const cur: RowBatch = { rowCount: current.rowCount, numeric: {}, categorical: {} };
  for (const name of wanted) {
    const a = reference.values[name]!;
    const b = current.values[name]!;
    if (inferColumnKind([a, b]) === 'numeric') {
      (ref.numeric as Record<string, Float64Array>)[name] = toNumericColumn(a);
      (cur.numeric as Record<string, Float64Array>)[name] = toNumericColumn(b);
    } else {
      (ref.categorical as Record<string, Array<string | null>>)[name] = toCategoricalColumn(a);
      (cur.categorical as Record<string, Array<string | null>>)[name] = toCategoricalColumn(b);
    }
  }
  return [ref, cur];
}

/** The documented JSON shape (docs/drift.md). */
export function driftJson(report: DriftReport, order: readonly string[]) {
  const byName = new Map(report.columns.map((c) => [c.name, c]));
  return {
    dataset_drift: report.datasetDrift,
    share_drifted: report.shareDrifted,
    columns: order
      .map((n) => byName.get(n))
      .filter((c) => c !== undefined)
      .map((c) => ({
        name: c.name,
        type: c.type,
        method: c.method,
        statistic: c.statistic,
        p_value: c.pValue,
        threshold: c.threshold,
        drifted: c.drifted,
        verdict: c.verdict,
      })),
  };
}

const num = (x: number | null): string =>
  x === null ? '-' : x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e6) ? x.toExponential(3) : x.toFixed(4);

function table(json: ReturnType<typeof driftJson>): string {
  const head = ['column', 'type', 'method', 'statistic', 'p-value', 'threshold', 'verdict'];
  const rows = json.columns.map((c) => [c.name, c.type, c.method, num(c.statistic), num(c.p_value), String(c.threshold), c.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const drifted = json.columns.filter((c) => c.drifted).length;
  const evaluated = json.columns.filter((c) => c.verdict !== 'insufficient_data').length;
  return [
    line(head),
    ...rows.map(line),
    '',
    `dataset drift: ${json.dataset_drift ? 'YES' : 'no'} (${drifted} of ${evaluated} evaluated columns drifted, share ${json.share_drifted.toFixed(3)})`,
  ].join('\n');
}

export async function run(args: string[]): Promise<number> {
  let parsed: DriftArgs;
  try {
    parsed = parseDriftArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const [refTable, curTable] = await Promise.all([readTable(parsed.reference), readTable(parsed.current)]);
    const [ref, cur] = toBatches(refTable, curTable, parsed.columns);
    const policy = driftPolicySchema.parse({ method: parsed.method, multipleTestingCorrection: parsed.correction });
    const report = compareBatches(ref, cur, policy);
    const json = driftJson(report, parsed.columns ?? refTable.columns);
    process.stdout.write(parsed.json ? `${JSON.stringify(json)}\n` : `${table(json)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || isDomainError(error)) {
      process.stderr.write(`mlops drift: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

export const summary = 'compare two CSV/Parquet files for data drift, per column and for the dataset';

/**
 * The production loop's documents and files a retraining reads, made as the contract in
 * docs/production-loop.md describes them: a data drop (CSV), the run that scored it (`runs`), and
 * the labelled file the actuals join writes for a window (`datasets/{model}/labelled/{windowId}/
 * {actualsId}.parquet`: prediction columns, `run_id`, `source_row`, `source_file`, `actual`).
 */
import { BufferedParquetSink } from '../../shared/adapters/tabular/parquet-writer';
import { lakePaths } from '../../shared/domain/lake-paths';
import { seededRandom } from '../../shared/domain/random';
import type { OutputColumn } from '../../shared/ports/tabular-files';
import type { RetrainingRequestInput } from '../../shared/schemas/messages';
import type { InferenceRun } from '../../shared/schemas/monitoring';
import { regionalRows, type Row } from './model-kit';

/** A drop row: the id, the model's feature columns (as text or numbers), and its actual. */
export interface LabelledRow {
  id: string;
  features: Record<string, string | number>;
  actual: string | number;
}

export interface LabelledFixture {
  dropPath: string;
  drop: Buffer;
  labelledPath: string;
  labelled: Buffer;
  /** The run document, once the drop's ETag and size are known. */
  run(etag: string, size: number): InferenceRun;
}

const csvOf = (columns: string[], rows: (string | number)[][]) => `${columns.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

/**
 * One scored drop and its labelled rows: every row of the drop was scored (source_row = file row
 * number, 1-based) and has an actual, except the rows `unlabelled` leaves out.
 */
export function labelledFixture(options: {
  model: string;
  version: number;
  runId: string;
  windowId: string;
  rows: readonly LabelledRow[];
  /** Indexes of rows without an actual (not in the labelled file). */
  unlabelled?: readonly number[];
  segmentKey?: string;
  /** The drop's file name (default `{runId}.csv`): a scheduled run scores several. */
  dropName?: string;
  /** Whether the labelled file has `source_file` (default true; labelled files written before predictions carried it lack it). */
  withSourceFile?: boolean;
  /** The actuals file the rows came from (`actuals_id`, `actuals_at`; `actuals_row` the row's index), as the join writes them; none by default. */
  actuals?: { actualsId: string; at: string };
  /** The labelled file's actuals id in its path (default `actuals-{runId}`). */
  labelledName?: string;
}): LabelledFixture {
  const { model, version, runId, windowId, rows } = options;
  const featureNames = Object.keys(rows[0]!.features);
  const dropPath = lakePaths.drop(model, options.dropName ?? `${runId}.csv`);
  const drop = Buffer.from(csvOf(['id', ...featureNames], rows.map((r) => [r.id, ...featureNames.map((f) => r.features[f]!)])));
  const skip = new Set(options.unlabelled ?? []);
  const kept = rows.map((row, i) => ({ row, sourceRow: i + 1 })).filter((_, i) => !skip.has(i));
  const numericActual = typeof rows[0]!.actual === 'number';
  const columns: OutputColumn[] = [
    { name: 'id', type: 'string', values: kept.map((k) => k.row.id) },
    ...(options.segmentKey ? [{ name: options.segmentKey, type: 'string' as const, values: kept.map((k) => String(k.row.features[options.segmentKey!])) }] : []),
    { name: 'prediction', type: numericActual ? 'double' : 'string', values: kept.map(() => (numericActual ? 0 : 'n/a')) },
    { name: 'model_version', type: 'int32', values: Int32Array.from(kept, () => version) },
    { name: 'run_id', type: 'string', values: kept.map(() => runId) },
    { name: 'source_row', type: 'int32', values: Int32Array.from(kept, (k) => k.sourceRow) },
    ...(options.withSourceFile === false ? [] : [{ name: 'source_file', type: 'string' as const, values: kept.map(() => dropPath) }]),
    { name: 'actual', type: numericActual ? 'double' : 'string', values: kept.map((k) => k.row.actual) },
    ...(options.actuals
      ? [
          { name: 'actuals_id', type: 'string' as const, values: kept.map(() => options.actuals!.actualsId) },
          { name: 'actuals_row', type: 'int32' as const, values: Int32Array.from(kept, (_, i) => i + 1) },
          { name: 'actuals_at', type: 'timestamp' as const, values: new Float64Array(kept.length).fill(Date.parse(options.actuals.at)) },
        ]
      : []),
  ];
  const sink = new BufferedParquetSink();
  sink.writeRowGroup(columns);
  return {
    dropPath,
    drop,
    labelledPath: lakePaths.labelled(model, windowId, options.labelledName ?? `actuals-${runId}${options.dropName ? `-${options.dropName.replace(/\W/g, '-')}` : ''}`),
    labelled: sink.finish(),
    run: (etag, size) => ({
      runId,
      modelName: model,
      kind: 'batch',
      state: 'completed',
      sources: [{ path: dropPath, etag, size }],
      instanceId: `batch:${model}:${runId}`,
      version,
      chunks: 1,
      rowsRead: rows.length,
      rowsScored: rows.length,
      rowsQuarantined: 0,
      rejectionReasons: {},
      windows: [windowId],
      createdAt: '2026-06-01T01:00:00Z',
    }),
  };
}

/** A retraining request as the drift monitor sends it, for a window id like 20260601T0000Z. */
export function aRetrainingRequest(model: string, version: number, windowId: string, overrides: Partial<RetrainingRequestInput> = {}): RetrainingRequestInput {
  const start = `${windowId.slice(0, 4)}-${windowId.slice(4, 6)}-${windowId.slice(6, 8)}T${windowId.slice(9, 11)}:${windowId.slice(11, 13)}:00Z`;
  const end = new Date(Date.parse(start) + 86_400_000).toISOString();
  return {
    model,
    version,
    reason: 'drift',
    window: { id: windowId, start, end },
    requestedAt: end,
    evidence: { share_drifted: 0.75 },
    ...overrides,
  };
}

/** The model kit's world after a drift: y = 2 x1 + 5 x2 + 4 [north] + 1 (it was 2 x1 + 3 x2 + 10 [north]). */
export const drifted = (r: Pick<Row, 'x1' | 'x2' | 'region'>) => 2 * r.x1 + 5 * r.x2 + (r.region === 'north' ? 4 : 0) + 1;

/** Drop rows of the drifted world with their actuals (uniform noise of width `noise`), reproducible by seed. */
export function driftedRows(n: number, seed: number, noise = 0.2): LabelledRow[] {
  const random = seededRandom(seed + 1000);
  return regionalRows(n, seed, { idPrefix: `d${seed}-` }).map((r) => ({
    id: r.id,
    features: { x1: r.x1, x2: r.x2, region: r.region },
    actual: Math.round((drifted(r) + (random.next() - 0.5) * noise) * 1e6) / 1e6,
  }));
}

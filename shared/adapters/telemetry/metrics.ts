import { type Counter, type Gauge, type Histogram, type MeterProvider, metrics } from '@opentelemetry/api';
import { z } from 'zod';

import type { DriftMetrics, RecordedDrift } from '../../ports/drift-metrics';
import type { DriftReport } from '../../schemas/drift';
import type { ModelEvent } from '../../schemas/messages';
import type { ApprovalsOfModel } from '../../usecases/pending-approvals';
import { TRACER_NAME } from './invocation';

interface Instruments {
  provider: MeterProvider;
  rowsScored: Counter;
  rowsQuarantined: Counter;
  runs: Counter;
  transitions: Counter;
  driftStatistic: Histogram;
  driftBreaches: Counter;
  queueAge: Histogram;
  approvalsPending: Gauge;
  approvalTimeLeft: Gauge;
}

let cached: Instruments | undefined;

/**
 * The instruments on the current global meter provider (the API has no proxy: one set per provider
 * registered). Each name is written out in its create call: test/unit/deployment-consistency.test.ts
 * reads them from this file to check the alerts and the workbook query metrics the app emits.
 */
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached;
  const meter = provider.getMeter(TRACER_NAME);
  cached = {
    provider,
    rowsScored: meter.createCounter('mlops.batch.rows_scored', { unit: '{row}', description: 'Rows scored by completed inference runs' }),
    rowsQuarantined: meter.createCounter('mlops.batch.rows_quarantined', { unit: '{row}', description: 'Rows quarantined (unreadable or invalid) by completed inference runs' }),
    runs: meter.createCounter('mlops.runs', { unit: '{run}', description: 'Inference and actuals runs that ended, by state' }),
    transitions: meter.createCounter('mlops.lifecycle.transitions', { unit: '{transition}', description: 'Model version lifecycle transitions, by from and to state' }),
    driftStatistic: meter.createHistogram('mlops.drift.statistic', {
      unit: '1',
      description: "A column's drift statistic (PSI, KS, ...) in a monitoring window, as recorded on the window",
      advice: { explicitBucketBoundaries: [0.01, 0.05, 0.1, 0.2, 0.25, 0.5, 1] },
    }),
    driftBreaches: meter.createCounter('mlops.drift.breaches', { unit: '{window}', description: "Monitoring windows whose drift verdict is breach (the policy's rule met)" }),
    queueAge: meter.createHistogram('mlops.queue.age', { unit: 's', description: 'Age of a Service Bus message when its handler starts (now minus its enqueued time)' }),
    approvalsPending: meter.createGauge('mlops.approvals.pending', { unit: '{version}', description: 'Versions waiting in pending_approval, per model' }),
    approvalTimeLeft: meter.createGauge('mlops.approvals.time_left', { unit: 's', description: 'Time until a pending approval expires (negative: overdue)' }),
  };
  return cached;
}

/**
 * Business metrics, counted from the events the app publishes (every run end and lifecycle change
 * is one): one place that sees them all. Counted once the send succeeded; a publish retried after
 * a failure that had in fact reached the topic counts again (the topic drops the duplicate).
 */
export function countPublished(event: ModelEvent): void {
  const m = instruments();
  switch (event.type) {
    case 'run.completed':
      m.rowsScored.add(event.data.rows, { model: event.model, kind: event.data.kind });
      m.rowsQuarantined.add(event.data.quarantinedRows, { model: event.model, kind: event.data.kind });
      m.runs.add(1, { model: event.model, kind: event.data.kind, state: 'completed' });
      return;
    case 'run.failed':
      m.runs.add(1, { model: event.model, state: 'failed' });
      return;
    case 'lifecycle.changed':
      m.transitions.add(1, { model: event.model, from: event.data.from, to: event.data.to });
      return;
    default:
      return;
  }
}

/** The `segment` attribute of the whole window's columns (segment ids are `key=value`). */
export const OVERALL_SEGMENT = '(overall)';

/**
 * The drift monitor's metrics, once per window it recorded: each column's statistic (columns
 * without one, for lack of data, are left out) for the whole window and per segment, and a breach
 * when the policy's verdict is breach. A window judged again after a failed run is recorded again.
 */
export const driftMetrics: DriftMetrics = {
  windowRecorded(drift: RecordedDrift): void {
    const m = instruments();
    const scopes: Array<[string, DriftReport]> = [[OVERALL_SEGMENT, drift.overall], ...Object.entries(drift.segments)];
    for (const [segment, report] of scopes) {
      for (const c of report.columns) {
        if (c.statistic === null || !Number.isFinite(c.statistic)) continue;
        m.driftStatistic.record(c.statistic, { model: drift.model, column: c.name, segment, method: c.method, verdict: c.verdict, drifted: c.drifted });
      }
    }
    if (drift.evaluation.verdict === 'breach') m.driftBreaches.add(1, { model: drift.model, alert: drift.evaluation.alert });
  },
};

/** Trigger metadata's `enqueuedTimeUtc` as epoch ms: a Date, or an ISO string (without a zone: UTC). */
const enqueuedTimeSchema = z
  .union([z.date(), z.string().trim().transform((s) => (/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`))])
  .transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)))
  .pipe(z.number().finite());

/**
 * A Service Bus message's age when its handler starts: now minus `enqueuedTimeUtc` from the
 * trigger metadata (an ISO string from the host and devhost; a time without zone is UTC). Returns
 * the age in seconds, or undefined (nothing recorded) without a readable enqueued time.
 */
export function recordQueueAge(entity: string, enqueuedTimeUtc: unknown, now: number = Date.now()): number | undefined {
  const enqueued = enqueuedTimeSchema.safeParse(enqueuedTimeUtc);
  if (!enqueued.success) return undefined;
  // A clock skew between the broker and this instance is no negative age.
  const age = Math.max(0, now - enqueued.data) / 1000;
  instruments().queueAge.record(age, { entity });
  return age;
}

/**
 * Pending approvals as the approval watch found them: per model the count (0 included, so a
 * dashboard sees it drop), and per waiting version the seconds left before its lifecycle expires it,
 * with the deadline and where it came from (`deadlineSource`: the lifecycle's status or the policy).
 * A model the watch could not read (`error`) gets no data point rather than a misleading 0; one with
 * versions that do not read (`unreadable`) gets the count of those that do, so the deadlines of
 * those still reach the alert (the watch then fails naming the others).
 */
export function recordPendingApprovals(models: readonly ApprovalsOfModel[]): void {
  const m = instruments();
  for (const { model, pending, error } of models) {
    // Unknown is not zero: a model whose versions could not be read gets no data point this time.
    if (error !== undefined) continue;
    m.approvalsPending.record(pending.length, { model });
    for (const p of pending) m.approvalTimeLeft.record(Math.round(p.timeLeftMs / 1000), { model, version: String(p.version), deadline: p.deadline, deadlineSource: p.deadlineSource });
  }
}

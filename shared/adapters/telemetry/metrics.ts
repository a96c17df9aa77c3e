import { type Counter, type MeterProvider, metrics } from '@opentelemetry/api';

import type { ModelEvent } from '../../schemas/messages';
import { TRACER_NAME } from './invocation';

interface Instruments {
  provider: MeterProvider;
  rowsScored: Counter;
  rowsQuarantined: Counter;
  runs: Counter;
  transitions: Counter;
}

let cached: Instruments | undefined;

/** The counters on the current global meter provider (the API has no proxy: one set per provider registered). */
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

/**
 * The Service Bus event publisher's telemetry, over a fake sender: each message carries its
 * publish span's traceparent, and the business counters (rows scored and quarantined, runs by
 * state, lifecycle transitions) are counted from the events once they are sent.
 */
import { context, trace } from '@opentelemetry/api';

import { ServiceBusEventPublisher } from '../../../shared/adapters/servicebus/event-publisher';
import type { ModelEventInput } from '../../../shared/schemas/messages';
import { captureMetricsInFile } from '../../support/metric-capture';
import { recordingSender } from '../../support/recording-sender';
import { captureSpansInFile } from '../../support/span-capture';

const captured = captureSpansInFile();
const metricsCapture = captureMetricsInFile();

const fakeSender = (fail = false) => recordingSender('model-events', { fail });

const at = '2026-12-01T00:00:00.000Z';
const completed: ModelEventInput = { eventId: 'run:r1:completed', model: 'churn', version: 2, occurredAt: at, type: 'run.completed', data: { runId: 'r1', kind: 'batch-inference', rows: 900, quarantinedRows: 12 } };
const failed: ModelEventInput = { eventId: 'run:r2:failed', model: 'churn', occurredAt: at, type: 'run.failed', data: { runId: 'r2', error: 'bad' } };
const transition: ModelEventInput = { eventId: 'e3', model: 'churn', version: 2, occurredAt: at, type: 'lifecycle.changed', data: { from: 'approved', to: 'production' } };

/** Each counter's points as `name {attributes} = value`. */
async function counted(): Promise<string[]> {
  const { resourceMetrics } = await metricsCapture.reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((p) => `${m.descriptor.name} ${JSON.stringify(p.attributes)} = ${JSON.stringify(p.value)}`))).sort();
}

it('when events are published under a span, then each message carries its publish span, a child of that span', async () => {
  const { sender, sent } = fakeSender();
  const parent = trace.getTracer('test').startSpan('activity');
  await context.with(trace.setSpan(context.active(), parent), () => new ServiceBusEventPublisher(sender).publishAll([completed, transition]));
  parent.end();
  const publishes = captured.exporter.getFinishedSpans().filter((s) => s.name.startsWith('publish '));
  expect(publishes.map((s) => s.name)).toEqual(['publish run.completed', 'publish lifecycle.changed']);
  expect(publishes.every((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)).toBe(true);
  expect(sent.map((m) => m.applicationProperties?.traceparent)).toEqual(publishes.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`));
});

it('when run and lifecycle events are published, then rows scored and quarantined, runs by state and transitions are counted', async () => {
  const { sender } = fakeSender();
  const publisher = new ServiceBusEventPublisher(sender);
  await publisher.publishAll([completed, transition]);
  await publisher.publish(failed);
  expect(await counted()).toEqual([
    'mlops.batch.rows_quarantined {"model":"churn","kind":"batch-inference"} = 12',
    'mlops.batch.rows_scored {"model":"churn","kind":"batch-inference"} = 900',
    'mlops.lifecycle.transitions {"model":"churn","from":"approved","to":"production"} = 1',
    'mlops.runs {"model":"churn","kind":"batch-inference","state":"completed"} = 1',
    'mlops.runs {"model":"churn","state":"failed"} = 1',
  ]);
});

it('when the send fails, then nothing is counted and the publish span is an error', async () => {
  const { sender } = fakeSender(true);
  await expect(new ServiceBusEventPublisher(sender).publish(completed)).rejects.toThrow('broker down');
  expect(await counted()).toEqual([]);
  expect(captured.exporter.getFinishedSpans().map((s) => [s.name, s.status.code])).toEqual([['publish run.completed', 2]]);
});

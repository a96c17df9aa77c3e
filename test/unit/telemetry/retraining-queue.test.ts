/**
 * The retraining queue's telemetry, over a fake sender: each request is sent under a producer
 * span, child of the active span (the drift monitor's invocation), and the message carries that
 * span's traceparent as `traceparent` and `Diagnostic-Id`, beside its own properties.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import { ServiceBusRetrainingQueue } from '../../../shared/adapters/servicebus/retraining-queue';
import { aRetrainingRequest } from '../../support/labelled-data';
import { recordingSender } from '../../support/recording-sender';
import { captureSpansInFile } from '../../support/span-capture';

const captured = captureSpansInFile();

const fakeSender = (fail = false) => recordingSender('retraining-requests', { fail });

it('when a request is enqueued under a span, then the message carries its publish span, a child of that span', async () => {
  const { sender, sent } = fakeSender();
  const parent = trace.getTracer('test').startSpan('driftMonitor');
  const { messageId } = await context.with(trace.setSpan(context.active(), parent), () => new ServiceBusRetrainingQueue(sender).enqueue(aRetrainingRequest('churn', 2, '20260601T0000Z')));
  parent.end();
  const [publish, ...others] = captured.exporter.getFinishedSpans().filter((s) => s.name.startsWith('publish '));
  expect(others).toEqual([]);
  expect(publish!.name).toBe('publish retraining.requested');
  expect(publish!.kind).toBe(SpanKind.PRODUCER);
  expect(publish!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  expect(publish!.attributes).toMatchObject({ 'messaging.destination.name': 'retraining-requests', 'messaging.message.id': messageId, 'mlops.model': 'churn' });
  const traceparent = `00-${parent.spanContext().traceId}-${publish!.spanContext().spanId}-01`;
  expect(sent[0]!.applicationProperties).toEqual({ model: 'churn', version: 2, reason: 'drift', window: '20260601T0000Z', traceparent, 'Diagnostic-Id': traceparent });
});

it('when the send fails, then the error is thrown and the publish span ends failed', async () => {
  const { sender } = fakeSender(true);
  await expect(new ServiceBusRetrainingQueue(sender).enqueue(aRetrainingRequest('churn', 2, '20260601T0000Z'))).rejects.toThrow('broker down');
  expect(captured.exporter.getFinishedSpans().map((s) => [s.name, s.status.code])).toEqual([['publish retraining.requested', SpanStatusCode.ERROR]]);
});

/**
 * The per-invocation span (the pre/postInvocation hooks of functions/app-telemetry.ts) and the
 * producer span of a published message, against an in-memory captured.exporter.
 */
import { InvocationContext, PostInvocationContext, PreInvocationContext } from '@azure/functions';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import { endInvocationSpan, startInvocationSpan, traceFields, traceparentOf } from '../../../shared/adapters/telemetry/invocation';
import { tracedSend } from '../../../shared/adapters/telemetry/messaging';
import { captureSpansInFile } from '../../support/span-capture';

const captured = captureSpansInFile();

const HOST = '00-11111111111111111111111111111111-2222222222222222-01';
const CARRIED = '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01';


/** Runs one invocation through the hooks as the worker does; returns what the handler saw as active. */
async function invoke(triggerType: string, input: unknown, outcome: { result?: unknown; error?: unknown } = {}) {
  const invocationContext = new InvocationContext({
    functionName: 'fn',
    invocationId: 'inv-1',
    traceContext: { traceParent: HOST, traceState: '', attributes: {} },
    options: { trigger: { type: triggerType, name: 'trigger' } },
  });
  let activeInHandler: string | undefined;
  const pre = new PreInvocationContext({
    invocationContext,
    inputs: [input],
    functionCallback: () => {
      activeInHandler = traceFields().traceparent;
      return Promise.resolve(outcome.result);
    },
    hookData: {},
  });
  startInvocationSpan(pre);
  await pre.functionHandler(input, invocationContext);
  endInvocationSpan(new PostInvocationContext({ invocationContext, inputs: [input], result: outcome.result, error: outcome.error, hookData: pre.hookData }));
  const [span, ...more] = captured.exporter.getFinishedSpans();
  expect(more).toEqual([]);
  return { span: span!, activeInHandler };
}

describe('invocation spans', () => {
  it('when an HTTP request is invoked, then its span is a server span under the host trace context, active in the handler', async () => {
    const { span, activeInHandler } = await invoke('httpTrigger', {});
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe('11111111111111111111111111111111');
    expect(span.parentSpanContext?.spanId).toBe('2222222222222222');
    expect(span.links).toEqual([]);
    expect(activeInHandler).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(span.attributes).toMatchObject({ 'faas.trigger': 'http', 'faas.invocation_id': 'inv-1', 'faas.name': 'fn' });
  });

  it('when an activity input carries a traceparent (as an object or as JSON text), then the span is under it and links the host context', async () => {
    for (const input of [{ model: 'm', traceparent: CARRIED }, JSON.stringify({ model: 'm', traceparent: CARRIED })]) {
      const { span } = await invoke('activityTrigger', input);
      expect(span.spanContext().traceId).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
      expect(span.parentSpanContext?.spanId).toBe('bbbbbbbbbbbbbbbb');
      expect(span.links.map((l) => l.context.spanId)).toEqual(['2222222222222222']);
      captured.exporter.reset();
    }
  });

  it("when an orchestrator's input carries a traceparent, then its episode's span is under it", async () => {
    const { span } = await invoke('orchestrationTrigger', { history: [], instanceId: 'i', input: { runId: 'r', traceparent: CARRIED } });
    expect(span.name).toBe('orchestration fn');
    expect(span.spanContext().traceId).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  });

  it('when the carried traceparent is malformed, or another trigger carries one, then the host context is the parent', async () => {
    for (const [type, input] of [['activityTrigger', { traceparent: '00-zz-1-01' }], ['blobTrigger', { traceparent: CARRIED }]] as const) {
      const { span } = await invoke(type, input);
      expect(span.spanContext().traceId).toBe('11111111111111111111111111111111');
      captured.exporter.reset();
    }
  });

  it("when the handler throws, or an activity returns its expected failure, then the span's status is an error", async () => {
    const thrown = await invoke('blobTrigger', {}, { error: new Error('boom') });
    expect(thrown.span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(thrown.span.events.map((e) => e.name)).toEqual(['exception']);
    captured.exporter.reset();
    const failed = await invoke('activityTrigger', {}, { result: { ok: false, code: 'NOT_FOUND', message: 'no model' } });
    expect(failed.span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'NOT_FOUND' });
    captured.exporter.reset();
    const ok = await invoke('activityTrigger', {}, { result: { ok: true, value: 1 } });
    expect(ok.span.status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe('published messages', () => {
  it('when a message is sent under a span, then it carries its producer span as traceparent and Diagnostic-Id', () => {
    const parent = trace.getTracer('test').startSpan('parent');
    const send = context.with(trace.setSpan(context.active(), parent), () => tracedSend('model-events', 'run.completed', { 'messaging.message.id': 'e1' }));
    send.end();
    parent.end();
    const producer = captured.exporter.getFinishedSpans().find((s) => s.name === 'publish run.completed')!;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    const expected = `00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01`;
    expect(send.properties).toEqual({ traceparent: expected, 'Diagnostic-Id': expected });
  });

  it('when nothing is traced (no provider), then a message carries no trace properties and no durable input a traceparent', () => {
    trace.disable();
    try {
      expect(tracedSend('model-events', 'run.completed', {}).properties).toEqual({});
      expect(traceFields()).toEqual({});
      expect(traceparentOf()).toBeUndefined();
    } finally {
      captured.provider.register();
    }
  });
});

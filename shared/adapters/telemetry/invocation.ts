import type { InvocationContext, PostInvocationContext, PreInvocationContext } from '@azure/functions';
import { type Context, context as otelContext, defaultTextMapGetter, defaultTextMapSetter, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { z } from 'zod';

import { traceparentSchema } from '../../schemas/common';

export const TRACER_NAME = 'mlops-lifecycle-backend';
const SPAN_KEY = 'mlops.telemetry.span';
/** W3C trace context itself, not the global propagator: what crosses a boundary must not depend on how the process set OpenTelemetry up. */
const w3c = new W3CTraceContextPropagator();

/**
 * A traceparent the invocation's input carries, which wins over the host's: durable inputs carry
 * the span that started the run (orchestrators are replayed, so the run's trace is passed through
 * their inputs deterministically rather than made in orchestrator code).
 */
const activityInputSchema = z.object({ traceparent: traceparentSchema });
const orchestrationInputSchema = z.object({ input: activityInputSchema });

function carriedTraceparent(triggerType: string, input: unknown): string | undefined {
  let value = input;
  // The worker may hand the durable payload over as JSON text.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (triggerType === 'activitytrigger') return activityInputSchema.safeParse(value).data?.traceparent;
  if (triggerType === 'orchestrationtrigger') return orchestrationInputSchema.safeParse(value).data?.input.traceparent;
  return undefined;
}

function fromTraceparent(traceparent: string | null | undefined, tracestate?: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent, ...(tracestate ? { tracestate } : {}) }, defaultTextMapGetter);
}

const KINDS: Record<string, SpanKind> = {
  httptrigger: SpanKind.SERVER,
  blobtrigger: SpanKind.CONSUMER,
  servicebustrigger: SpanKind.CONSUMER,
  eventgridtrigger: SpanKind.CONSUMER,
};

const FAAS_TRIGGERS: Record<string, string> = {
  httptrigger: 'http',
  blobtrigger: 'datasource',
  servicebustrigger: 'pubsub',
  eventgridtrigger: 'pubsub',
  timertrigger: 'timer',
};

/**
 * preInvocation: one span per invocation, parented on the traceparent the input carries (durable)
 * or the host's trace context, and made the active context of the handler so that what the handler
 * does (events it publishes, durable inputs it writes) is traced under it. An orchestrator's span
 * covers one episode (one replay), not the whole orchestration.
 */
export function startInvocationSpan(hook: PreInvocationContext): void {
  const invocation = hook.invocationContext;
  const triggerType = invocation.options.trigger.type.toLowerCase();
  const host = invocation.traceContext;
  const carried = carriedTraceparent(triggerType, hook.inputs[0]);
  const hostContext = fromTraceparent(host?.traceParent, host?.traceState);
  const hostSpan = trace.getSpanContext(hostContext);
  // The host's context is still recorded, as a link, when the carried one wins.
  const links: Link[] = carried && hostSpan ? [{ context: hostSpan }] : [];
  const parent = carried ? fromTraceparent(carried) : hostContext;
  const span = trace.getTracer(TRACER_NAME).startSpan(
    triggerType === 'orchestrationtrigger' ? `orchestration ${invocation.functionName}` : invocation.functionName,
    {
      kind: KINDS[triggerType] ?? SpanKind.INTERNAL,
      links,
      attributes: {
        'faas.name': invocation.functionName,
        'faas.invocation_id': invocation.invocationId,
        'faas.trigger': FAAS_TRIGGERS[triggerType] ?? 'other',
        'azure.functions.trigger_type': triggerType,
      },
    },
    parent,
  );
  hook.hookData[SPAN_KEY] = span;
  const active = trace.setSpan(parent, span);
  const handler = hook.functionHandler;
  hook.functionHandler = (input: unknown, ctx: InvocationContext): unknown => otelContext.with(active, () => handler(input, ctx) as unknown);
}

/** postInvocation: ends the span, an error (or an activity's expected failure, `{ ok: false }`) marking it failed. */
export function endInvocationSpan(hook: PostInvocationContext): void {
  const span = hook.hookData[SPAN_KEY] as Span | undefined;
  if (!span) return;
  if (hook.error != null) {
    const error = asError(hook.error);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    const failure = z.object({ ok: z.literal(false), code: z.string() }).safeParse(hook.result);
    if (failure.success) span.setStatus({ code: SpanStatusCode.ERROR, message: failure.data.code });
  }
  span.end();
}

/** A context's W3C traceparent, to carry across a boundary; undefined when nothing is traced there. */
export function traceparentOf(context: Context = otelContext.active()): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(context, carrier, defaultTextMapSetter);
  return traceparentSchema.safeParse(carrier.traceparent).data;
}

/** The active span's traceparent as a durable input field (spread into the input; empty when untraced). */
export function traceFields(): { traceparent?: string } {
  const traceparent = traceparentOf();
  return traceparent ? { traceparent } : {};
}

/** What was thrown, as an Error to record. */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

import { context as otelContext, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

import { asError, traceparentOf,TRACER_NAME } from './invocation';

/** A message's send, traced: its span and the application properties that carry it to consumers. */
export interface TracedSend {
  /** `traceparent` and `Diagnostic-Id` (what the Azure SDK and the Functions Service Bus extension read), or nothing when untraced. */
  properties: Record<string, string>;
  end(error?: unknown): void;
}

/**
 * Starts a PRODUCER span for one message published to `destination` under the active context; the
 * message carries the span's traceparent so that a consumer continues the same trace.
 */
export function tracedSend(destination: string, operation: string, attributes: Record<string, string | number>): TracedSend {
  const span: Span = trace.getTracer(TRACER_NAME).startSpan(`publish ${operation}`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'servicebus', 'messaging.destination.name': destination, 'messaging.operation.type': 'publish', ...attributes },
  });
  const traceparent = traceparentOf(trace.setSpan(otelContext.active(), span));
  return {
    properties: traceparent ? { traceparent, 'Diagnostic-Id': traceparent } : {},
    end(error?: unknown) {
      if (error !== undefined) {
        span.recordException(asError(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/** Runs the sends, ending every message's span with its outcome (the error, rethrown, when they fail). */
export async function endingSpans(sends: readonly TracedSend[], work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    for (const s of sends) s.end(error);
    throw error;
  }
  for (const s of sends) s.end();
}

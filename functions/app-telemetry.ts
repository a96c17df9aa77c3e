/**
 * Tracing: the provider TELEMETRY_EXPORTER names is installed on appStart (before the first
 * invocation; loading the app reads no settings, so a bad one fails invocations, not the listing
 * of functions), and every invocation gets a span (shared/adapters/telemetry/invocation.ts).
 * Written instead of @azure/functions-opentelemetry-instrumentation (0.2.0): that one patches
 * @azure/functions at require time, is built on an older OpenTelemetry generation, only binds the
 * handler to the host's trace context (no span of its own) and knows nothing of durable inputs.
 * The provider is flushed on appTerminate (functions/app-lifecycle.ts).
 */
import { app } from '@azure/functions';

import { endInvocationSpan, startInvocationSpan } from '../shared/adapters/telemetry/invocation';
import { setupTelemetry } from '../shared/adapters/telemetry/tracing';
import { config } from '../shared/config';

app.hook.appStart(() => setupTelemetry(config()));
app.hook.preInvocation(startInvocationSpan);
app.hook.postInvocation(endInvocationSpan);

/**
 * Tracing: the provider TELEMETRY_EXPORTER names is installed when the worker loads the app, and
 * every invocation gets a span (shared/adapters/telemetry/invocation.ts). A small equivalent of
 * @azure/functions-opentelemetry-instrumentation, which patches the module at require time (and
 * is built on an older OpenTelemetry generation) and makes no span of its own. The provider is
 * flushed on appTerminate (functions/app-lifecycle.ts).
 */
import { app } from '@azure/functions';

import { endInvocationSpan, startInvocationSpan } from '../shared/adapters/telemetry/invocation';
import { setupTelemetry } from '../shared/adapters/telemetry/tracing';
import { config } from '../shared/config';

setupTelemetry(config());
app.hook.preInvocation(startInvocationSpan);
app.hook.postInvocation(endInvocationSpan);

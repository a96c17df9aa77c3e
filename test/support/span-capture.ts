/**
 * Spans a test makes, captured in memory: a tracer provider with an in-memory exporter,
 * registered as the global one. `stop` shuts it down and leaves the global OpenTelemetry API as it
 * was, so the next test file starts with nothing registered.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface SpanCapture {
  exporter: InMemorySpanExporter;
  provider: NodeTracerProvider;
  stop(): Promise<void>;
}

export function captureSpans(): SpanCapture {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    exporter,
    provider,
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * captureSpans for a whole test file: registered before its first test, emptied after each,
 * stopped after the last. Read `exporter` (and `provider`) inside tests.
 */
export function captureSpansInFile(): { readonly exporter: InMemorySpanExporter; readonly provider: NodeTracerProvider } {
  let capture: SpanCapture | undefined;
  beforeAll(() => {
    capture = captureSpans();
  });
  afterEach(() => capture?.exporter.reset());
  afterAll(() => capture?.stop());
  return {
    get exporter() {
      return capture!.exporter;
    },
    get provider() {
      return capture!.provider;
    },
  };
}

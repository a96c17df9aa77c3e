/**
 * Metrics a test records, read back in memory: a meter provider with a reader that only collects
 * on demand, registered as the global one before each test of the file and shut down after it, so
 * every test starts from zero and the next file finds nothing registered.
 */
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Read `reader` (its `collect()`) inside tests. */
export function captureMetricsInFile(): { readonly reader: MetricReader } {
  const capture = { reader: new CollectingReader() as MetricReader };
  let meters: MeterProvider | undefined;
  beforeEach(() => {
    capture.reader = new CollectingReader();
    meters = new MeterProvider({ readers: [capture.reader] });
    metrics.setGlobalMeterProvider(meters);
  });
  afterEach(async () => {
    await meters?.shutdown();
    metrics.disable();
  });
  return capture;
}

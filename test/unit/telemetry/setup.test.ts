/** setupTelemetry per TELEMETRY_EXPORTER: `none` installs nothing, `console` prints every span, once per process. */
import { context, metrics, propagation, trace } from '@opentelemetry/api';

import { setupTelemetry, shutdownTelemetry } from '../../../shared/adapters/telemetry/tracing';

afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
  metrics.disable();
});

it('when the exporter is none, then no provider is installed; when console, then each span is printed as it ends, until shutdown', async () => {
  const dir = jest.spyOn(console, 'dir').mockImplementation(() => undefined);
  try {
    setupTelemetry({ TELEMETRY_EXPORTER: 'none' });
    expect(trace.getTracer('t').startSpan('unseen').isRecording()).toBe(false);
    let fresh: typeof import('../../../shared/adapters/telemetry/tracing') | undefined;
    // A fresh module: setup runs once per process, and the one above already ran.
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      fresh = require('../../../shared/adapters/telemetry/tracing') as typeof fresh;
    });
    fresh!.setupTelemetry({ TELEMETRY_EXPORTER: 'console' });
    fresh!.setupTelemetry({ TELEMETRY_EXPORTER: 'console' });
    trace.getTracer('t').startSpan('printed').end();
    expect(dir).toHaveBeenCalledTimes(1);
    expect(dir.mock.calls[0]![0]).toMatchObject({ name: 'printed' });
    await fresh!.shutdownTelemetry();
    trace.getTracer('t').startSpan('after shutdown').end();
    expect(dir).toHaveBeenCalledTimes(1);
    await shutdownTelemetry();
  } finally {
    dir.mockRestore();
  }
});

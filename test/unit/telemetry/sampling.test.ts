/**
 * TELEMETRY_SAMPLING_RATIO: validated as a share (0 to 1, default 1) and given to
 * @azure/monitor-opentelemetry as its sampling ratio, with the rate limiter (its default) off.
 */
import { useAzureMonitor } from '@azure/monitor-opentelemetry';

import { setupTelemetry } from '../../../shared/adapters/telemetry/tracing';
import { configSchema } from '../../../shared/config';

jest.mock('@azure/monitor-opentelemetry', () => ({ useAzureMonitor: jest.fn(), shutdownAzureMonitor: jest.fn(() => Promise.resolve()) }));

it('when the ratio is not set, then it is 1; when it is outside 0..1, empty or not a number, then the setting is refused', () => {
  const ratio = configSchema.shape.TELEMETRY_SAMPLING_RATIO;
  expect(ratio.parse(undefined)).toBe(1);
  expect(ratio.parse('0.25')).toBe(0.25);
  expect(ratio.parse('0')).toBe(0);
  expect(ratio.parse('1.0')).toBe(1);
  for (const bad of ['1.5', '-0.1', 'half', '', '2']) expect(ratio.safeParse(bad).success).toBe(false);
});

it('when the exporter is azure-monitor, then useAzureMonitor gets the ratio with tracesPerSecond 0 (else its rate limiter wins)', () => {
  setupTelemetry({ TELEMETRY_EXPORTER: 'azure-monitor', APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000', TELEMETRY_SAMPLING_RATIO: 0.25 });
  expect(useAzureMonitor).toHaveBeenCalledTimes(1);
  expect(jest.mocked(useAzureMonitor).mock.calls[0]![0]).toMatchObject({ samplingRatio: 0.25, tracesPerSecond: 0 });
});

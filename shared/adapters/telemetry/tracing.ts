import { shutdownAzureMonitor, useAzureMonitor } from '@azure/monitor-opentelemetry';
import { metrics } from '@opentelemetry/api';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import type { AppConfig } from '../../config';
import { azureCredential } from '../azure-credential';

let shutdown: (() => Promise<void>) | undefined;
let started = false;

/**
 * Installs the process's OpenTelemetry tracer and meter providers once, as TELEMETRY_EXPORTER says. With
 * `none` it installs nothing: spans go to a provider the process registered itself (a test's
 * in-memory one) or nowhere.
 */
export function setupTelemetry(
  settings: Pick<AppConfig, 'TELEMETRY_EXPORTER' | 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'> & Partial<Pick<AppConfig, 'TELEMETRY_SAMPLING_RATIO'>>,
): void {
  if (started) return;
  started = true;
  switch (settings.TELEMETRY_EXPORTER) {
    case 'none':
      return;
    case 'console': {
      // Simple (not batched): locally every span is printed when it ends, nothing waits for a flush.
      const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
      provider.register();
      // Metrics (shared/adapters/telemetry/metrics.ts) are printed every 10 s.
      const meters = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 10_000 })] });
      metrics.setGlobalMeterProvider(meters);
      shutdown = async () => {
        await Promise.all([provider.shutdown(), meters.shutdown()]);
      };
      return;
    }
    case 'azure-monitor': {
      // Traces and metrics (and the HTTP and Azure SDK instrumentations). On Azure the key-based ingestion is off: with Authorization=AAD the exporter uses the app's identity.
      const aad = /Authorization=AAD/i.test(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '');
      useAzureMonitor({
        ...azureMonitorSampling(settings.TELEMETRY_SAMPLING_RATIO ?? 1),
        azureMonitorExporterOptions: {
          connectionString: settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
          ...(aad ? { credential: azureCredential() } : {}),
        },
      });
      shutdown = shutdownAzureMonitor;
      return;
    }
  }
}

/**
 * The sampler options for @azure/monitor-opentelemetry: a fixed share of traces, by trace id (a
 * trace is kept or dropped whole). Its default is a rate limit (5 traces a second); it takes
 * `samplingRatio` only with `tracesPerSecond` 0, so both are given.
 */
export function azureMonitorSampling(ratio: number): { samplingRatio: number; tracesPerSecond: number } {
  return { samplingRatio: ratio, tracesPerSecond: 0 };
}

/** Flushes and stops the provider setupTelemetry installed (the host runs this on appTerminate). */
export async function shutdownTelemetry(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.();
}
